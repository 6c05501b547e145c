"""The winner rules: too few → control; otherwise the variant most likely to be best,
significant or only best observed; revenue by Welch; only the dispatch's test group."""

import datetime as dt
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats as sps

from campaigns.experiments import stats
from campaigns.experiments.verdict import Sentence
from campaigns.experiments.winner import WinnerReason, winner_choose
from campaigns.models import Campaign, Dispatch, Message
from tests.campaigns.experiments.factories import (
    T0,
    campaign_create,
    conversion_create,
    customers_create,
    messages_create,
    order_create,
)

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def clicked(count: int, clicks: int) -> list:
    return [T0 + HOUR if i < clicks else None for i in range(count)]


def test_too_few_recipients_keeps_the_control():
    campaign, variants, dispatch = campaign_create(test_percent=20, min_sample_per_variant=100)
    messages_create(dispatch, customers_create(120), variant=variants["A"], clicked_at=clicked(120, 5))
    messages_create(dispatch, customers_create(80), variant=variants["B"], clicked_at=clicked(80, 40))
    decision = winner_choose(dispatch_id=dispatch.pk)
    assert (decision.variant_id, decision.reason) == (variants["A"].pk, WinnerReason.TOO_FEW)
    assert str(decision.sentence) == (
        "Not enough recipients in the test (80 of the 100 needed per variant): "
        "the control, variant A, goes to the rest."
    )


def test_a_clear_difference_is_significant():
    campaign, variants, dispatch = campaign_create(test_percent=20)
    messages_create(dispatch, customers_create(1000), variant=variants["A"], clicked_at=clicked(1000, 50))
    messages_create(dispatch, customers_create(1000), variant=variants["B"], clicked_at=clicked(1000, 90))
    decision = winner_choose(dispatch_id=dispatch.pk)
    assert (decision.variant_id, decision.reason) == (variants["B"].pk, WinnerReason.SIGNIFICANT)
    assert decision.chance_to_be_best == pytest.approx(stats.chance_to_beat(50, 1000, 90, 1000), abs=1e-5)
    assert str(decision.sentence) == "Variant B wins on click rate: its chance of being the best is > 99 %."
    assert Sentence.from_dict(decision.as_dict()["sentence"]) == decision.sentence


def test_a_small_difference_is_only_the_best_observed_and_the_control_can_win():
    campaign, variants, dispatch = campaign_create(
        keys=("A", "B", "C"), test_percent=20, winner_metric=Campaign.WinnerMetric.OPEN
    )
    messages_create(dispatch, customers_create(500), variant=variants["A"], opened_at=clicked(500, 100))
    messages_create(dispatch, customers_create(500), variant=variants["B"], opened_at=clicked(500, 92))
    messages_create(dispatch, customers_create(500), variant=variants["C"], opened_at=clicked(500, 95))
    decision = winner_choose(dispatch_id=dispatch.pk)
    chances = stats.chance_to_be_best_beta([100, 92, 95], [500, 500, 500])
    assert (decision.variant_key, decision.reason) == ("A", WinnerReason.BEST_OBSERVED)
    assert decision.chance_to_be_best == pytest.approx(chances[0], abs=1e-6)
    assert "not conclusive" in str(decision.sentence)


def test_only_the_test_group_of_this_dispatch_counts():
    campaign, variants, dispatch = campaign_create(test_percent=20)
    messages_create(dispatch, customers_create(200), variant=variants["A"], clicked_at=clicked(200, 10))
    messages_create(dispatch, customers_create(200), variant=variants["B"], clicked_at=clicked(200, 40))
    # Outside the test: the waiting rest, and an earlier occurrence where A did far better.
    messages_create(dispatch, customers_create(500), status=Message.Status.WAITING, in_test=False)
    earlier = Dispatch.objects.create(campaign=campaign, occurrence=1)
    messages_create(earlier, customers_create(500), variant=variants["A"], clicked_at=clicked(500, 400))
    decision = winner_choose(dispatch_id=dispatch.pk)
    assert decision.variant_key == "B" and decision.reason == WinnerReason.SIGNIFICANT


def test_revenue_winner_uses_welch():
    campaign, variants, dispatch = campaign_create(
        test_percent=20, winner_metric=Campaign.WinnerMetric.REVENUE, min_sample_per_variant=100
    )
    a = messages_create(dispatch, customers_create(150), variant=variants["A"])
    b = messages_create(dispatch, customers_create(150), variant=variants["B"])
    for message in a[:10]:
        conversion_create(message, "50.00")
    for index, message in enumerate(b[:20]):
        conversion_create(message, "90.00" if index % 2 else "70.00")
    decision = winner_choose(dispatch_id=dispatch.pk, refresh_conversions=False)

    control = np.array([50.0] * 10 + [0.0] * 140)
    variant = np.array([70.0, 90.0] * 10 + [0.0] * 130)
    welch = sps.ttest_ind(variant, control, equal_var=False)
    chance = sps.t.cdf(welch.statistic, welch.df)
    assert decision.variant_key == "B" and decision.reason == WinnerReason.SIGNIFICANT
    assert decision.chance_to_be_best == pytest.approx(chance)
    assert decision.metric == "revenue"


def test_conversion_winner_brings_conversions_up_to_date():
    campaign, variants, dispatch = campaign_create(
        test_percent=20, winner_metric=Campaign.WinnerMetric.CONVERSION, min_sample_per_variant=50
    )
    a = messages_create(dispatch, customers_create(100), variant=variants["A"])
    b = messages_create(dispatch, customers_create(100), variant=variants["B"])
    for message in a[:2]:
        order_create(message.customer, T0 + HOUR)
    for message in b[:20]:
        order_create(message.customer, T0 + HOUR)
    decision = winner_choose(dispatch_id=dispatch.pk)
    assert decision.variant_key == "B" and decision.reason == WinnerReason.SIGNIFICANT
    assert decision.chance_to_be_best == pytest.approx(stats.chance_to_beat(2, 100, 20, 100), abs=1e-5)


def test_a_single_variant_is_the_winner():
    _campaign, variants, dispatch = campaign_create(keys=("A",), test_percent=20)
    messages_create(dispatch, customers_create(3), variant=variants["A"])
    decision = winner_choose(dispatch_id=dispatch.pk)
    assert (decision.variant_id, decision.reason) == (variants["A"].pk, WinnerReason.ONLY_VARIANT)


def test_chance_to_be_best_of_two_equals_the_normal_reading_of_welch():
    # The 2-arm revenue chance is the t posterior; cross-check it against the normal one.
    se = 0.5
    assert stats.chance_to_be_best_normal([1.0, 2.0], [se, 0.0001])[1] == pytest.approx(
        NormalDist().cdf(1.0 / se), abs=1e-4
    )
