"""The demo data generator: reproducible, internally consistent and behaving as simulated.

Each test checks the written rows against an independent expectation (plain Python over
the ORM), not against the generator's own bookkeeping.
"""

import datetime as dt
import hashlib
import io
import re
from collections import Counter, defaultdict
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from customers.demo import reviews_text
from customers.demo.behaviour import CHURN_MIN_DAYS, NEW_CUSTOMER_DAYS, ChunkNumbers, build_season, simulate_chunk
from customers.demo.catalogue import build_catalogue
from customers.demo.generator import demo_data_generate
from customers.models import Customer, Event, Order, OrderLine, Product, Review

END = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
N = 300
CJK = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def generate(seed: int = 11, customers: int = N, **options):
    return demo_data_generate(customers=customers, seed=seed, end=END, flush=True, **options)


@pytest.fixture
def demo(db):
    return generate()


def checksum() -> str:
    digest = hashlib.sha256()
    for model in (Customer, Product, Order, OrderLine, Event, Review):
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.order_by("id").values_list(*fields):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.mark.django_db
def test_same_seed_writes_identical_rows_and_another_seed_does_not():
    generate(seed=5)
    first = checksum()
    generate(seed=5)
    assert checksum() == first
    generate(seed=6)
    assert checksum() != first


def test_counts_are_near_the_requested_size(demo):
    assert Customer.objects.count() == N == demo.counts["customers"]
    assert Product.objects.count() == demo.counts["products"] >= 300
    orders, events = Order.objects.count(), Event.objects.count()
    assert 5 * N <= orders <= 15 * N
    assert 10 * N <= events <= 40 * N  # bounded: ~20–30M events at a million customers
    assert demo.counts["orders"] == orders and demo.counts["events"] == events
    assert len(set(Product.objects.values_list("category", flat=True))) == 10


def test_order_total_is_sum_of_lines_minus_discount(demo):
    subtotal: dict[int, Decimal] = defaultdict(Decimal)
    line_count: Counter = Counter()
    for order_id, quantity, unit_price in OrderLine.objects.values_list("order_id", "quantity", "unit_price"):
        subtotal[order_id] += quantity * unit_price
        line_count[order_id] += 1
    orders = list(Order.objects.values_list("id", "total", "coupon_code", "attributes"))
    assert orders
    for order_id, total, coupon, attributes in orders:
        discount = Decimal(attributes["discount"])
        assert total == subtotal[order_id] - discount
        assert 1 <= line_count[order_id] <= 4
        assert (discount > 0) == bool(coupon)


def test_bargain_hunters_use_coupons_more(demo):
    share = {}
    for archetype in ("bargain_hunter", "loyal"):
        orders = Order.objects.filter(customer__attributes__archetype=archetype)
        share[archetype] = orders.exclude(coupon_code="").count() / max(orders.count(), 1)
    assert share["bargain_hunter"] > 0.5 > share["loyal"]


def test_currency_follows_country(demo):
    expected = {"CN": "CNY", "US": "USD", "CA": "USD", "AU": "USD", "GB": "GBP", "DE": "EUR", "FR": "EUR"}
    for country, currency in Order.objects.values_list("customer__country", "currency").distinct():
        assert expected[country] == currency


def test_every_purchase_event_matches_an_order(demo):
    orders = {o.external_id: o for o in Order.objects.all()}
    purchases = list(Event.objects.filter(type="purchase"))
    assert purchases
    for event in purchases:
        order = orders[event.properties["order_id"]]
        assert order.customer_id == event.customer_id
        assert order.ordered_at == event.occurred_at
        assert Decimal(event.properties["total"]) == order.total
    window_start = END - dt.timedelta(days=180)
    in_window = {o.external_id for o in orders.values() if o.ordered_at >= window_start}
    assert Counter(e.properties["order_id"] for e in purchases) == Counter(in_window)


def test_funnel_narrows_from_views_to_carts_to_purchases(demo):
    counts = Counter(Event.objects.values_list("type", flat=True))
    assert counts["view"] > counts["add_to_cart"] > counts["purchase"] > 0
    assert counts["search"] > 0 and counts["favorite"] > 0 and counts["page"] > 0
    assert Event.objects.filter(type="search", query="").count() == 0
    assert Event.objects.filter(type="page", path="").count() == 0
    # Every purchased line was put in the cart by the same customer shortly before.
    carts = set(Event.objects.filter(type="add_to_cart").values_list("customer_id", "sku"))
    window_start = END - dt.timedelta(days=180)
    bought = OrderLine.objects.filter(order__ordered_at__gte=window_start).values_list(
        "order__customer_id", "product__sku"
    )
    assert set(bought) <= carts


def test_review_rating_agrees_with_the_phrases_used(demo):
    negative = {lang: [p.lower() for p in reviews_text.phrases(lang, reviews_text.NEGATIVE)] for lang in ("en", "zh")}
    positive = {lang: [p.lower() for p in reviews_text.phrases(lang, reviews_text.POSITIVE)] for lang in ("en", "zh")}
    reviews = list(Review.objects.select_related("customer"))
    assert {r.rating for r in reviews} == {1, 2, 3, 4, 5}
    for review in reviews:
        text = review.text.lower()
        has_neg = any(p in text for p in negative[review.language])
        has_pos = any(p in text for p in positive[review.language])
        if review.rating >= 4:
            assert has_pos and not has_neg, review.text
        elif review.rating <= 2:
            assert has_neg and not has_pos, review.text
        else:
            assert has_pos and has_neg, review.text
        assert review.language == ("zh" if review.customer.country == "CN" else "en")


def test_reviews_are_on_products_the_customer_bought(demo):
    bought = set(OrderLine.objects.values_list("order__customer_id", "product_id"))
    for customer_id, product_id, created_at in Review.objects.values_list("customer_id", "product_id", "created_at"):
        assert (customer_id, product_id) in bought
        assert created_at <= END
    assert all(Review.objects.values_list("sku", flat=True))


def test_phrase_banks_never_contain_the_other_polarity():
    for lang in reviews_text.LANGUAGES:
        positive = [p.lower() for p in reviews_text.phrases(lang, reviews_text.POSITIVE)]
        negative = [p.lower() for p in reviews_text.phrases(lang, reviews_text.NEGATIVE)]
        for pos in positive:
            assert not any(neg in pos for neg in negative), pos
        for neg in negative:
            assert not any(pos in neg for pos in positive), neg


def test_archetypes_behave_as_labelled(demo):
    archetype = dict(Customer.objects.values_list("id", "attributes__archetype"))
    assert set(archetype.values()) == {"loyal", "bargain_hunter", "occasional", "new", "drifting", "churned"}
    last_order: dict[int, dt.datetime] = {}
    per_customer: Counter = Counter()
    for customer_id, ordered_at in Order.objects.values_list("customer_id", "ordered_at"):
        per_customer[customer_id] += 1
        last_order[customer_id] = max(last_order.get(customer_id, ordered_at), ordered_at)
    churn_cutoff = END - dt.timedelta(days=CHURN_MIN_DAYS)
    churned = [c for c, a in archetype.items() if a == "churned"]
    assert churned
    for customer_id in churned:
        assert customer_id in last_order  # churned customers used to buy ...
        assert last_order[customer_id] < churn_cutoff  # ... and stopped

    def mean_orders(name: str) -> float:
        ids = [c for c, a in archetype.items() if a == name]
        return sum(per_customer[c] for c in ids) / len(ids)

    assert mean_orders("loyal") > 2 * mean_orders("occasional")
    new_cutoff = END - dt.timedelta(days=NEW_CUSTOMER_DAYS)
    assert all(
        s >= new_cutoff
        for s in Customer.objects.filter(attributes__archetype="new").values_list("signed_up_at", flat=True)
    )
    # Drifting customers bought at a lower rate in the last 60 days than in the year before.
    recent = END - dt.timedelta(days=60)
    year_before = recent - dt.timedelta(days=365)
    drifting = Order.objects.filter(customer__attributes__archetype="drifting")
    per_day_recent = drifting.filter(ordered_at__gte=recent).count() / 60
    per_day_before = drifting.filter(ordered_at__gte=year_before, ordered_at__lt=recent).count() / 365
    assert per_day_recent < 0.6 * per_day_before


def test_chinese_customers_have_chinese_names_and_places(demo):
    customers = list(Customer.objects.all())
    chinese = [c for c in customers if c.country == "CN"]
    assert 0.5 * N < len(chinese) < 0.7 * N
    for c in chinese:
        assert CJK.match(c.name), c.name
        assert c.region.endswith(("省", "市", "自治区")) and CJK.match(c.city + "市" if len(c.city) == 1 else c.city)
        assert c.phone.startswith("+86 1") and c.email.endswith(
            ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com")
        )
    for c in customers:
        if c.country != "CN":
            assert re.match(r"^[^\u4e00-\u9fff]+ [^\u4e00-\u9fff]+$", c.name), c.name
            assert c.email.isascii() and "@" in c.email
        assert c.gender in {"female", "male", "other", ""}
        assert 17 <= (END.date() - c.birth_date).days / 365.25 <= 81
        assert c.occupation


def test_signup_precedes_orders_and_consent(demo):
    first_order: dict[int, dt.datetime] = {}
    for customer_id, ordered_at in Order.objects.values_list("customer_id", "ordered_at"):
        first_order[customer_id] = min(first_order.get(customer_id, ordered_at), ordered_at)
    for c in Customer.objects.all():
        assert c.signed_up_at <= END
        if c.id in first_order:
            assert c.signed_up_at <= first_order[c.id]
        if c.email_opt_in:
            assert c.email_opt_in_at is not None and c.email_opt_in_at >= c.signed_up_at
        if c.sms_opt_in:
            assert c.sms_opt_in_at is not None and c.sms_opt_in_at >= c.signed_up_at
    assert not Event.objects.filter(occurred_at__gt=END).exists()
    assert not Order.objects.filter(ordered_at__gt=END).exists()


def test_orm_inserts_work_after_the_load(demo):
    customer = Customer.objects.create(external_id="after-load")
    assert customer.id > Customer.objects.exclude(pk=customer.pk).order_by("-id").first().id
    order = Order.objects.create(external_id="after-load", customer=customer, ordered_at=END)
    OrderLine.objects.create(order=order, product=Product.objects.first(), quantity=1, unit_price=1)
    Event.objects.create(external_id="after-load", customer=customer, type="view", occurred_at=END)
    Review.objects.create(external_id="after-load", customer=customer, rating=5, created_at=END)


@pytest.mark.django_db
def test_a_second_run_without_flush_appends():
    generate(customers=40)
    demo_data_generate(customers=30, seed=12, end=END)
    assert Customer.objects.count() == 70
    assert Product.objects.count() == 350  # the catalogue is upserted, not duplicated
    assert Customer.objects.filter(external_id="C0000070").exists()


def test_seasonality_peaks_on_double_11_and_dips_at_chinese_new_year():
    """On the pure simulation: more customers than a DB test needs, still well under a second."""
    end = np.datetime64("2025-06-30")
    days = 3 * 365 + 30
    day0 = end - np.timedelta64(days, "D")
    chunk = simulate_chunk(
        np.random.default_rng(3),
        n_customers=5000,
        numbers=ChunkNumbers(1, 1, 1, 1, 1),
        season=build_season(day0, days),
        catalogue=build_catalogue(),
        event_days=180,
    )
    cn = set(chunk.customers.loc[chunk.customers["country"] == "CN", "number"])
    orders = chunk.orders[chunk.orders["customer_number"].isin(cn)]
    when = day0 + (orders["ordered_at"].to_numpy() * 86400).astype("timedelta64[s]") + np.timedelta64(8, "h")
    per_day = Counter(when.astype("datetime64[D]").astype(str))

    def mean(first: str, last: str) -> float:
        span = np.arange(np.datetime64(first), np.datetime64(last) + 1)
        return sum(per_day[str(d)] for d in span) / len(span)

    assert per_day["2024-11-11"] > 3 * mean("2024-10-01", "2024-10-31")
    assert mean("2025-01-27", "2025-02-04") < 0.7 * mean("2025-03-01", "2025-03-31")  # CNY 2025-01-29


def test_command_prints_progress_and_a_summary(db):
    out = io.StringIO()
    call_command("generate_demo", "--customers", "60", "--end-date", "2025-06-30", "--flush", stdout=out)
    text = out.getvalue()
    assert "chunk 1: 60/60 customers" in text and "rows/s" in text
    assert re.search(r"customers\s+60\b", text)
    assert Customer.objects.count() == 60


@pytest.mark.postgres
@pytest.mark.django_db
def test_rebuilding_indexes_restores_every_index_and_constraint():
    def schema() -> set:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'customers_%%'")
            indexes = set(cursor.fetchall())
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid::regclass::text LIKE 'customers_%%'"
            )
            return indexes | set(cursor.fetchall())

    before = schema()
    generate(customers=50, rebuild_indexes=True)
    assert schema() == before
    assert Customer.objects.count() == 50
