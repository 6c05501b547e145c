"""The dashboard's refresh and reads against the hand computation of
``test_dashboard_data``: every figure, in UTC and in another shop time zone; incremental
and full refreshes give the same table and are idempotent; empty shops."""

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Order
from reports.campaigns import figures as campaign_figures
from reports.dashboard import figures
from reports.dashboard.models import DailySales, DailySalesRefresh, DashboardSnapshot
from reports.dashboard.selectors import churn_risk_histogram, dashboard_overview
from reports.dashboard.services import SNAPSHOTS_KEPT, daily_sales_refresh, dashboard_refresh
from tests.factories import CustomerFactory, OrderFactory
from tests.reports.test_dashboard_data import NOW, hand_daily, hand_figures, shop_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    return shop_build()


def table() -> dict:
    return {row.day: {"orders": row.orders, "revenue": row.revenue, "buyers": row.buyers,
                      "new_buyers": row.new_buyers} for row in DailySales.objects.all()}  # fmt: skip


def assert_overview_matches(overview, expected: dict) -> None:
    snapshot = overview.snapshot
    assert overview.today == expected["today"]
    assert snapshot.customers == expected["customers"]
    assert snapshot.active_customers == expected["active_customers"]
    assert (snapshot.buyers, snapshot.repeat_buyers) == (expected["buyers"], expected["repeat_buyers"])
    assert overview.repurchase_rate == pytest.approx(expected["repurchase_rate"])
    assert [(row.day, row.orders, row.revenue, row.buyers, row.new_buyers) for row in overview.daily] == [
        (day, hand["orders"], hand["revenue"], hand["buyers"], hand["new_buyers"]) for day, hand in expected["chart"]
    ]
    revenue = overview.revenue
    assert (revenue.current_revenue, revenue.current_orders) == (
        expected["current_revenue"],
        expected["current_orders"],
    )
    assert (revenue.previous_revenue, revenue.previous_orders) == (
        expected["previous_revenue"], expected["previous_orders"])  # fmt: skip
    assert revenue.change == pytest.approx(expected["change"])
    assert [row["customers"] for row in overview.churn_histogram] == expected["histogram"]
    assert snapshot.churn_scored == sum(expected["histogram"])
    campaigns = overview.campaigns
    assert [row["id"] for row in campaigns] == [row["id"] for row in expected["campaigns"]]
    for row, hand in zip(campaigns, expected["campaigns"], strict=True):
        assert (row["sent"], row["conversions"], row["revenue"]) == (hand["sent"], hand["conversions"], hand["revenue"])
        assert row["cost"] == hand["cost"]
        assert row["roi"] == pytest.approx(hand["roi"])
    assert [row["id"] for row in overview.segments] == expected["segments"]
    for row, hand in zip(overview.nps_months, expected["nps"], strict=True):
        assert row == hand | {"nps": pytest.approx(hand["nps"])}
    for row, hand in zip(overview.sentiment_months, expected["sentiment"], strict=True):
        assert row == hand | {"mean_score": pytest.approx(hand["mean_score"])}


def test_every_figure_matches_the_hand_computation(shop):
    dashboard_refresh(full=True, now=NOW)
    expected = hand_figures(shop)
    # The generated shop exercises every figure.
    assert expected["repeat_buyers"] and expected["change"] is not None and expected["current_orders"]
    assert any(row["roi"] and row["roi"] > 0 for row in expected["campaigns"])
    assert any(row["roi"] is None for row in expected["campaigns"])
    assert sum(1 for row in expected["nps"] if row["responses"]) >= 6 and expected["histogram"][0] >= 1
    assert expected["histogram"][9] >= 1 and expected["histogram"][5] >= 1
    assert_overview_matches(dashboard_overview(now=NOW), expected)


def test_days_and_months_are_in_the_shops_time_zone(shop, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    dashboard_refresh(full=True, now=NOW)
    expected = hand_figures(shop)
    assert expected["today"] == dt.date(2025, 6, 18)
    assert_overview_matches(dashboard_overview(now=NOW), expected)
    settings.TIME_ZONE = "UTC"
    assert table() != hand_daily(shop.orders)  # the stored days are Shanghai's


def test_changed_time_zone_turns_an_incremental_refresh_into_a_full_one(shop, settings):
    daily_sales_refresh(full=True, now=NOW)
    settings.TIME_ZONE = "America/New_York"
    refresh = daily_sales_refresh(now=NOW)
    assert refresh.mode == DailySalesRefresh.Mode.FULL and refresh.time_zone == "America/New_York"
    assert table() == hand_daily(shop.orders)


def test_incremental_refresh_recomputes_the_last_days_like_a_full_one(shop):
    daily_sales_refresh(full=True, now=NOW)
    # Today: a new buyer, a returning buyer, a cancellation; two days ago: a late order.
    newcomer = CustomerFactory()
    OrderFactory(customer=newcomer, ordered_at=NOW - dt.timedelta(hours=1), total=Decimal("12.34"))
    OrderFactory(customer=newcomer, ordered_at=NOW - dt.timedelta(hours=2), total=Decimal("1.00"))
    returning = next(
        o for o in shop.orders if o.status == Order.Status.PLACED and o.ordered_at < NOW - dt.timedelta(days=10)
    )
    OrderFactory(customer=returning.customer, ordered_at=NOW - dt.timedelta(days=2), total=Decimal("99.99"))
    recent = next(
        o for o in shop.orders if o.status == Order.Status.PLACED and o.ordered_at > NOW - dt.timedelta(days=2)
    )
    Order.objects.filter(pk=recent.pk).update(status=Order.Status.CANCELLED)

    refresh = daily_sales_refresh(now=NOW)
    assert refresh.mode == DailySalesRefresh.Mode.INCREMENTAL and refresh.from_day == dt.date(2025, 6, 16)
    incremental = table()
    orders = list(Order.objects.all())
    assert incremental == hand_daily(orders)
    assert incremental[dt.date(2025, 6, 18)]["new_buyers"] >= 1
    daily_sales_refresh(now=NOW)
    assert table() == incremental  # idempotent
    daily_sales_refresh(full=True, now=NOW)
    assert table() == incremental
    daily_sales_refresh(full=True, now=NOW)
    assert table() == incremental
    assert DailySalesRefresh.objects.count() == 5


def test_incremental_refresh_leaves_older_days_alone(shop):
    daily_sales_refresh(full=True, now=NOW)
    old = next(o for o in shop.orders if o.status == Order.Status.PLACED and o.ordered_at < NOW - dt.timedelta(days=20))
    before = table()
    Order.objects.filter(pk=old.pk).update(status=Order.Status.RETURNED)
    daily_sales_refresh(now=NOW)
    assert table() == before  # caught by the next full refresh (nightly)
    daily_sales_refresh(full=True, now=NOW)
    assert table() == hand_daily(list(Order.objects.all()))


def test_snapshots_are_pruned_and_the_newest_is_read(shop):
    for minutes in range(SNAPSHOTS_KEPT + 3):
        dashboard_refresh(now=NOW + dt.timedelta(minutes=minutes))
    assert DashboardSnapshot.objects.count() == SNAPSHOTS_KEPT
    overview = dashboard_overview(now=NOW)
    assert overview.snapshot.as_of == NOW + dt.timedelta(minutes=SNAPSHOTS_KEPT + 2)


def test_churn_distribution_bins(db, shop):
    rows = churn_risk_histogram(bins=4)
    counts = [0] * 4
    for risk in shop.risks.values():
        counts[min(int(risk * 4), 3)] += 1
    assert [row["customers"] for row in rows] == counts
    assert [(row["lower"], row["upper"]) for row in rows] == [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)]
    assert sum(row["share"] for row in rows) == pytest.approx(1)


def test_an_empty_shop_has_an_empty_dashboard(db):
    assert dashboard_overview(now=NOW).snapshot is None
    result = dashboard_refresh(now=NOW)
    assert result.sales.mode == DailySalesRefresh.Mode.FULL and result.sales.days == 0
    overview = dashboard_overview(now=NOW)
    snapshot = overview.snapshot
    assert (snapshot.customers, snapshot.active_customers, snapshot.buyers, snapshot.churn_scored) == (0, 0, 0, 0)
    assert overview.repurchase_rate is None and overview.revenue.change is None
    assert len(overview.daily) == 90 and all(row.orders == 0 for row in overview.daily)
    assert overview.campaigns == [] and overview.segments == []
    assert len(overview.nps_months) == 12 and all(row["nps"] is None for row in overview.nps_months)


def test_pure_figures_edge_cases():
    today = dt.date(2025, 3, 31)
    assert figures.month_starts(today=today, months=3) == [dt.date(2025, 1, 1), dt.date(2025, 2, 1),
                                                           dt.date(2025, 3, 1)]  # fmt: skip
    assert figures.month_starts(today=dt.date(2025, 1, 5), months=2) == [dt.date(2024, 12, 1), dt.date(2025, 1, 1)]
    rows = [figures.SalesDay(today - dt.timedelta(days=back), 1, Decimal("10"), 1, 0) for back in (0, 29, 30, 59, 60)]
    comparison = figures.revenue_comparison(rows, today=today)
    assert (comparison.current_revenue, comparison.previous_revenue) == (Decimal("20"), Decimal("20"))
    assert comparison.change == 0.0
    assert campaign_figures.roi(Decimal("150"), Decimal("100")) == 0.5
    assert campaign_figures.roi(Decimal("150"), Decimal("0")) is None
    assert campaign_figures.campaign_cost(fixed_cost=Decimal("10"), cost_per_message=Decimal("0.0125"), sent=3) == (
        Decimal("10.0375")
    )
    assert [row["customers"] for row in figures.churn_histogram({}, bins=3)] == [0, 0, 0]
    assert figures.day_series([], first=today, last=today - dt.timedelta(days=1)) == []
