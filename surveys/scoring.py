"""NPS and CSAT from rating counts — pure functions, no Django models.

NPS: promoters answer 9–10, passives 7–8, detractors 0–6; NPS = % promoters − % detractors
(−100..100). CSAT: the mean rating (1–5) and the share of satisfied answers (4 or 5).
"""

from collections.abc import Mapping
from dataclasses import dataclass

PROMOTER_MIN = 9
PASSIVE_MIN = 7
SATISFIED_MIN = 4


def nps_group(score: int) -> str:
    """ "promoter", "passive" or "detractor" for a 0–10 answer."""
    if score >= PROMOTER_MIN:
        return "promoter"
    if score >= PASSIVE_MIN:
        return "passive"
    return "detractor"


@dataclass(frozen=True)
class NpsSummary:
    responses: int
    promoters: int
    passives: int
    detractors: int
    promoters_percent: float | None
    passives_percent: float | None
    detractors_percent: float | None
    nps: float | None  # None without answers


def nps_summary(counts: Mapping[int, int]) -> NpsSummary:
    """NPS from answer counts by score (0..10)."""
    promoters = sum(count for score, count in counts.items() if score >= PROMOTER_MIN)
    passives = sum(count for score, count in counts.items() if PASSIVE_MIN <= score < PROMOTER_MIN)
    detractors = sum(count for score, count in counts.items() if score < PASSIVE_MIN)
    total = promoters + passives + detractors
    if total == 0:
        return NpsSummary(0, 0, 0, 0, None, None, None, None)

    def percent(part: int) -> float:
        return 100.0 * part / total

    return NpsSummary(
        responses=total,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        promoters_percent=percent(promoters),
        passives_percent=percent(passives),
        detractors_percent=percent(detractors),
        nps=percent(promoters) - percent(detractors),
    )


@dataclass(frozen=True)
class CsatSummary:
    responses: int
    mean: float | None
    satisfied: int
    satisfied_percent: float | None


def csat_summary(counts: Mapping[int, int]) -> CsatSummary:
    """Mean rating and share satisfied (4–5) from answer counts by rating (1..5)."""
    total = sum(counts.values())
    if total == 0:
        return CsatSummary(0, None, 0, None)
    satisfied = sum(count for rating, count in counts.items() if rating >= SATISFIED_MIN)
    mean = sum(rating * count for rating, count in counts.items()) / total
    return CsatSummary(responses=total, mean=mean, satisfied=satisfied, satisfied_percent=100.0 * satisfied / total)
