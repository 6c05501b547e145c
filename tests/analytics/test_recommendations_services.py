"""The recommender end to end on a small demo shop: stored top-N, no bought product
recommended, rules equal to plain counts over the orders, the selectors campaigns use,
the API's role rules, the page and the profile panel."""

import datetime as dt
from collections import defaultdict

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.roles import Role
from analytics.models import ProductAssociation, ProductRecommendation, RecommendationRun
from analytics.recommendations.selectors import customer_recommendations, frequently_bought_together
from analytics.recommendations.services import recommendations_fit
from customers.demo.generator import demo_data_generate
from customers.models import Customer, Order, OrderLine
from jobs.models import Job

DEMO_END = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def shop(db):
    return demo_data_generate(customers=300, seed=5, end=DEMO_END, flush=True)


@pytest.fixture
def fitted(shop) -> RecommendationRun:
    return recommendations_fit(as_of=DEMO_END, queue_features=False)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def bought_by_customer() -> dict[int, set[int]]:
    bought = defaultdict(set)
    lines = OrderLine.objects.filter(order__status=Order.Status.PLACED).values_list("order__customer_id", "product_id")
    for customer, product in lines:
        bought[customer].add(product)
    return bought


def test_fit_stores_at_most_ten_products_per_customer_none_already_bought(fitted):
    assert fitted.status == "succeeded" and fitted.active
    rows = list(ProductRecommendation.objects.values_list("run_id", "customer_id", "product_id", "rank", "source"))
    assert {row[0] for row in rows} == {fitted.pk}
    per_customer = defaultdict(list)
    for _run, customer, product, rank, _source in rows:
        per_customer[customer].append((rank, product))
    assert set(per_customer) == set(Customer.objects.values_list("pk", flat=True))  # cold ones get popular
    bought = bought_by_customer()
    for customer, ranked in per_customer.items():
        assert 1 <= len(ranked) <= 10
        assert sorted(rank for rank, _p in ranked) == list(range(1, len(ranked) + 1))
        assert not {product for _r, product in ranked} & bought[customer]
    assert {row[4] for row in rows} == {"similar", "popular"}
    figures = fitted.figures
    assert set(figures) == {"cf", "popularity"} and figures["cf"]["customers"] > 0
    assert figures["cf"]["customers"] == figures["popularity"]["customers"]
    assert 0 <= figures["popularity"]["precision"] <= figures["popularity"]["hit_rate"] <= 1


def test_rules_equal_plain_counts_over_the_orders(fitted):
    baskets = defaultdict(set)
    lines = OrderLine.objects.filter(order__status=Order.Status.PLACED).values_list("order_id", "product_id")
    for order, product in lines:
        baskets[order].add(product)
    n = len(baskets)
    rules = list(ProductAssociation.objects.filter(run=fitted))
    assert rules
    for rule in rules[:30]:
        antecedent = set(rule.antecedent_items)
        with_antecedent = sum(1 for basket in baskets.values() if antecedent <= basket)
        both = sum(1 for basket in baskets.values() if antecedent | {rule.consequent_id} <= basket)
        with_consequent = sum(1 for basket in baskets.values() if rule.consequent_id in basket)
        assert rule.baskets == both >= 3
        assert rule.support == pytest.approx(both / n)
        assert rule.confidence == pytest.approx(both / with_antecedent)
        assert rule.lift == pytest.approx(both / with_antecedent / (with_consequent / n))


def test_selectors_read_the_active_run(fitted):
    customer = ProductRecommendation.objects.filter(source="similar").values_list("customer_id", flat=True).first()
    rows = customer_recommendations(customer, 5)
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 5]
    assert {"sku", "name", "category", "price", "source", "score"} <= set(rows[0])
    rule = ProductAssociation.objects.filter(run=fitted, antecedent_size=1).order_by("-lift").first()
    together = frequently_bought_together(rule.antecedent_id, 3)
    assert together[0]["product_id"] == rule.consequent_id and together[0]["lift"] == pytest.approx(rule.lift)


def test_a_second_fit_replaces_the_first(fitted):
    second = recommendations_fit(as_of=DEMO_END, queue_features=False)
    assert RecommendationRun.objects.get(active=True) == second
    assert set(ProductRecommendation.objects.values_list("run_id", flat=True)) == {second.pk}


def test_viewer_reads_but_cannot_fit(fitted, viewer):
    client = client_for(viewer)
    body = client.get("/api/recommendations/").json()
    assert body["id"] == fitted.pk and body["figures"]["cf"]["hit_rate"] == fitted.figures["cf"]["hit_rate"]
    customer = ProductRecommendation.objects.values_list("customer_id", flat=True).first()
    rows = client.get(f"/api/recommendations/customers/{customer}/?limit=3").json()
    assert len(rows) == 3 and rows[0]["rank"] == 1
    rule = ProductAssociation.objects.filter(run=fitted, antecedent_size=1).first()
    assert client.get(f"/api/recommendations/products/{rule.antecedent_id}/together/").status_code == 200
    assert client.post("/api/recommendations/fit/", {}, format="json").status_code == 403
    assert client.get("/api/recommendations/customers/1/?limit=500").status_code == 400


@pytest.mark.parametrize("role", [Role.MARKETER, Role.ANALYST, Role.ADMIN])
def test_marketers_analysts_and_admins_fit_as_a_job(shop, make_user, role, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(make_user(role)).post("/api/recommendations/fit/", {}, format="json")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job_id"])
    assert job.status == "succeeded" and job.percent == 100
    run = RecommendationRun.objects.get(active=True)
    assert job.result["run_id"] == run.pk and run.job_id == job.pk


def test_anonymous_is_refused():
    assert APIClient().get("/api/recommendations/").status_code in (401, 403)


def test_page_profile_panel_and_lookup(fitted, client, viewer):
    client.force_login(viewer)
    page = client.get(reverse("analytics:recommendations"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="figures-table"' in html and 'data-testid="rules-table"' in html
    assert 'data-testid="recommendations-fit"' not in html  # viewers read only
    customer = Customer.objects.get(pk=ProductRecommendation.objects.values_list("customer_id", flat=True).first())
    lookup = client.get(reverse("analytics:recommendations-customer"), {"customer": customer.external_id},
                        headers={"HX-Request": "true"})  # fmt: skip
    assert lookup.status_code == 200 and 'data-testid="recommended-products"' in lookup.content.decode()
    profile = client.get(reverse("customers:profile", args=[customer.external_id]))
    assert 'data-testid="recommended-products-panel"' in profile.content.decode()
    assert client.post(reverse("analytics:recommendations-fit")).status_code == 403


def test_page_before_any_fit(marketer_client):
    html = marketer_client.get(reverse("analytics:recommendations")).content.decode()
    assert 'data-testid="no-run"' in html and 'data-testid="recommendations-fit"' in html


def test_fit_on_a_shop_without_orders_succeeds(db):
    from tests.factories import CustomerFactory

    CustomerFactory.create_batch(3)
    run = recommendations_fit(as_of=DEMO_END, queue_features=False)
    assert run.status == "succeeded" and run.counts["recommendations"] == 0 and run.counts["rules"] == 0
    assert run.figures["cf"]["customers"] == 0
