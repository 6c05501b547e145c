"""Where sessions end, from the behaviour-sequence model's stored transition counts. Pure:
lists in, lists out (no Django models).

The counts are states × states (START, the event types, EXIT; row = from, column = to).
Every session is START → its steps → EXIT, so for an event-type state:

- *visits*: the steps taken at it, the sum of its row (every step is followed by another
  step or by EXIT). A session that views three products passes through "view" three times.
- *exits*: its EXIT cell, the sessions whose last step it was.
- *exit probability*: P(EXIT | state) = exits / visits, the Markov model's chance that a
  session ends right after this step.
- *share of exits*: exits / all sessions (each session exits exactly once).
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from analytics.sequences.model import EXIT, START, Sequences


class ExitPoint(TypedDict):
    state: str
    visits: int
    exits: int
    exit_probability: float
    exit_share: float


def exit_points(states: list[str], transitions: list[list[int]]) -> list[ExitPoint]:
    """Each visited event-type state's visits, exits, P(EXIT | state) and share of all
    session exits; most exits first (ties: by name)."""
    if EXIT not in states:
        return []
    counts = np.asarray(transitions, dtype=np.int64).reshape(len(states), len(states))
    visits = counts.sum(axis=1)
    exits = counts[:, states.index(EXIT)]
    sessions = int(exits.sum())
    points = [
        ExitPoint(state=state, visits=int(visits[index]), exits=int(exits[index]),
                  exit_probability=float(exits[index] / visits[index]),
                  exit_share=float(exits[index] / sessions) if sessions else 0.0)
        for index, state in enumerate(states)
        if state not in (START, EXIT) and visits[index] > 0
    ]  # fmt: skip
    return sorted(points, key=lambda point: (-point["exits"], point["state"]))


def transition_probabilities(states: list[str], transitions: list[list[int]]) -> list[list[float]]:
    """P(to | from), rows summing to 1 (rows with no transition, like EXIT's, are 0): the
    sequence model's own row normalisation applied to the stored counts."""
    counts = np.asarray(transitions, dtype=np.int64).reshape(len(states), len(states))
    model = Sequences(states=states, counts=counts, events=0, sessions=0, paths=[])
    return model.probabilities().tolist()
