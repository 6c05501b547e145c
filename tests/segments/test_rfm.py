"""RFM scoring rules with plain values (no database)."""

import pytest

from segments import rfm
from segments.rfm import RfmSegment as S


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, S.CHAMPIONS),
        (5, 4, 4, S.CHAMPIONS),
        (5, 5, 3, S.CHAMPIONS),  # FM = (5 + 3) // 2 = 4
        (5, 4, 3, S.POTENTIAL_LOYALIST),  # FM 3
        (5, 1, 1, S.NEW),
        (5, 1, 2, S.NEW),  # FM 1
        (4, 1, 1, S.PROMISING),
        (4, 2, 3, S.POTENTIAL_LOYALIST),
        (4, 4, 5, S.LOYAL),
        (3, 5, 5, S.LOYAL),
        (3, 3, 3, S.NEED_ATTENTION),
        (3, 2, 2, S.ABOUT_TO_SLEEP),
        (3, 1, 1, S.ABOUT_TO_SLEEP),
        (2, 3, 4, S.AT_RISK),
        (1, 4, 4, S.AT_RISK),
        (2, 5, 5, S.CANT_LOSE_THEM),
        (1, 5, 5, S.CANT_LOSE_THEM),
        (2, 1, 2, S.HIBERNATING),
        (1, 2, 1, S.LOST),
        (1, 1, 1, S.LOST),
    ],
)
def test_segment_grid(r, f, m, segment):
    assert rfm.rfm_segment(r, f, m) is segment


def test_grid_covers_every_score_and_all_eleven_segments():
    seen = {rfm.rfm_segment(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert seen == set(S)
    assert set(rfm.SEGMENT_LABELS) == set(S)


def test_scores_outside_one_to_five_are_rejected():
    with pytest.raises(ValueError):
        rfm.rfm_segment(0, 3, 3)


def test_quintile_cuts_by_nearest_rank():
    values = list(range(1, 11))  # positions ceil(0.2 * 10) = 2, 4, 6, 8
    assert rfm.quintile_cuts(values) == [2, 4, 6, 8]
    assert [rfm.score_from_cuts(v, [2, 4, 6, 8]) for v in values] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rfm.quintile_cuts([5, 1, 3]) == [1, 3, 3, 5]  # ceil(0.6), ceil(1.2), ceil(1.8), ceil(2.4)


def test_ties_share_a_score():
    frequencies = [1] * 7 + [2, 3, 4]
    cuts = rfm.quintile_cuts(frequencies)
    scores = [rfm.score_from_cuts(v, cuts) for v in frequencies]
    assert scores[:7] == [1] * 7  # all one-order customers alike
    assert cuts == [1, 1, 1, 2]
    assert scores[7:] == [4, 5, 5]


def test_recency_most_recent_fifth_scores_five():
    days = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    cuts = rfm.recency_cuts(days)  # descending 10..1, positions 2, 4, 6, 8 -> 9, 7, 5, 3
    assert cuts == [9, 7, 5, 3]
    scores = [rfm.score_from_cuts(d, cuts, higher_is_better=False) for d in days]
    assert scores == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_consumption_tiers():
    spend = [float(v) for v in range(1, 11)]  # descending positions ceil(2) = 2 and ceil(5) = 5
    cuts = rfm.tier_cuts(spend)
    assert cuts == {"high": 9.0, "mid": 6.0}
    tiers = [rfm.consumption_tier(v, cuts) for v in spend]
    assert tiers.count("high") == 2 and tiers.count("mid") == 3 and tiers.count("low") == 5
    assert rfm.consumption_tier(9.0, cuts) == "high"  # a tie at the boundary goes up
