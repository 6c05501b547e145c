"""The retention report (tables rebuilt from the orders, cells read, vectorised cohorts)
against a hand computation on factory-made orders: monthly and weekly, cancelled and
returned orders left out, the segment filter, incremental rebuilds, and the pure
computation's edge cases."""

import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from django.db.models import Sum
from django.utils import timezone

from reports.retention.cohorts import period_index, period_start, retention_compute
from reports.retention.models import CohortCell, CustomerPeriodActivity, RetentionRefresh
from reports.retention.refresh import retention_refresh
from reports.retention.selectors import retention_report
from segments.models import Segment, SegmentMembership
from tests.factories import CustomerFactory, OrderFactory
from tests.reports.conftest import NOW, hand_report

pytestmark = pytest.mark.django_db


def assert_matches(retention, expected: dict) -> None:
    assert retention.sizes.tolist() == expected["sizes"]
    assert retention.repeat_customers.tolist() == expected["repeat"]
    assert retention.active.tolist() == expected["active"]
    assert retention.new.tolist() == expected["new"]
    for row, hand_row in zip(retention.matrix.tolist(), expected["matrix"], strict=True):
        for value, hand in zip(row, hand_row, strict=True):
            assert (math.isnan(value) and hand is None) or value == pytest.approx(hand)
    if expected["repurchase_rate"] is None:
        assert retention.repurchase_rate is None
    else:
        assert retention.repurchase_rate == pytest.approx(expected["repurchase_rate"])


@pytest.mark.parametrize(("period", "cohorts"), [("month", 12), ("week", 26), ("month", 6), ("week", 52)])
def test_report_matches_the_hand_computation(shop, period, cohorts):
    retention = retention_report(period=period, cohorts=cohorts, now=NOW)
    expected = hand_report(shop, period=period, cohorts=cohorts)
    assert sum(expected["sizes"]) > 3 and any(share for row in expected["matrix"] for share in row[1:])  # not trivial
    assert_matches(retention, expected)
    assert len(retention.periods) == cohorts
    first = retention.periods[-1]
    assert first <= NOW.date() < first + dt.timedelta(days=31 if period == "month" else 7)


def test_default_window_is_twelve_months_or_twenty_six_weeks(shop):
    assert len(retention_report(period="month", now=NOW).periods) == 12
    weeks = retention_report(period="week", now=NOW).periods
    assert len(weeks) == 26 and all(start.weekday() == 0 for start in weeks)


def test_cancelled_and_returned_orders_do_not_count(db):
    customer = CustomerFactory()
    OrderFactory(customer=customer, ordered_at=dt.datetime(2025, 3, 5, tzinfo=dt.UTC))
    OrderFactory(customer=customer, ordered_at=dt.datetime(2025, 4, 5, tzinfo=dt.UTC), status="cancelled")
    OrderFactory(customer=customer, ordered_at=dt.datetime(2025, 5, 5, tzinfo=dt.UTC), status="returned")
    only_cancelled = CustomerFactory()
    OrderFactory(customer=only_cancelled, ordered_at=dt.datetime(2025, 2, 5, tzinfo=dt.UTC), status="cancelled")
    # A cancelled order before the window does not make a customer "acquired earlier".
    later = CustomerFactory()
    OrderFactory(customer=later, ordered_at=dt.datetime(2024, 1, 5, tzinfo=dt.UTC), status="cancelled")
    OrderFactory(customer=later, ordered_at=dt.datetime(2025, 3, 20, tzinfo=dt.UTC))
    retention_refresh()
    retention = retention_report(period="month", cohorts=6, now=NOW)  # 2025-01 .. 2025-06
    assert retention.sizes.tolist() == [0, 0, 2, 0, 0, 0]
    assert retention.retained[2].tolist() == [2, 0, 0, 0, 0, 0]
    assert retention.repurchase_rate == 0.0
    assert retention.active.tolist() == [0, 0, 2, 0, 0, 0]


def test_customers_acquired_before_the_window_are_active_but_in_no_cohort(db):
    old = CustomerFactory()
    OrderFactory(customer=old, ordered_at=dt.datetime(2024, 11, 5, tzinfo=dt.UTC))
    OrderFactory(customer=old, ordered_at=dt.datetime(2025, 5, 5, tzinfo=dt.UTC))
    retention_refresh()
    retention = retention_report(period="month", cohorts=3, now=NOW)  # 2025-04 .. 2025-06
    assert retention.customers == 0 and retention.repurchase_rate is None
    assert retention.active.tolist() == [0, 1, 0] and retention.returning.tolist() == [0, 1, 0]
    assert np.isnan(retention.matrix).all()


def test_segment_filter_keeps_only_current_members(shop):
    segment = Segment.objects.create(name="VIP", kind=Segment.Kind.STATIC)
    customer_ids = sorted({order.customer_id for order in shop})
    members = set(customer_ids[::2])
    for customer_id in customer_ids:
        SegmentMembership.objects.create(segment=segment, customer_id=customer_id, entered_at=NOW,
                                         left_at=None if customer_id in members else NOW)  # fmt: skip
    for period, cohorts in (("month", 12), ("week", 26)):
        retention = retention_report(period=period, cohorts=cohorts, segment_id=segment.pk, now=NOW)
        expected = hand_report(shop, period=period, cohorts=cohorts, customers=members)
        assert expected["sizes"] != hand_report(shop, period=period, cohorts=cohorts)["sizes"]
        assert_matches(retention, expected)


def test_periods_follow_the_time_zone_of_the_rebuild(db):
    customer = CustomerFactory()
    # 20:00 UTC on 31 March is 04:00 on 1 April in Shanghai.
    OrderFactory(customer=customer, ordered_at=dt.datetime(2025, 3, 31, 20, 0, tzinfo=dt.UTC))
    retention_refresh()
    assert retention_report(period="month", cohorts=4, now=NOW).sizes.tolist() == [1, 0, 0, 0]
    with timezone.override(ZoneInfo("Asia/Shanghai")):
        retention_refresh(full=True)
        assert retention_report(period="month", cohorts=4, now=NOW).sizes.tolist() == [0, 1, 0, 0]


def test_period_index_round_trips_and_weeks_start_on_monday():
    days = pd.Series(pd.date_range("2023-12-25", "2025-03-10", freq="D"))
    for period in ("month", "week"):
        index = period_index(days, period)
        starts = [period_start(int(value), period) for value in index]
        assert all(start <= day.date() for start, day in zip(starts, days, strict=True))
        assert all(period_index(pd.Series([pd.Timestamp(start)]), period)[0] == value
                   for start, value in zip(starts, index, strict=True))  # fmt: skip
    assert period_start(int(period_index(pd.Series([pd.Timestamp("2025-06-18")]), "week")[0]), "week") == dt.date(
        2025, 6, 16
    )


def test_compute_on_no_activity_is_empty_not_an_error():
    empty = pd.DataFrame(
        {column: pd.Series(dtype="int64") for column in ("cohort", "period", "customers", "repeaters")}
    )
    retention = retention_compute(empty, period="month", first=100, last=102)
    assert retention.sizes.tolist() == [0, 0, 0] and retention.active.tolist() == [0, 0, 0]
    assert retention.repurchase_rate is None and np.isnan(retention.matrix).all()
    assert retention.cohort_repurchase_rates == [None, None, None]


def test_incremental_rebuild_gives_the_same_report_as_a_full_one(shop):
    """New orders for old and new customers after a rebuild: the hourly (incremental) rebuild
    only recomputes those customers, and the report equals the hand computation over all
    orders and a full rebuild's report."""
    chance_customers = sorted({order.customer_id for order in shop})[:4]
    added = [OrderFactory(customer_id=customer_id, ordered_at=NOW - dt.timedelta(days=3 + index))
             for index, customer_id in enumerate(chance_customers)]  # fmt: skip
    newcomer = CustomerFactory()
    added += [OrderFactory(customer=newcomer, ordered_at=NOW - dt.timedelta(days=40)),
              OrderFactory(customer=newcomer, ordered_at=NOW - dt.timedelta(days=2))]  # fmt: skip
    result = retention_refresh()
    assert result.mode == "incremental" and result.customers == 5
    orders = shop + added
    for period, cohorts in (("month", 12), ("week", 26)):
        incremental = retention_report(period=period, cohorts=cohorts, now=NOW)
        assert_matches(incremental, hand_report(orders, period=period, cohorts=cohorts))
    rows = sorted(CustomerPeriodActivity.objects.values_list("customer_id", "period", "period_start", "cohort_start",
                                                             "orders", "repeat_reached"))  # fmt: skip
    cells = sorted(CohortCell.objects.values_list("period", "cohort_start", "period_start", "customers", "repeaters"))
    assert retention_refresh(full=True).mode == "full"
    assert sorted(CustomerPeriodActivity.objects.values_list("customer_id", "period", "period_start", "cohort_start",
                                                             "orders", "repeat_reached")) == rows  # fmt: skip
    assert sorted(CohortCell.objects.values_list("period", "cohort_start", "period_start", "customers",
                                                 "repeaters")) == cells  # fmt: skip


def test_rebuild_is_idempotent_and_records_its_watermark(shop):
    before = sorted(CohortCell.objects.values_list("period", "cohort_start", "period_start", "customers", "repeaters"))
    result = retention_refresh()
    assert result.mode == "incremental" and result.customers == 0 and result.rows == 0
    assert sorted(CohortCell.objects.values_list("period", "cohort_start", "period_start", "customers",
                                                 "repeaters")) == before  # fmt: skip
    assert RetentionRefresh.objects.latest().order_watermark == max(order.pk for order in shop)
    placed = [order for order in shop if order.status == "placed"]
    assert CustomerPeriodActivity.objects.filter(period="month").aggregate(total=Sum("orders"))["total"] == len(placed)


def test_orders_after_the_rebuild_wait_for_the_next_one(shop):
    customer = CustomerFactory()
    OrderFactory(customer=customer, ordered_at=NOW - dt.timedelta(days=1))
    before = retention_report(period="month", cohorts=12, now=NOW)
    assert before.sizes.tolist() == hand_report(shop, period="month", cohorts=12)["sizes"]
    retention_refresh()
    assert retention_report(period="month", cohorts=12, now=NOW).sizes[-1] == before.sizes[-1] + 1
