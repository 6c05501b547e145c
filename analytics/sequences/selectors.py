"""Reads for the behaviour-sequence model: the event rows (one query, COPY on PostgreSQL)
and the stored computations the page and the API show."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db import connection

from analytics.models import BehaviourPaths
from analytics.recommendations.selectors import sql_frame
from customers.models import Event, EventType

EVENTS = Event._meta.db_table


def event_rows(*, since: dt.datetime | None = None) -> pd.DataFrame:
    """customer_id, seconds (Unix time) and type of every event (since ``since``). The type
    travels as a small integer and the time as a number, so 28M rows stay a few hundred MB;
    rows are sorted in NumPy, not by the database."""
    codes = {kind: index for index, kind in enumerate(EventType.values)}
    type_code = "CASE type " + " ".join(f"WHEN '{kind}' THEN {index}" for kind, index in codes.items()) + " ELSE -1 END"
    if connection.vendor == "postgresql":
        seconds = "EXTRACT(EPOCH FROM occurred_at)"
    else:
        seconds = "(julianday(occurred_at) - 2440587.5) * 86400.0"
    where, params = "", []
    if since is not None:
        where, params = " WHERE occurred_at >= %s", [connection.ops.adapt_datetimefield_value(since)]
    frame = sql_frame(f"SELECT customer_id, {seconds}, {type_code} FROM {EVENTS}{where}", params,
                      ["customer_id", "seconds", "code"])  # fmt: skip
    frame = frame.astype({"customer_id": np.int64, "seconds": np.float64, "code": np.int64})
    names = np.array([*EventType.values, "other"], dtype=object)
    frame["type"] = pd.Categorical.from_codes(np.where(frame["code"] < 0, len(codes), frame["code"]),
                                              categories=list(names))  # fmt: skip
    return frame.drop(columns="code")


def behaviour_paths_latest() -> BehaviourPaths | None:
    return BehaviourPaths.objects.first()


def next_actions(paths: BehaviourPaths, state: str) -> list[dict]:
    """P(next state | ``state``) from a stored computation, most likely first."""
    if state not in paths.states:
        return []
    row = paths.transitions[paths.states.index(state)]
    total = sum(row)
    if not total:
        return []
    pairs = [{"state": paths.states[i], "count": n, "probability": n / total} for i, n in enumerate(row) if n]
    return sorted(pairs, key=lambda pair: -pair["count"])
