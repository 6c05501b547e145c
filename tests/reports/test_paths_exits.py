"""Where sessions end, from the stored transition counts, against a count straight from the
sessions themselves (how often each step occurs, how many sessions end at it)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from reports.paths.exits import exit_points, transition_probabilities

TYPES = ["add_to_cart", "favorite", "purchase", "search", "view"]


def random_sessions(seed: int, count: int = 60) -> list[list[str]]:
    chance = random.Random(seed)
    weights = [3, 1, 1, 2, 6]
    return [chance.choices(TYPES, weights=weights, k=chance.randint(1, 7)) for _ in range(count)]


def counts_of(sessions: list[list[str]]) -> tuple[list[str], list[list[int]]]:
    """The Markov model's states and transition counts, built the plain way."""
    states = ["START", *TYPES, "EXIT"]
    counts = [[0] * len(states) for _ in states]
    for session in sessions:
        steps = ["START", *session, "EXIT"]
        for source, target in zip(steps, steps[1:], strict=False):
            counts[states.index(source)][states.index(target)] += 1
    return states, counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exit_points_equal_a_count_over_the_sessions(seed):
    sessions = random_sessions(seed)
    states, counts = counts_of(sessions)
    visits = Counter(step for session in sessions for step in session)
    exits = Counter(session[-1] for session in sessions)
    points = exit_points(states, counts)
    assert {point["state"] for point in points} == set(visits)
    for point in points:
        state = point["state"]
        assert point["visits"] == visits[state] and point["exits"] == exits[state]
        assert point["exit_probability"] == pytest.approx(exits[state] / visits[state])
        assert point["exit_share"] == pytest.approx(exits[state] / len(sessions))
    assert [point["exits"] for point in points] == sorted((point["exits"] for point in points), reverse=True)
    assert sum(point["exit_share"] for point in points) == pytest.approx(1.0)


def test_unvisited_states_are_left_out_and_ties_go_by_name():
    sessions = [["view"], ["search"], ["view", "search", "view"]]
    states, counts = counts_of(sessions)
    points = exit_points(states, counts)
    assert [(p["state"], p["visits"], p["exits"]) for p in points] == [("view", 3, 2), ("search", 2, 1)]
    sessions = [["view"], ["search"]]
    assert [p["state"] for p in exit_points(*counts_of(sessions))] == ["search", "view"]


def test_no_sessions():
    states, counts = counts_of([])
    assert exit_points(states, counts) == []
    assert exit_points([], []) == []


def test_transition_probabilities_are_row_shares():
    sessions = random_sessions(4)
    states, counts = counts_of(sessions)
    probabilities = transition_probabilities(states, counts)
    for row, shares in zip(counts, probabilities, strict=True):
        total = sum(row)
        assert shares == pytest.approx([n / total if total else 0.0 for n in row])
    assert probabilities[states.index("EXIT")] == [0.0] * len(states)
