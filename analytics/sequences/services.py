"""Compute the behaviour-sequence model over the shop's events and store it."""

from __future__ import annotations

import datetime as dt
import time

from django.contrib.auth import get_user_model

from analytics.models import BehaviourPaths
from analytics.sequences import model
from analytics.sequences.selectors import event_rows
from customers.models import EventType


def behaviour_paths_compute(
    *,
    gap_minutes: int = model.DEFAULT_GAP_MINUTES,
    path_steps: int = model.DEFAULT_PATH_STEPS,
    top_paths: int = model.DEFAULT_TOP_PATHS,
    since: dt.datetime | None = None,
    user_id: int | None = None,
) -> BehaviourPaths:
    """Read the events (one query), compute transitions, exits and common paths (vectorised)
    and store them as a new BehaviourPaths row (the page shows the latest)."""
    started = time.perf_counter()
    events = event_rows(since=since)
    result = model.sequences_compute(events, gap_minutes=gap_minutes, path_steps=path_steps, top_paths=top_paths,
                                     types=list(EventType.values))  # fmt: skip
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return BehaviourPaths.objects.create(
        created_by=user, gap_minutes=gap_minutes, path_steps=path_steps, since=since, events=result.events,
        sessions=result.sessions, states=result.states, transitions=result.counts.tolist(), paths=result.paths,
        seconds=round(time.perf_counter() - started, 3),
    )  # fmt: skip
