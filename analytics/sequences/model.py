"""Behaviour sequences, pure computation (no Django models): sessions cut from a customer's
events, a first-order Markov model of event-type transitions with START and EXIT states,
and the most common opening paths — all vectorised over the event rows.

A *session* is a run of one customer's events with no gap longer than ``gap_minutes``
between neighbours (30 minutes, the usual web-analytics convention). Each session is
START → its event types in time order → EXIT, so P(EXIT | state) is where sessions end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

START = "START"
EXIT = "EXIT"
DEFAULT_GAP_MINUTES = 30
DEFAULT_PATH_STEPS = 4
DEFAULT_TOP_PATHS = 20


@dataclass(frozen=True)
class Sequences:
    states: list[str]  # START, the event types (sorted), EXIT
    counts: np.ndarray  # states × states transition counts; row EXIT and column START are 0
    events: int
    sessions: int
    paths: list[dict]  # {"steps": [...], "sessions": n, "share": s}, most common first

    def probabilities(self) -> np.ndarray:
        """Row-normalised counts (each non-empty row sums to 1)."""
        totals = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, totals, out=np.zeros(self.counts.shape), where=totals > 0)


def sessions_split(customer: np.ndarray, seconds: np.ndarray, *, gap_minutes: float = DEFAULT_GAP_MINUTES
                   ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """For events sorted by customer then time: each event's session number (0..) and its
    position in the session (0..). A new session starts at a new customer or after a gap
    longer than ``gap_minutes``."""
    if customer.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.ones(customer.size, dtype=bool)
    starts[1:] = (customer[1:] != customer[:-1]) | (np.diff(seconds) > gap_minutes * 60)
    session = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    position = np.arange(customer.size) - first[session]
    return session, position


def sequences_compute(events: pd.DataFrame, *, gap_minutes: float = DEFAULT_GAP_MINUTES,
                      path_steps: int = DEFAULT_PATH_STEPS, top_paths: int = DEFAULT_TOP_PATHS,
                      types: list[str] | None = None) -> Sequences:  # fmt: skip
    """The Markov model and common paths of ``events`` (columns customer_id, seconds — any
    numeric time in seconds — and type; any order). A path is the first ``path_steps``
    event types of a session, ending in EXIT when the session is that short or shorter."""
    frame = events.sort_values(["customer_id", "seconds"], kind="stable")
    types = sorted(set(types or []) | set(frame["type"].unique()))
    states = [START, *types, EXIT]
    code = {state: index for index, state in enumerate(states)}
    kind = frame["type"].map(code).to_numpy(dtype=np.int64)
    customer = frame["customer_id"].to_numpy()
    session, position = sessions_split(customer, frame["seconds"].to_numpy(dtype=np.float64),
                                       gap_minutes=gap_minutes)  # fmt: skip
    size = len(states)
    if kind.size == 0:
        return Sequences(states=states, counts=np.zeros((size, size), dtype=np.int64), events=0, sessions=0, paths=[])
    previous = np.empty_like(kind)
    previous[0] = code[START]
    previous[1:] = np.where(position[1:] == 0, code[START], kind[:-1])
    last = np.ones(kind.size, dtype=bool)
    last[:-1] = session[1:] != session[:-1]
    source = np.concatenate([previous, kind[last]])
    target = np.concatenate([kind, np.full(int(last.sum()), code[EXIT])])
    counts = np.bincount(source * size + target, minlength=size * size).reshape(size, size)
    sessions = int(session[-1]) + 1
    return Sequences(states=states, counts=counts, events=int(kind.size), sessions=sessions,
                     paths=_common_paths(kind, session, position, sessions, states, path_steps, top_paths))  # fmt: skip


def _common_paths(kind: np.ndarray, session: np.ndarray, position: np.ndarray, sessions: int, states: list[str],
                  steps: int, top: int) -> list[dict]:  # fmt: skip
    """Encode each session's first ``steps`` states (EXIT appended when it ends sooner) as
    one integer in base len(states), count the codes, decode only the top ones."""
    base = len(states)
    exit_code = base - 1
    length = np.bincount(session, minlength=sessions)
    early = position < steps
    digits = np.zeros((sessions, steps + 1), dtype=np.int64)
    digits[session[early], position[early]] = kind[early]
    short = length < steps + 1
    digits[np.flatnonzero(short), np.minimum(length[short], steps)] = exit_code
    width = np.minimum(length, steps) + short  # states in the path, EXIT included
    weights = base ** np.arange(steps, -1, -1, dtype=np.int64)
    path_code = digits @ weights
    frame = pd.DataFrame({"code": path_code, "width": width})
    counted = frame.value_counts(["code", "width"], sort=False).reset_index(name="sessions")
    counted = counted.sort_values(["sessions", "code"], ascending=[False, True], kind="stable").head(top)
    paths = []
    for path, width_ in zip(counted["code"].to_numpy(), counted["width"].to_numpy(), strict=True):
        decoded = [(int(path) // int(w)) % base for w in weights][: int(width_)]
        paths.append({"steps": [states[d] for d in decoded]})
    for entry, n in zip(paths, counted["sessions"].to_numpy(), strict=True):
        entry["sessions"] = int(n)
        entry["share"] = float(n) / sessions
    return paths
