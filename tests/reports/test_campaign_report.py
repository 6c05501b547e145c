"""The campaign report against a plain-Python hand computation: a small campaign (two
variants and a holdout, coupons, conversions on different days) whose every figure —
rates, revenue per recipient, cost, ROI, redemptions, unsubscribes, incremental
conversions and revenue with their 95 % intervals (Wald and Welch written out with
math.sqrt and the normal / t quantiles), incremental ROI, the cumulative series and the
verdict — is recomputed here from the rows as they were made."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
import pytest
from scipy.stats import norm
from scipy.stats import t as student_t

from campaigns.models import Coupon, CouponPool, Message, Redemption
from reports.campaigns import figures
from reports.campaigns.selectors import campaign_report, campaign_report_list, campaign_summaries
from reports.campaigns.verdict import LiftFigures, VerdictCode, verdict_choose
from tests.campaigns.experiments.factories import (
    T0,
    campaign_create,
    conversion_create,
    customers_create,
    holdout_create,
    messages_create,
    order_create,
)

DAY = dt.timedelta(days=1)
FIXED_COST = 50.0
PER_MESSAGE = 0.05


@dataclass
class HandGroup:
    """One group as it was built: per recipient, the revenue of their credited orders."""

    key: str
    audience: int = 0
    sent: int = 0
    bounces: int = 0
    opens: int = 0
    clicks: int = 0
    unsubscribes: int = 0
    redemptions: int = 0
    revenue: list[float] = field(default_factory=list)  # one value per recipient
    orders: list[tuple[int, float]] = field(default_factory=list)  # (day since the send, total)


def flags(count: int, first: int) -> list:
    return [T0 + dt.timedelta(hours=1) if i < first else None for i in range(count)]


@pytest.fixture
def campaign_data(db):
    return campaign_build()


def campaign_build():
    """A: 300 sent (90 opens, 30 clicks, 3 unsubscribes, 5 bounces) + 5 failed; 6 buyers.
    B: 320 sent (112 opens, 48 clicks, 2 unsubscribes); 40 buyers of 100 (one also 60).
    Holdout: 70, one buyer of 50. Unique coupon codes for the first 10 of A and B:
    redeemed by 3 of A and 4 of B, one refused, one of another pool."""
    campaign, variants, dispatch = campaign_create(
        holdout_percent=10, fixed_cost=Decimal("50"), cost_per_message=Decimal("0.05"), min_sample_per_variant=100,
        conversion_window_days=7, launched_at=T0, status="sent",
    )  # fmt: skip
    pool = CouponPool.objects.create(name="Spring", discount_value=Decimal("10"))
    other_pool = CouponPool.objects.create(name="Other", discount_value=Decimal("5"))
    campaign.coupon_pool = pool
    campaign.save(update_fields=["coupon_pool"])
    hand = {key: HandGroup(key) for key in ("A", "B", "holdout")}

    a_customers = customers_create(305)
    a = messages_create(
        dispatch, a_customers[:300], variant=variants["A"], opened_at=flags(300, 90), clicked_at=flags(300, 30),
        unsubscribed_at=flags(300, 3), bounced_at=[None] * 295 + [T0 + DAY] * 5,
        coupon_code=[f"A{i:04d}" if i < 10 else "" for i in range(300)],
    )  # fmt: skip
    messages_create(dispatch, a_customers[300:], variant=variants["A"], status=Message.Status.FAILED)
    hand["A"].audience, hand["A"].sent, hand["A"].bounces = 305, 300, 5
    hand["A"].opens, hand["A"].clicks, hand["A"].unsubscribes = 90, 30, 3
    hand["A"].revenue = [0.0] * 300
    a_orders = [(0, 0, "120.00"), (1, 0, "30.00"), (1, 2, "80.00"), (2, 5, "45.50"), (3, 6, "200.00"),
                (4, 1, "15.00"), (5, 3, "60.00")]  # (recipient, day, total)  # fmt: skip
    for recipient, day, total in a_orders:
        conversion_create(a[recipient], total, at=T0 + day * DAY + dt.timedelta(hours=2))
        hand["A"].revenue[recipient] += float(total)
        hand["A"].orders.append((day, float(total)))

    b_customers = customers_create(320)
    b = messages_create(
        dispatch, b_customers, variant=variants["B"], opened_at=flags(320, 112), clicked_at=flags(320, 48),
        unsubscribed_at=flags(320, 2), coupon_code=[f"B{i:04d}" if i < 10 else "" for i in range(320)],
    )  # fmt: skip
    hand["B"].audience = hand["B"].sent = 320
    hand["B"].opens, hand["B"].clicks, hand["B"].unsubscribes = 112, 48, 2
    hand["B"].revenue = [0.0] * 320
    for recipient in range(40):
        day = recipient % 7
        conversion_create(b[recipient], "100.00", at=T0 + day * DAY + dt.timedelta(hours=3))
        hand["B"].revenue[recipient] += 100.0
        hand["B"].orders.append((day, 100.0))
    conversion_create(b[0], "60.00", at=T0 + 9 * DAY)  # a coupon order after the window
    hand["B"].revenue[0] += 60.0
    hand["B"].orders.append((9, 60.0))

    held = holdout_create(dispatch, customers_create(70))
    hand["holdout"].audience = 70
    hand["holdout"].revenue = [0.0] * 70
    conversion_create(held[3], "50.00", at=T0 + 2 * DAY + dt.timedelta(hours=5))
    hand["holdout"].revenue[3] = 50.0
    hand["holdout"].orders.append((2, 50.0))

    # Coupons: codes of the messages; accepted redemptions by their own customers.
    def redeem(message, status=Redemption.Status.ACCEPTED, coupon_pool=pool, code=None):
        coupon = Coupon.objects.create(pool=coupon_pool, code=code or message.coupon_code, message=message,
                                       customer=message.customer, created_at=T0)  # fmt: skip
        order = order_create(message.customer, T0 + DAY, "10.00")
        Redemption.objects.create(coupon=coupon, order=order, customer=message.customer, status=status,
                                  redeemed_at=T0 + DAY)  # fmt: skip

    for message in a[:3]:
        redeem(message)
    for message in b[:4]:
        redeem(message)
    redeem(a[5], status=Redemption.Status.REFUSED)
    redeem(b[7], coupon_pool=other_pool, code="OTHER-B7")
    hand["A"].redemptions, hand["B"].redemptions = 3, 4
    return campaign, hand


# ── the hand computation ────────────────────────────────────────────────────────────


def wald(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float]:
    """Difference of proportions (2 minus 1) and its unpooled 95 % Wald interval."""
    p1, p2 = x1 / n1, x2 / n2
    z = norm.ppf(0.975)
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return p2 - p1, p2 - p1 - z * se, p2 - p1 + z * se


def welch(control: list[float], variant: list[float]) -> tuple[float, float, float]:
    """Difference of means (variant minus control) and its 95 % Welch interval."""
    m1, m2 = statistics.fmean(control), statistics.fmean(variant)
    a = statistics.variance(control) / len(control)
    b = statistics.variance(variant) / len(variant)
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a**2 / (len(control) - 1) + b**2 / (len(variant) - 1))
    margin = student_t.ppf(0.975, df) * se
    return m2 - m1, m2 - m1 - margin, m2 - m1 + margin


def converters(group: HandGroup) -> int:
    return sum(1 for value in group.revenue if value > 0)


def test_every_group_figure_matches_the_hand_computation(campaign_data):
    campaign, hand = campaign_data
    report = campaign_report(campaign_id=campaign.pk)
    rows = {g.key: g for g in report.groups}
    assert [g.key for g in report.groups] == ["A", "B", "holdout"]
    total_sent = hand["A"].sent + hand["B"].sent
    campaign_cost = FIXED_COST + PER_MESSAGE * total_sent
    for key in ("A", "B"):
        row, group = rows[key], hand[key]
        assert (row.audience, row.sent, row.recipients) == (group.audience, group.sent, group.sent)
        assert row.delivered == group.sent - group.bounces and row.bounces == group.bounces
        assert row.open_rate == pytest.approx(group.opens / group.sent)
        assert row.click_rate == pytest.approx(group.clicks / group.sent)
        assert row.converters == converters(group) and row.conversions == len(group.orders)
        assert row.conversion_rate == pytest.approx(converters(group) / group.sent)
        assert row.revenue == pytest.approx(sum(group.revenue))
        assert row.revenue_per_recipient == pytest.approx(sum(group.revenue) / group.sent)
        cost = PER_MESSAGE * group.sent + FIXED_COST * group.sent / total_sent
        assert row.cost == pytest.approx(cost)
        assert row.roi == pytest.approx((sum(group.revenue) - cost) / cost)
        assert row.redemptions == group.redemptions
        assert row.unsubscribes == group.unsubscribes
        assert row.unsubscribe_rate == pytest.approx(group.unsubscribes / group.sent)
    assert rows["A"].cost + rows["B"].cost == pytest.approx(campaign_cost)

    holdout = rows["holdout"]
    assert (holdout.kind, holdout.audience, holdout.recipients, holdout.sent) == ("holdout", 70, 70, 0)
    assert holdout.conversion_rate == pytest.approx(1 / 70)
    assert holdout.revenue_per_recipient == pytest.approx(50 / 70)
    assert holdout.cost == 0 and holdout.roi is None and holdout.open_rate is None

    total = report.total
    revenue = sum(hand["A"].revenue) + sum(hand["B"].revenue)
    assert (total.audience, total.sent, total.recipients) == (305 + 320 + 70, total_sent, total_sent)
    assert total.delivered == total_sent - 5
    assert total.open_rate == pytest.approx((90 + 112) / total_sent)
    assert total.click_rate == pytest.approx((30 + 48) / total_sent)
    assert total.conversion_rate == pytest.approx((converters(hand["A"]) + converters(hand["B"])) / total_sent)
    assert total.revenue == pytest.approx(revenue)
    assert total.cost == pytest.approx(campaign_cost)
    assert total.roi == pytest.approx((revenue - campaign_cost) / campaign_cost)
    assert (total.redemptions, total.unsubscribes) == (7, 5)


def test_lift_against_the_holdout_matches_wald_and_welch(campaign_data):
    campaign, hand = campaign_data
    report = campaign_report(campaign_id=campaign.pk)
    lifts = {lift.key: lift for lift in report.lifts}
    assert list(lifts) == ["recipients", "A", "B"]
    held = hand["holdout"]
    total_sent = hand["A"].sent + hand["B"].sent
    arms = {
        "recipients": (hand["A"].revenue + hand["B"].revenue, FIXED_COST + PER_MESSAGE * total_sent),
        "A": (hand["A"].revenue, PER_MESSAGE * 300 + FIXED_COST * 300 / total_sent),
        "B": (hand["B"].revenue, PER_MESSAGE * 320 + FIXED_COST * 320 / total_sent),
    }
    for key, (revenue, cost) in arms.items():
        lift, n = lifts[key], len(revenue)
        buyers = sum(1 for value in revenue if value > 0)
        assert (lift.recipients, lift.holdout) == (n, 70)
        difference, low, high = wald(1, 70, buyers, n)
        assert lift.conversion_rate == pytest.approx(buyers / n)
        assert lift.holdout_conversion_rate == pytest.approx(1 / 70)
        assert (lift.conversion_difference, lift.conversion_low, lift.conversion_high) == pytest.approx(
            (difference, low, high)
        )
        assert (lift.incremental_conversions, lift.incremental_conversions_low,
                lift.incremental_conversions_high) == pytest.approx((difference * n, low * n, high * n))  # fmt: skip
        difference, low, high = welch(held.revenue, revenue)
        assert lift.revenue_per_recipient == pytest.approx(sum(revenue) / n)
        assert lift.holdout_revenue_per_recipient == pytest.approx(50 / 70)
        assert (lift.revenue_difference, lift.revenue_low, lift.revenue_high) == pytest.approx((difference, low, high))
        assert (lift.incremental_revenue, lift.incremental_revenue_low, lift.incremental_revenue_high) == pytest.approx(
            (difference * n, low * n, high * n)
        )
        assert lift.cost == pytest.approx(cost)
        assert lift.incremental_roi == pytest.approx((difference * n - cost) / cost)
        assert lift.incremental_roi_low == pytest.approx((low * n - cost) / cost)
        assert lift.incremental_roi_high == pytest.approx((high * n - cost) / cost)
        assert lift.payback == pytest.approx(difference * n / cost)


def test_verdict_names_the_variant_and_the_payback(campaign_data):
    campaign, hand = campaign_data
    report = campaign_report(campaign_id=campaign.pk)
    held = hand["holdout"].revenue
    b_difference, b_low, b_high = welch(held, hand["B"].revenue)
    a_low = welch(held, hand["A"].revenue)[1]
    assert a_low < 0 < b_low  # only B is clear of the holdout on its own
    treated = hand["A"].revenue + hand["B"].revenue
    incremental = welch(held, treated)[0] * len(treated)
    cost = FIXED_COST + PER_MESSAGE * len(treated)
    assert str(report.verdict) == (
        f"Variant B earned {b_difference:,.2f} more per recipient than the holdout "
        f"(95 % CI {b_low:,.2f} to {b_high:,.2f}). The campaign paid for itself {incremental / cost:.1f} times: "
        f"{incremental:,.2f} incremental revenue on a cost of {cost:,.2f}."
    )
    assert report.test_verdict is not None  # the A/B comparison's own sentence is kept


def test_cumulative_conversions_by_day_since_the_send(campaign_data):
    campaign, hand = campaign_data
    cumulative = campaign_report(campaign_id=campaign.pk).cumulative
    days = 10  # the 7-day window, stretched by B's coupon order on day 9
    assert list(cumulative["group"].unique()) == ["A", "B", "holdout"]
    for key, group in hand.items():
        rows = cumulative[cumulative["group"] == key]
        assert list(rows["day"]) == list(range(days))
        running_orders, running_revenue = 0, 0.0
        for day, row in zip(range(days), rows.itertuples(), strict=True):
            orders = [total for when, total in group.orders if when == day]
            running_orders += len(orders)
            running_revenue += sum(orders)
            assert (row.conversions, row.revenue) == (len(orders), pytest.approx(sum(orders)))
            assert row.cumulative_conversions == running_orders
            assert row.cumulative_revenue == pytest.approx(running_revenue)
            assert row.cumulative_revenue_per_recipient == pytest.approx(running_revenue / len(group.revenue))


def test_list_has_key_figures_and_roi(campaign_data):
    campaign, hand = campaign_data
    campaign.dispatches.update(sent=620)
    draft, _variants, _dispatch = campaign_create(status="draft")
    (summary,) = campaign_summaries(campaign_report_list())
    revenue = sum(hand["A"].revenue) + sum(hand["B"].revenue)
    cost = FIXED_COST + PER_MESSAGE * 620
    assert (summary.id, summary.sent) == (campaign.pk, 620)
    assert summary.conversions == len(hand["A"].orders) + len(hand["B"].orders)
    assert summary.revenue == pytest.approx(revenue)
    assert summary.cost == pytest.approx(cost) and summary.roi == pytest.approx((revenue - cost) / cost)
    assert draft.pk not in [c.pk for c in campaign_report_list()]


def test_campaign_without_holdout_says_the_lift_cannot_be_measured(db):
    campaign, variants, dispatch = campaign_create(keys=("A",), cost_per_message=Decimal("0.10"))
    messages = messages_create(dispatch, customers_create(50), variant=variants["A"])
    conversion_create(messages[0], "40.00")
    report = campaign_report(campaign_id=campaign.pk)
    assert report.lifts == [] and report.holdout is None and report.test_verdict is None
    assert str(report.verdict) == (
        "There is no holdout group, so what the campaign added over sending nothing cannot be measured. "
        f"Attributed revenue is 40.00 on a cost of 5.00 (ROI {(40 - 5) / 5 * 100:.0f} %)."
    )


def test_nothing_sent_yet(db):
    campaign, _variants, _dispatch = campaign_create(holdout_percent=10)
    report = campaign_report(campaign_id=campaign.pk)
    assert str(report.verdict) == "Nothing has been sent yet."
    assert report.total.sent == 0 and report.total.roi is None and report.total.cost == 0


# ── the pure parts on numbers ───────────────────────────────────────────────────────


def test_cost_and_roi_definitions():
    assert figures.campaign_cost(fixed_cost=100, cost_per_message=0.02, sent=1000) == pytest.approx(120)
    assert figures.variant_cost(fixed_cost=100, cost_per_message=0.02, sent=250, campaign_sent=1000) == (
        pytest.approx(0.02 * 250 + 100 * 0.25)
    )
    assert figures.variant_cost(fixed_cost=100, cost_per_message=0.02, sent=0, campaign_sent=0) == 0
    assert figures.roi(300, 120) == pytest.approx(1.5) and figures.roi(300, 0) is None
    assert figures.payback(360, 120) == pytest.approx(3) and figures.payback(None, 120) is None
    returns = figures.incremental_roi(incremental_revenue=240, low=-60, high=540, cost=120)
    assert (returns.value, returns.low, returns.high) == pytest.approx((1.0, -1.5, 3.5))


def test_cumulative_fills_missing_days_and_clips_negative_ones():
    daily = pd.DataFrame({"group": ["A", "A", "holdout", "A"], "day": [-1, 2, 1, 2], "conversions": [1, 2, 1, 1],
                          "revenue": [10.0, 30.0, 5.0, 20.0]})  # fmt: skip
    frame = figures.cumulative_by_day(daily, recipients={"A": 10, "holdout": 0}, groups=["A", "holdout"], days=3)
    a = frame[frame["group"] == "A"]
    assert list(a["cumulative_conversions"]) == [1, 1, 4]
    assert list(a["cumulative_revenue"]) == pytest.approx([10, 10, 60])
    assert list(a["cumulative_revenue_per_recipient"]) == pytest.approx([1, 1, 6])
    assert list(frame[frame["group"] == "holdout"]["cumulative_revenue_per_recipient"]) == [None] * 3


@pytest.mark.parametrize(
    ("overall", "variants", "codes"),
    [
        (LiftFigures("recipients", 1.0, -0.5, 2.5), [LiftFigures("A", 1.0, -0.5, 2.5)],
         [VerdictCode.NOT_DISTINGUISHABLE, VerdictCode.ATTRIBUTED]),
        (LiftFigures("recipients", -3.0, -5.0, -1.0), [LiftFigures("A", -3.0, -5.0, -1.0)],
         [VerdictCode.LIFT_LOWER]),
        (LiftFigures("recipients", 2.0, 0.5, 3.5), [LiftFigures("A", 2.0, 0.5, 3.5)],
         [VerdictCode.LIFT_HIGHER, VerdictCode.PAID_FOR_ITSELF]),
    ],
)  # fmt: skip
def test_verdict_cases(overall, variants, codes):
    verdict = verdict_choose(recipients=100, overall=overall, variants=variants, cost=50.0, revenue=400.0,
                             incremental_revenue=overall.difference * 100)  # fmt: skip
    assert [s.code for s in verdict.sentences] == codes


def test_verdict_wording_of_a_clear_but_small_lift():
    overall = LiftFigures("recipients", 0.3, 0.1, 0.5)
    verdict = verdict_choose(recipients=100, overall=overall, variants=[LiftFigures("A", 0.3, 0.1, 0.5)],
                             cost=60.0, revenue=90.0, incremental_revenue=30.0)  # fmt: skip
    assert str(verdict) == (
        "All recipients earned 0.30 more per recipient than the holdout (95 % CI 0.10 to 0.50). "
        "Its 30.00 incremental revenue covered 50 % of its cost of 60.00."
    )
    free = verdict_choose(recipients=100, overall=overall, variants=[], cost=0.0, revenue=90.0,
                          incremental_revenue=30.0)  # fmt: skip
    assert str(free).endswith("It added 30.00 of revenue and cost nothing to send.")


def test_test_then_winner_campaign_reports_the_whole_send(db):
    """The A/B comparison reads the test group; the report reads every message, and the
    rest still waiting for the winner is its own row."""
    campaign, variants, dispatch = campaign_create(test_percent=20, min_sample_per_variant=10)
    messages_create(dispatch, customers_create(30), variant=variants["A"], in_test=True)
    messages_create(dispatch, customers_create(30), variant=variants["B"], in_test=True)
    messages_create(dispatch, customers_create(90), variant=variants["B"], in_test=False)
    messages_create(dispatch, customers_create(40), status=Message.Status.WAITING, in_test=False)
    report = campaign_report(campaign_id=campaign.pk)
    rows = {g.key: g for g in report.groups}
    assert report.in_test_only
    assert (rows["A"].sent, rows["B"].sent) == (30, 120)
    assert (rows[""].kind, rows[""].audience, rows[""].sent) == ("unassigned", 40, 0)
    assert (report.total.audience, report.total.sent) == (190, 150)


def test_verdict_of_a_holdout_too_small_for_an_interval():
    verdict = verdict_choose(recipients=50, overall=None, variants=[], cost=10.0, revenue=30.0,
                             incremental_revenue=None, holdout=1)  # fmt: skip
    assert str(verdict) == (
        "The holdout group has 1 customers, too few to measure what the campaign added over sending nothing. "
        "Attributed revenue is 30.00 on a cost of 10.00 (ROI 200 %)."
    )
    without = verdict_choose(recipients=50, overall=None, variants=[], cost=10.0, revenue=30.0,
                             incremental_revenue=None)  # fmt: skip
    assert str(without).startswith("There is no holdout group")
