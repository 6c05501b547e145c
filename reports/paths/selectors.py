"""Reads for the behaviour paths report: the latest stored computation of analytics'
behaviour-sequence Markov model, shaped into the most common paths, where sessions end
and the transition probabilities. Nothing is recomputed here (that is the analytics
paths page's "Compute now")."""

from __future__ import annotations

from analytics.models import BehaviourPaths
from analytics.sequences.model import EXIT, START
from analytics.sequences.selectors import behaviour_paths_latest
from reports.paths.exits import exit_points, transition_probabilities

COMPUTATION_FIELDS = ("id", "created_at", "gap_minutes", "path_steps", "since", "events", "sessions")


def paths_computation_latest() -> BehaviourPaths | None:
    return behaviour_paths_latest()


def paths_report(computation: BehaviourPaths | None = None) -> dict:
    """The latest computation (or the one given) as plain data: ``computation`` (when and
    with which session gap; ``None`` before the first one), ``paths`` (the most common
    opening paths with their sessions and share), ``exits`` (per state, see
    ``exits.exit_points``) and the transition matrix (``states``, ``counts`` and
    ``probabilities``, row = from, column = to)."""
    computation = computation or paths_computation_latest()
    if computation is None:
        return {"computation": None, "paths": [], "exits": [], "states": [], "counts": [], "probabilities": []}
    states, counts = list(computation.states), [list(row) for row in computation.transitions]
    return {
        "computation": {field: getattr(computation, field) for field in COMPUTATION_FIELDS},
        "paths": [
            {"steps": list(path["steps"]), "sessions": int(path["sessions"]), "share": float(path["share"])}
            for path in computation.paths
        ],  # fmt: skip
        "exits": exit_points(states, counts),
        "states": states,
        "counts": counts,
        "probabilities": transition_probabilities(states, counts),
    }


def heatmap(report: dict) -> dict:
    """The matrix as the page shows it: from-states without EXIT (it has no next step),
    to-states without START (nothing leads to it); each cell's count, probability and
    shade (0..1)."""
    states = report["states"]
    columns = [index for index, state in enumerate(states) if state != START]
    rows = []
    for index, state in enumerate(states):
        if state == EXIT:
            continue
        cells = [{"count": report["counts"][index][column], "probability": report["probabilities"][index][column],
                  "shade": round(report["probabilities"][index][column], 3)} for column in columns]  # fmt: skip
        rows.append({"state": state, "transitions": sum(report["counts"][index]), "cells": cells})
    return {"columns": [states[column] for column in columns], "rows": rows}
