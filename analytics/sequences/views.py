"""The behaviour paths page: the transition matrix as a heatmap table, next-action
probabilities per state, where sessions end and the most common opening paths."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.sequences.api import VIEW_PERMISSION
from analytics.sequences.model import EXIT, START
from analytics.sequences.selectors import behaviour_paths_latest, next_actions

COMPUTE_PERMISSIONS = ("analytics.add_behaviourpaths", "customers.change_order")


def behaviour_paths_compute_allowed(user) -> bool:
    return bool(user and user.is_authenticated and any(user.has_perm(p) for p in COMPUTE_PERMISSIONS))


def _matrix(paths) -> dict:
    """Rows (from-states but EXIT) with each cell's probability and a shade 0..1."""
    states = paths.states
    columns = [state for state in states if state != START]
    rows = []
    for index, state in enumerate(states):
        if state == EXIT:
            continue
        counts = paths.transitions[index]
        total = sum(counts)
        cells = []
        for column in columns:
            count = counts[states.index(column)]
            share = count / total if total else 0.0
            cells.append({"state": column, "count": count, "probability": share, "shade": round(share, 3)})
        rows.append({"state": state, "total": total, "cells": cells,
                     "exit": cells[-1]["probability"] if total else None})  # fmt: skip
    return {"columns": columns, "rows": rows}


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def paths_page(request):
    paths = behaviour_paths_latest()
    state = request.GET.get("state", START)
    context = {"paths": paths, "can_compute": behaviour_paths_compute_allowed(request.user), "state": state}
    if paths is not None:
        context.update(matrix=_matrix(paths), next_actions=next_actions(paths, state),
                       from_states=[s for s in paths.states if s != EXIT])  # fmt: skip
    if request.htmx and request.GET.get("state"):
        return render(request, "analytics/partials/paths_next.html", context)
    return render(request, "analytics/paths.html", context)


@login_required
@require_POST
def paths_compute(request):
    """Queue the computation (a worker runs it; eager in tests), then back to the page."""
    if not behaviour_paths_compute_allowed(request.user):
        raise PermissionDenied
    from analytics.tasks import behaviour_paths_compute_task

    behaviour_paths_compute_task.delay(user_id=request.user.pk)
    messages.info(request, _("Behaviour paths are being computed; reload the page in a moment."))
    return redirect("analytics:paths")
