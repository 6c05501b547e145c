"""The winner of a test-then-send-winner dispatch, decided from its test group.

Rules, on the campaign's winner metric over the dispatch's ``in_test`` messages:

1. Fewer sent messages than ``min_sample_per_variant`` in any (weighted) variant: the
   control goes to the rest (reason ``too_few``): too little evidence to move away from it.
2. Otherwise the variant most likely to be best: the exact Beta-Binomial chance for the
   rates, the Welch (normal) posterior of the mean for revenue per recipient. The reason is
   ``significant`` when that chance reaches ``WINNER_CHANCE`` (95 %), else ``best_observed``.

This only decides. The sender (campaigns.sending) applies the decision (sets
``Dispatch.winner``, releases the waiting messages) and writes the audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from campaigns.conversions import conversions_attribute
from campaigns.errors import CampaignError, CampaignErrorCode
from campaigns.experiments import stats
from campaigns.experiments.selectors import GroupKind, chance_to_be_best, control_of, variant_results
from campaigns.experiments.verdict import Metric, Sentence, SentenceCode, chance
from campaigns.models import Dispatch

WINNER_CHANCE = 0.95


class WinnerReason(StrEnum):
    TOO_FEW = "too_few"
    SIGNIFICANT = "significant"
    BEST_OBSERVED = "best_observed"
    ONLY_VARIANT = "only_variant"


@dataclass(frozen=True)
class WinnerDecision:
    dispatch_id: int
    variant_id: int
    variant_key: str
    reason: WinnerReason
    metric: Metric
    chance_to_be_best: float | None
    sentence: Sentence

    def as_dict(self) -> dict[str, Any]:
        """For the audit trail (``CampaignEvent.details``); the sentence renders again
        in the reader's language through ``Sentence.from_dict``."""
        return {
            "dispatch_id": self.dispatch_id,
            "variant_id": self.variant_id,
            "variant_key": self.variant_key,
            "reason": self.reason.value,
            "metric": self.metric.value,
            "chance_to_be_best": self.chance_to_be_best,
            "sentence": self.sentence.as_dict(),
        }


def winner_choose(*, dispatch_id: int, refresh_conversions: bool = True) -> WinnerDecision:
    """Decide the winner of a dispatch's test. For the conversion and revenue metrics the
    campaign's conversions are brought up to date first (idempotent)."""
    dispatch = Dispatch.objects.select_related("campaign").get(pk=dispatch_id)
    campaign = dispatch.campaign
    metric = Metric(campaign.winner_metric)
    if refresh_conversions and metric in (Metric.CONVERSION, Metric.REVENUE):
        conversions_attribute(campaign_id=campaign.pk)

    results = variant_results(campaign_id=campaign.pk, dispatch_id=dispatch_id, in_test_only=True)
    candidates = [r for r in results if r.kind == GroupKind.VARIANT and r.weight > 0]
    if not candidates:
        raise CampaignError(CampaignErrorCode.NO_VARIANTS)
    control = control_of(candidates)

    def decision(variant, reason: WinnerReason, code: SentenceCode, best: float | None, **params: str):
        params = {"variant": variant.key, "metric": metric.value, **params}
        if best is not None:
            params["chance"] = chance(best)
        return WinnerDecision(
            dispatch_id, variant.variant_id, variant.key, reason, metric, best, Sentence(code, params)
        )

    if len(candidates) == 1:
        return decision(control, WinnerReason.ONLY_VARIANT, SentenceCode.WINNER_ONLY_VARIANT, None)

    size = stats.sample_size_check([v.recipients for v in candidates], minimum=campaign.min_sample_per_variant)
    if not size.ready or (metric == Metric.REVENUE and size.smallest < 2):
        return decision(
            control,
            WinnerReason.TOO_FEW,
            SentenceCode.WINNER_TOO_FEW,
            None,
            smallest=f"{size.smallest:,}",
            minimum=f"{size.minimum:,}",
        )

    chances = chance_to_be_best(candidates, metric)
    # Highest chance; an exact tie goes to the control, then to the lower key.
    ordered = sorted(candidates, key=lambda v: (v is not control, v.key))
    winner = max(ordered, key=lambda v: chances.get(v.key, 0.0))
    best = chances.get(winner.key, 0.0)
    if best >= WINNER_CHANCE:
        return decision(winner, WinnerReason.SIGNIFICANT, SentenceCode.WINNER_SIGNIFICANT, best)
    return decision(winner, WinnerReason.BEST_OBSERVED, SentenceCode.WINNER_BEST_OBSERVED, best)
