"""NPS and CSAT against hand computations."""

import pytest

from surveys.scoring import csat_summary, nps_group, nps_summary


def test_nps_groups_at_the_boundaries():
    assert [nps_group(score) for score in range(11)] == ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2


def test_nps_of_ten_answers():
    # scores: 10, 10, 9 (3 promoters) · 8, 7 (2 passives) · 6, 5, 3, 0, 0 (5 detractors)
    answers = [10, 10, 9, 8, 7, 6, 5, 3, 0, 0]
    counts = {score: answers.count(score) for score in set(answers)}
    summary = nps_summary(counts)
    assert (summary.promoters, summary.passives, summary.detractors) == (3, 2, 5)
    assert summary.promoters_percent == pytest.approx(30.0)
    assert summary.passives_percent == pytest.approx(20.0)
    assert summary.detractors_percent == pytest.approx(50.0)
    assert summary.nps == pytest.approx(30.0 - 50.0)


def test_nps_without_answers_is_none():
    assert nps_summary({}).nps is None


def test_csat_of_six_answers():
    answers = [5, 4, 4, 3, 2, 1]
    summary = csat_summary({rating: answers.count(rating) for rating in set(answers)})
    assert summary.mean == pytest.approx(19 / 6)
    assert summary.satisfied == 3
    assert summary.satisfied_percent == pytest.approx(50.0)
    assert csat_summary({}).mean is None
