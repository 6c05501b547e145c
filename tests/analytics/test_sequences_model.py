"""The behaviour-sequence Markov model against plain-Python counts over hand-made sessions."""

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from analytics.sequences import model

MIN = 60
# (customer, minute, type); listed out of order on purpose.
EVENTS = [
    (1, 0, "page"),
    (1, 2, "view"),
    (1, 5, "add_to_cart"),
    (1, 6, "purchase"),
    (1, 50, "view"),  # 44 minutes later: a new session
    (1, 79, "view"),  # 29 minutes: same session
    (2, 10, "search"),
    (2, 11, "view"),
    (2, 12, "view"),
    (2, 13, "add_to_cart"),
    (2, 14, "favorite"),
    (3, 100, "view"),
    (3, 130, "view"),  # exactly 30 minutes: not longer than the gap, same session
    (3, 200, "page"),
    (2, 300, "page"),
    (2, 301, "view"),
]


def frame(events=EVENTS) -> pd.DataFrame:
    rows = list(reversed(events))
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "seconds": [r[1] * MIN + 1e9 for r in rows],
                         "type": [r[2] for r in rows]})  # fmt: skip


def hand_sessions(events, gap_minutes=30):
    sessions, current, last = [], None, None
    for customer, minute, kind in sorted(events):
        if current is None or customer != last[0] or minute - last[1] > gap_minutes:
            current = []
            sessions.append(current)
        current.append(kind)
        last = (customer, minute)
    return sessions


def test_sessions_split_at_gaps_longer_than_30_minutes():
    sessions = hand_sessions(EVENTS)
    assert len(sessions) == 6
    result = model.sequences_compute(frame())
    assert result.sessions == 6 and result.events == len(EVENTS)


@pytest.mark.parametrize("gap", [30, 10, 60])
def test_transition_probabilities_equal_a_plain_count(gap):
    result = model.sequences_compute(frame(), gap_minutes=gap)
    counts = Counter()
    for session in hand_sessions(EVENTS, gap):
        steps = [model.START, *session, model.EXIT]
        counts.update(zip(steps, steps[1:], strict=False))
    states = result.states
    assert states[0] == model.START and states[-1] == model.EXIT
    for (source, target), n in counts.items():
        assert result.counts[states.index(source), states.index(target)] == n
    assert result.counts.sum() == sum(counts.values())
    probabilities = result.probabilities()
    for source in {s for s, _t in counts}:
        row_total = sum(n for (s, _t), n in counts.items() if s == source)
        for target in states:
            expected = counts.get((source, target), 0) / row_total
            assert probabilities[states.index(source), states.index(target)] == pytest.approx(expected)
    used = probabilities.sum(axis=1) > 0
    np.testing.assert_allclose(probabilities.sum(axis=1)[used], 1.0)
    assert probabilities[states.index(model.EXIT)].sum() == 0


def test_common_paths_count_the_first_steps_by_hand():
    events = [
        *[(c, 0, "view") for c in range(10, 14)],  # four sessions: view → EXIT
        *[(c, m, kind) for c in range(20, 23) for m, kind in [(0, "page"), (1, "view"), (2, "view")]],
        *[(c, m, kind) for c in range(30, 32) for m, kind in [(0, "page"), (1, "view"), (2, "view"), (3, "view")]],
        (40, 0, "search"),
        (40, 1, "view"),
    ]
    result = model.sequences_compute(frame(events), path_steps=3, top_paths=10)
    expected = Counter()
    for session in hand_sessions(events):
        path = session[:3] + ([model.EXIT] if len(session) <= 3 else [])
        expected[tuple(path)] += 1
    got = {tuple(p["steps"]): p["sessions"] for p in result.paths}
    assert got == dict(expected)
    assert [p["sessions"] for p in result.paths] == [4, 3, 2, 1]
    assert result.paths[0] == {"steps": ["view", "EXIT"], "sessions": 4, "share": 4 / 10}
    # a four-step session is cut after three steps and has no EXIT
    assert got[("page", "view", "view")] == 2 and got[("page", "view", "view", "EXIT")] == 3


def test_no_events():
    empty = pd.DataFrame({"customer_id": [], "seconds": [], "type": []})
    result = model.sequences_compute(empty, types=["view"])
    assert result.sessions == 0 and result.paths == [] and result.counts.sum() == 0
