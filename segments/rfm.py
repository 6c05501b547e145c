"""RFM scoring rules as plain data and functions (no Django models), shared by the SQL
refresh in ``segments.features`` and by anything that scores customers in memory.

Scores are quintiles with nearest-rank cut points, so equal values always get the same
score; the named segment comes from the widely used R × FM grid (FM = floor of the mean
of the F and M scores). docs/segments.md shows the grid.
"""

from collections.abc import Sequence
from enum import StrEnum


class RfmSegment(StrEnum):
    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALIST = "potential_loyalist"
    NEW = "new"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANT_LOSE_THEM = "cant_lose_them"
    HIBERNATING = "hibernating"
    LOST = "lost"


SEGMENT_LABELS: dict[RfmSegment, str] = {
    RfmSegment.CHAMPIONS: "Champions",
    RfmSegment.LOYAL: "Loyal",
    RfmSegment.POTENTIAL_LOYALIST: "Potential Loyalist",
    RfmSegment.NEW: "New",
    RfmSegment.PROMISING: "Promising",
    RfmSegment.NEED_ATTENTION: "Need Attention",
    RfmSegment.ABOUT_TO_SLEEP: "About to Sleep",
    RfmSegment.AT_RISK: "At Risk",
    RfmSegment.CANT_LOSE_THEM: "Can't Lose Them",
    RfmSegment.HIBERNATING: "Hibernating",
    RfmSegment.LOST: "Lost",
}

_S = RfmSegment
# RFM_GRID[r - 1][fm - 1]: rows are the recency score 1..5, columns the FM score 1..5.
RFM_GRID: tuple[tuple[RfmSegment, ...], ...] = (
    (_S.LOST, _S.LOST, _S.AT_RISK, _S.AT_RISK, _S.CANT_LOSE_THEM),  # R = 1
    (_S.HIBERNATING, _S.HIBERNATING, _S.AT_RISK, _S.AT_RISK, _S.CANT_LOSE_THEM),  # R = 2
    (_S.ABOUT_TO_SLEEP, _S.ABOUT_TO_SLEEP, _S.NEED_ATTENTION, _S.LOYAL, _S.LOYAL),  # R = 3
    (_S.PROMISING, _S.POTENTIAL_LOYALIST, _S.POTENTIAL_LOYALIST, _S.LOYAL, _S.LOYAL),  # R = 4
    (_S.NEW, _S.POTENTIAL_LOYALIST, _S.POTENTIAL_LOYALIST, _S.CHAMPIONS, _S.CHAMPIONS),  # R = 5
)

QUINTILES = (0.2, 0.4, 0.6, 0.8)
# Consumption tier: top 20 % of buyers by monetary are "high", the next 30 % "mid".
TIER_SHARES = {"high": 0.2, "mid": 0.5}


def fm_score(f_score: int, m_score: int) -> int:
    """The grid's second axis: floor of the mean, so FM 4 needs F + M >= 8."""
    return (f_score + m_score) // 2


def rfm_segment(r_score: int, f_score: int, m_score: int) -> RfmSegment:
    """Named segment of one customer's scores (each 1..5)."""
    for score in (r_score, f_score, m_score):
        if not 1 <= score <= 5:
            raise ValueError(f"RFM scores are 1..5, got {score}")
    return RFM_GRID[r_score - 1][fm_score(f_score, m_score) - 1]


def nearest_rank_position(share: float, count: int) -> int:
    """1-based position of the ``share`` percentile in ``count`` sorted values
    (nearest-rank method: ceil(share * count)), computed exactly in integers."""
    numerator = round(share * 1000)
    return max(1, -(-numerator * count // 1000))


def quintile_cuts(values: Sequence[float]) -> list[float]:
    """The four nearest-rank cut points (20/40/60/80 %) of ``values`` ascending."""
    ordered = sorted(values)
    return [ordered[nearest_rank_position(q, len(ordered)) - 1] for q in QUINTILES]


def score_from_cuts(value: float, cuts: Sequence[float], *, higher_is_better: bool = True) -> int:
    """1 + the number of cuts a value is strictly better than: ties share a score.

    For recency (lower is better) pass the cuts of the negated values, or use
    ``higher_is_better=False`` with the cuts of the values sorted descending."""
    if higher_is_better:
        return 1 + sum(value > cut for cut in cuts)
    return 1 + sum(value < cut for cut in cuts)


def recency_cuts(recency_days: Sequence[float]) -> list[float]:
    """Cut points for recency: quintiles of the days sorted descending (the most
    recent 20 % score 5)."""
    ordered = sorted(recency_days, reverse=True)
    return [ordered[nearest_rank_position(q, len(ordered)) - 1] for q in QUINTILES]


def tier_cuts(monetary: Sequence[float]) -> dict[str, float]:
    """Smallest monetary value still in each tier (values sorted descending)."""
    ordered = sorted(monetary, reverse=True)
    return {tier: ordered[nearest_rank_position(share, len(ordered)) - 1] for tier, share in TIER_SHARES.items()}


def consumption_tier(monetary: float, cuts: dict[str, float]) -> str:
    """Tier of one buyer; ties at a boundary go to the higher tier."""
    if monetary >= cuts["high"]:
        return "high"
    if monetary >= cuts["mid"]:
        return "mid"
    return "low"
