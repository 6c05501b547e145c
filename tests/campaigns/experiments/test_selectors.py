"""Variant results and the comparison against hand computations on generated rows."""

import datetime as dt
import json
import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats as sps

from campaigns.experiments import stats
from campaigns.experiments.selectors import GroupKind, variant_comparison, variant_results, variant_weights_next
from campaigns.experiments.verdict import SentenceCode
from campaigns.models import Dispatch, Message
from tests.campaigns.experiments.factories import (
    T0,
    campaign_create,
    conversion_create,
    customers_create,
    holdout_create,
    messages_create,
)

pytestmark = pytest.mark.django_db
NORMAL = NormalDist()
HOUR = dt.timedelta(hours=1)


def flags(count: int, first: int) -> list:
    """A datetime for the first ``first`` of ``count`` messages, None for the rest."""
    return [T0 + HOUR if i < first else None for i in range(count)]


@pytest.fixture
def two_variants_and_holdout():
    """A: 400 sent (120 opens, 40 clicks, 4 unsubscribes, 6 bounces), 10 failed;
    B: 410 sent (150 opens, 62 clicks); holdout: 90.
    Revenue: A's recipients 0 and 1 spent 100 + 50 and 80; B's 0..4 spent 60 each and
    recipient 0 another 40; holdout member 0 spent 70."""
    campaign, variants, dispatch = campaign_create(holdout_percent=10, min_sample_per_variant=100)
    a_customers, b_customers, held = customers_create(410), customers_create(410), customers_create(90)
    a = messages_create(
        dispatch,
        a_customers[:400],
        variant=variants["A"],
        opened_at=flags(400, 120),
        clicked_at=flags(400, 40),
        unsubscribed_at=flags(400, 4),
        bounced_at=[None] * 394 + [T0 + HOUR] * 6,
    )
    messages_create(dispatch, a_customers[400:], variant=variants["A"], status=Message.Status.FAILED)
    b = messages_create(
        dispatch, b_customers, variant=variants["B"], opened_at=flags(410, 150), clicked_at=flags(410, 62)
    )
    holdout = holdout_create(dispatch, held)
    conversion_create(a[0], "100.00")
    conversion_create(a[0], "50.00")
    conversion_create(a[1], "80.00")
    for message in b[:5]:
        conversion_create(message, "60.00")
    conversion_create(b[0], "40.00")
    conversion_create(holdout[0], "70.00")
    revenue = {
        "A": np.array([150.0, 80.0] + [0.0] * 398),
        "B": np.array([100.0, 60, 60, 60, 60] + [0.0] * 405),
        "holdout": np.array([70.0] + [0.0] * 89),
    }
    return campaign, variants, dispatch, revenue


def test_variant_results_counts_and_money(two_variants_and_holdout):
    campaign, variants, _dispatch, revenue = two_variants_and_holdout
    results = {r.key: r for r in variant_results(campaign_id=campaign.pk)}
    a, b, holdout = results["A"], results["B"], results["holdout"]
    assert (a.kind, b.kind, holdout.kind) == (GroupKind.VARIANT, GroupKind.VARIANT, GroupKind.HOLDOUT)
    assert (a.audience, a.sent, a.failed, a.skipped) == (410, 400, 10, 0)
    assert (a.opens, a.clicks, a.unsubscribes, a.bounces, a.delivered) == (120, 40, 4, 6, 394)
    assert (a.converters, a.conversions, a.revenue) == (2, 3, 230.0)
    assert a.revenue_squares == pytest.approx((revenue["A"] ** 2).sum())
    assert a.open_rate == pytest.approx(120 / 400) and a.click_rate == pytest.approx(40 / 400)
    assert a.click_to_open_rate == pytest.approx(40 / 120)
    assert a.conversion_rate == pytest.approx(2 / 400)
    assert a.revenue_per_recipient == pytest.approx(230 / 400)
    assert (b.sent, b.converters, b.conversions, b.revenue) == (410, 5, 6, 340.0)
    assert b.revenue_squares == pytest.approx((revenue["B"] ** 2).sum())
    assert (holdout.audience, holdout.sent, holdout.skipped, holdout.recipients) == (90, 0, 90, 90)
    assert holdout.conversion_rate == pytest.approx(1 / 90)
    assert a.variant_id == variants["A"].pk and a.weight == 1


def test_variant_results_by_dispatch_and_test_group():
    campaign, variants, first = campaign_create(test_percent=20)
    second = Dispatch.objects.create(campaign=campaign, occurrence=1)
    customers = customers_create(60)
    messages_create(first, customers[:10], variant=variants["A"])
    messages_create(first, customers[10:20], variant=variants["B"])
    messages_create(first, customers[20:50], status=Message.Status.WAITING, in_test=False)
    messages_create(second, customers[50:], variant=variants["B"], in_test=False)

    everything = {r.key: r for r in variant_results(campaign_id=campaign.pk)}
    assert (everything["A"].sent, everything["B"].sent, everything[""].waiting) == (10, 20, 30)
    assert everything[""].kind == GroupKind.UNASSIGNED
    tested = {r.key: r for r in variant_results(campaign_id=campaign.pk, dispatch_id=first.pk, in_test_only=True)}
    assert set(tested) == {"A", "B"} and (tested["A"].sent, tested["B"].sent) == (10, 10)
    second_only = {r.key: r for r in variant_results(campaign_id=campaign.pk, dispatch_id=second.pk)}
    assert (second_only["A"].audience, second_only["B"].audience) == (0, 10)


def test_comparison_against_hand_computations(two_variants_and_holdout):
    campaign, _variants, _dispatch, revenue = two_variants_and_holdout
    comparison = variant_comparison(campaign_id=campaign.pk)
    assert comparison.control_key == "A" and not comparison.in_test_only
    (b_vs_a,) = comparison.comparisons
    assert b_vs_a.key == "B"

    click = b_vs_a.metrics["click"]
    p1, p2 = 40 / 400, 62 / 410
    pooled = 102 / 810
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / 400 + 1 / 410))
    margin = NORMAL.inv_cdf(0.975) * math.sqrt(p1 * (1 - p1) / 400 + p2 * (1 - p2) / 410)
    assert click.difference == pytest.approx(p2 - p1)
    assert click.p_value == pytest.approx(2 * (1 - NORMAL.cdf(z)))
    assert (click.ci_low, click.ci_high) == pytest.approx((p2 - p1 - margin, p2 - p1 + margin))
    assert click.chance_to_beat == pytest.approx(stats.chance_to_beat(40, 400, 62, 410))

    money = b_vs_a.metrics["revenue"]
    welch = sps.ttest_ind(revenue["B"], revenue["A"], equal_var=False)
    assert money.difference == pytest.approx(revenue["B"].mean() - revenue["A"].mean())
    assert money.p_value == pytest.approx(welch.pvalue)
    assert (money.ci_low, money.ci_high) == pytest.approx(tuple(welch.confidence_interval(0.95)))

    conversion = b_vs_a.metrics["conversion"]
    assert conversion.difference == pytest.approx(5 / 410 - 2 / 400)

    # Holdout lift: everyone sent (A + B: 810 recipients, 7 converters, 570.00) against 90.
    lift = comparison.holdout_lift
    assert (lift.recipients, lift.holdout) == (810, 90)
    treated = np.concatenate([revenue["A"], revenue["B"]])
    assert lift.conversion.difference == pytest.approx(7 / 810 - 1 / 90)
    assert lift.incremental_conversions == pytest.approx((7 / 810 - 1 / 90) * 810)
    reference = sps.ttest_ind(treated, revenue["holdout"], equal_var=False)
    assert lift.revenue.p_value == pytest.approx(reference.pvalue)
    low, high = reference.confidence_interval(0.95)
    assert (lift.incremental_revenue_low, lift.incremental_revenue_high) == pytest.approx((low * 810, high * 810))
    assert lift.conversion.sentence.code == SentenceCode.HOLDOUT_RATE

    # Planned split: holdout 10 %, A and B 45 % each, of 910.
    srm = comparison.sample_ratio
    expected = [0.45 * 910, 0.45 * 910, 0.1 * 910]
    chi_square = sum((o - e) ** 2 / e for o, e in zip([410, 410, 90], expected, strict=True))
    assert srm.chi_square == pytest.approx(chi_square)
    assert srm.p_value == pytest.approx(math.exp(-chi_square / 2))
    assert not comparison.sample_ratio_mismatch

    assert comparison.sample_size.ready
    assert comparison.chance_to_be_best["B"] == pytest.approx(click.chance_to_beat, abs=1e-5)
    assert str(comparison.verdict) == (
        f"Variant B's click rate is {(p2 - p1) * 100:.1f} points higher than A's "
        f"(95 % CI {(p2 - p1 - margin) * 100:.1f} to {(p2 - p1 + margin) * 100:.1f}); "
        f"the chance B beats A is {round(click.chance_to_beat * 100)} %."
    )
    data = comparison.as_dict()
    json.dumps(data, allow_nan=False)
    assert data["variants"][0]["click_rate"] == pytest.approx(0.1)
    assert data["comparisons"][0]["metrics"]["click"]["sentence"]["code"] == "rate_higher"
    assert data["verdict"]["text"] == str(comparison.verdict)


def test_verdict_warns_of_a_sample_ratio_mismatch_first():
    campaign, variants, dispatch = campaign_create(min_sample_per_variant=10)
    messages_create(dispatch, customers_create(500), variant=variants["A"])
    messages_create(dispatch, customers_create(400), variant=variants["B"])
    comparison = variant_comparison(campaign_id=campaign.pk)
    chi_square = 2 * 50**2 / 450
    assert comparison.sample_ratio.p_value == pytest.approx(math.erfc(math.sqrt(chi_square / 2)))
    assert comparison.sample_ratio_mismatch
    assert str(comparison.verdict) == (
        f"Group sizes differ from the plan (p = {comparison.sample_ratio.p_value:.2g}): "
        "check the send before trusting the result."
    )


def test_verdict_asks_for_more_recipients_below_the_minimum():
    campaign, variants, dispatch = campaign_create(min_sample_per_variant=100)
    messages_create(dispatch, customers_create(80), variant=variants["A"])
    messages_create(dispatch, customers_create(85), variant=variants["B"])
    comparison = variant_comparison(campaign_id=campaign.pk)
    assert not comparison.sample_size.ready
    assert str(comparison.verdict) == "Not enough recipients yet: 80 of the 100 needed per variant."


def test_test_phase_campaigns_are_compared_on_their_test_group():
    campaign, variants, dispatch = campaign_create(test_percent=20, min_sample_per_variant=10)
    messages_create(dispatch, customers_create(100), variant=variants["A"], clicked_at=flags(100, 10))
    messages_create(dispatch, customers_create(100), variant=variants["B"], clicked_at=flags(100, 20))
    # The winner B went to the rest: 800 more B messages outside the test.
    messages_create(dispatch, customers_create(800), variant=variants["B"], in_test=False)
    comparison = variant_comparison(campaign_id=campaign.pk)
    assert comparison.in_test_only
    assert [v.sent for v in comparison.variants] == [100, 100]
    assert not comparison.sample_ratio_mismatch
    assert comparison.comparisons[0].metrics["click"].difference == pytest.approx(0.1)


def test_nothing_sent_yet_and_a_single_variant():
    campaign, _variants, _dispatch = campaign_create()
    comparison = variant_comparison(campaign_id=campaign.pk)
    assert comparison.verdict.code == SentenceCode.NO_DATA
    assert comparison.holdout_lift is None
    json.dumps(comparison.as_dict(), allow_nan=False)

    single, variants, dispatch = campaign_create(keys=("A",))
    messages_create(dispatch, customers_create(5), variant=variants["A"])
    assert variant_comparison(campaign_id=single.pk).verdict.code == SentenceCode.ONE_VARIANT


def test_thompson_weights_for_the_next_occurrence_favour_the_better_variant():
    campaign, variants, dispatch = campaign_create(thompson_sampling=True)
    messages_create(dispatch, customers_create(300), variant=variants["A"], clicked_at=flags(300, 15))
    messages_create(dispatch, customers_create(300), variant=variants["B"], clicked_at=flags(300, 45))
    weights = variant_weights_next(campaign_id=campaign.pk, rng=1)
    assert set(weights) == {variants["A"].pk, variants["B"].pk}
    assert weights[variants["B"].pk] > 900 and weights[variants["A"].pk] >= 50
    assert variant_comparison(campaign_id=campaign.pk).sample_ratio is None
