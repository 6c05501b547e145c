"""The customer profile page (用户画像) and the selectors behind it, checked against
figures computed here from the rows the test created."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from customers.models import Order
from customers.selectors import customer_order_summary, customer_timeline
from tests.factories import (
    BASE_TIME,
    CustomerFactory,
    EventFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ReviewFactory,
)

pytestmark = pytest.mark.django_db

EVENT = re.compile(r'data-event="([^"]+)"')
ORDER = re.compile(r'data-order="([^"]+)"')


@pytest.fixture
def shopper():
    return CustomerFactory(
        external_id="shopper-1",
        name="Lin Mei",
        email="lin@example.cn",
        phone="+86 13800000001",
        gender="female",
        birth_date=dt.date(1991, 4, 5),
        country="CN",
        region="Zhejiang",
        city="Hangzhou",
        occupation="Designer",
        member_tier="gold",
        email_opt_in=True,
        email_opt_in_at=dt.datetime(2023, 3, 4, 5, 6, tzinfo=dt.UTC),
        sms_opt_in=False,
        sms_opt_in_at=dt.datetime(2023, 8, 9, 10, 11, tzinfo=dt.UTC),
        attributes={"favourite_colour": "teal", "source": "wechat"},
    )


@pytest.fixture
def order_history(shopper):
    totals = ["19.90", "250.00", "88.10", "5.55", "1000.45"] * 5
    orders = [
        OrderFactory(customer=shopper, total=Decimal(total), ordered_at=BASE_TIME + dt.timedelta(days=index))
        for index, total in enumerate(totals)
    ]
    orders.append(OrderFactory(customer=shopper, total=Decimal("999"), status=Order.Status.CANCELLED))
    orders.append(OrderFactory(customer=shopper, total=Decimal("70"), status=Order.Status.RETURNED))
    OrderFactory(total=Decimal("12345"))  # someone else's order
    return orders


def test_order_summary_matches_independent_totals(shopper, order_history):
    placed = [order for order in order_history if order.status == Order.Status.PLACED]
    spend = sum((Decimal(str(order.total)) for order in placed), Decimal("0"))
    summary = customer_order_summary(shopper)
    assert summary.order_count == 25
    assert summary.total_spend == spend == Decimal("6820.00")
    assert summary.average_order_value == Decimal("272.80")
    assert summary.first_order_at == min(order.ordered_at for order in placed)
    assert summary.last_order_at == max(order.ordered_at for order in placed)
    assert (summary.cancelled_count, summary.returned_count, summary.currency) == (1, 1, "CNY")


def test_order_summary_without_orders_and_with_mixed_currencies():
    newcomer = CustomerFactory()
    summary = customer_order_summary(newcomer)
    assert (summary.order_count, summary.total_spend, summary.average_order_value) == (0, Decimal("0.00"), None)
    assert summary.first_order_at is None and summary.last_order_at is None
    OrderFactory(customer=newcomer, total=Decimal("10"), currency="CNY")
    OrderFactory(customer=newcomer, total=Decimal("5"), currency="USD")
    OrderFactory(customer=newcomer, total=Decimal("5"), currency="USD")
    summary = customer_order_summary(newcomer)
    assert summary.currency == "" and summary.average_order_value == Decimal("6.67")


def test_profile_page_shows_everything(client, viewer, shopper, order_history):
    mug = ProductFactory(sku="MUG-1", name="Teal mug", price=Decimal("25.00"))
    latest = max(order_history, key=lambda order: order.ordered_at)
    OrderLineFactory(order=latest, product=mug, quantity=3, unit_price=Decimal("24.50"))
    ReviewFactory(customer=shopper, product=mug, rating=4, language="zh", text="质量很好，物流很快")
    ReviewFactory(customer=shopper, product=None, sku="GONE-1", rating=2, language="en", text="Arrived late")
    EventFactory(customer=shopper, type="search", query="teal mug")
    client.force_login(viewer)

    html = client.get("/customers/shopper-1/").content.decode()

    for text in ["Lin Mei", "lin@example.cn", "+86 13800000001", "Female", "Zhejiang", "Hangzhou", "Designer",
                 "gold", "favourite_colour", "teal", "wechat"]:  # fmt: skip
        assert text in html, text
    consent = html[html.index('data-testid="profile-consent"') :]
    assert "Given" in consent and "Not given" in consent and "2023" in consent
    assert 'data-testid="total-spend">6820.00 CNY' in html
    assert 'data-testid="order-count">25<' in html
    assert 'data-testid="average-order-value">272.80 CNY' in html
    newest_20 = sorted(order_history, key=lambda order: order.ordered_at, reverse=True)[:20]
    assert ORDER.findall(html) == [order.external_id for order in newest_20]
    assert "3 × Teal mug" in html and "24.50" in html
    assert "质量很好，物流很快" in html and "4/5" in html and "Chinese" in html
    assert "Arrived late" in html and "2/5" in html and "GONE-1" in html
    assert "teal mug" in html
    scores = html[html.index('data-testid="scores-segments"') :]
    assert "Scores and segments" in scores and "once they have been computed" in scores


def test_timeline_newest_first_and_load_more(client, viewer, shopper):
    events = [EventFactory(customer=shopper, occurred_at=BASE_TIME + dt.timedelta(minutes=n % 40)) for n in range(60)]
    EventFactory(occurred_at=BASE_TIME + dt.timedelta(days=9))  # another customer's
    expected = [event.external_id for event in sorted(events, key=lambda e: (e.occurred_at, e.pk), reverse=True)]
    client.force_login(viewer)

    html = client.get("/customers/shopper-1/").content.decode()
    assert EVENT.findall(html) == expected[:50]
    more = re.search(r'hx-get="([^"]+)"\s+hx-target="closest li"', html).group(1).replace("&amp;", "&")

    fragment = client.get(more, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert EVENT.findall(fragment) == expected[50:]
    assert "timeline-more" not in fragment

    plain = client.get(more).content.decode()  # without JavaScript: the whole page, older events
    assert "<html" in plain and EVENT.findall(plain) == expected[50:]


def test_timeline_selector_pages(shopper):
    for n in range(7):
        EventFactory(customer=shopper, occurred_at=BASE_TIME + dt.timedelta(hours=n // 2))
    seen, cursor = [], None
    while True:
        page = customer_timeline(shopper, before=cursor, limit=3)
        seen += [(event.occurred_at, event.pk) for event in page.events]
        if not (cursor := page.next_cursor):
            break
    assert len(seen) == 7 and seen == sorted(seen, reverse=True)


def test_profile_access(client, viewer, shopper):
    url = "/customers/shopper-1/"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(viewer)
    assert client.get(url).status_code == 200
    assert client.get("/customers/no-such-customer/").status_code == 404


def test_profile_page_query_count_does_not_grow_with_orders(client, viewer, shopper, order_history,
                                                           django_assert_max_num_queries):  # fmt: skip
    for order in order_history[:20]:
        OrderLineFactory(order=order)
    client.force_login(viewer)
    with django_assert_max_num_queries(16):  # 14, plus the member-tier panel's tiers and history
        assert client.get("/customers/shopper-1/").status_code == 200
