"""Funnel pages: the list with a form to define one (step rows added and removed with htmx),
edit, delete, and a funnel's result — a bar chart of customers per step with drop-offs, a
table of conversions and step-to-step times, filters (date range, segment) as GET
parameters and a CSV download of the numbers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from reports.downloads import csv_download
from reports.funnels.api import (
    ADD_PERMISSION,
    DELETE_PERMISSION,
    EDIT_PERMISSION,
    VIEW_PERMISSION,
    funnel_result_data,
)
from reports.funnels.forms import (
    FILTER_LABELS,
    FunnelFilterForm,
    FunnelForm,
    blank_rows,
    event_choices,
    rows_with_errors,
    step_rows_from_post,
    steps_from_rows,
)
from reports.funnels.models import Funnel
from reports.funnels.schema import MAX_STEPS, FunnelInvalid
from reports.funnels.selectors import funnel_result
from reports.funnels.services import funnel_create, funnel_delete, funnel_update


def duration_text(seconds: float | None) -> str:
    """A time between steps the way a marketer reads it: the two largest units."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, _("d")), (hours, _("h")), (minutes, _("min")), (seconds, _("s"))]
    shown = [f"{value} {unit}" for value, unit in parts if value][:2]
    return " ".join(shown) or f"0 {_('s')}"


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


def _form_context(form: FunnelForm, rows: list[dict], funnel: Funnel | None = None) -> dict:
    return {"form": form, "step_rows": rows, "event_choices": event_choices(), "filter_labels": FILTER_LABELS,
            "max_steps": MAX_STEPS, "funnel": funnel}  # fmt: skip


def _save(request, funnel: Funnel | None):
    """Validate the posted form and steps; save, or the context to show the errors in."""
    if not request.user.has_perm(ADD_PERMISSION if funnel is None else EDIT_PERMISSION):
        raise PermissionDenied
    form = FunnelForm(request.POST)
    rows = step_rows_from_post(request.POST)
    invalid = None
    if form.is_valid():
        data = form.cleaned_data | {"steps": steps_from_rows(rows)}
        try:
            if funnel is None:
                return funnel_create(user=request.user, **data), None
            return funnel_update(funnel=funnel, user=request.user, **data), None
        except FunnelInvalid as error:
            invalid = error
            for problem in error.errors:
                if problem.field in form.fields:
                    form.add_error(problem.field, problem.message)
                elif not (problem.field or "").startswith("steps["):
                    form.add_error(None, problem.message)
    return None, _form_context(form, rows_with_errors(rows, invalid) or blank_rows(), funnel)


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def funnel_list(request):
    if request.method == "POST":
        funnel, context = _save(request, None)
        if funnel is not None:
            return redirect("reports:funnel", funnel_id=funnel.pk)
        status = 400
    else:
        context, status = _form_context(FunnelForm(), blank_rows()), 200
    context["funnels"] = Funnel.objects.select_related("segment").order_by("name", "pk")
    context["can_edit"] = request.user.has_perm(ADD_PERMISSION)
    return render(request, "reports/funnels.html", context, status=status)


@login_required
@permission_required(EDIT_PERMISSION, raise_exception=True)
def funnel_edit(request, funnel_id: int):
    funnel = get_object_or_404(Funnel, pk=funnel_id)
    if request.method == "POST":
        saved, context = _save(request, funnel)
        if saved is not None:
            return redirect("reports:funnel", funnel_id=saved.pk)
        return render(request, "reports/funnel_edit.html", context, status=400)
    form = FunnelForm(initial={"name": funnel.name, "description": funnel.description, "segment": funnel.segment,
                               "window_value": funnel.window_value, "window_unit": funnel.window_unit})  # fmt: skip
    rows = [dict.fromkeys(("event", *FILTER_LABELS), "") | step for step in funnel.steps]
    return render(request, "reports/funnel_edit.html", _form_context(form, rows_with_errors(rows, None), funnel))


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_GET
def funnel_step_row(request):
    """One blank step row (htmx: the "add a step" button appends it)."""
    row = blank_rows(1)[0]
    return render(request, "reports/partials/funnel_step_row.html",
                  {"row": row, "event_choices": event_choices(), "filter_labels": FILTER_LABELS})  # fmt: skip


@login_required
@permission_required(DELETE_PERMISSION, raise_exception=True)
@require_POST
def funnel_remove(request, funnel_id: int):
    funnel_delete(funnel=get_object_or_404(Funnel, pk=funnel_id), user=request.user)
    return redirect("reports:funnels")


def _result(request, funnel: Funnel):
    form = FunnelFilterForm(request.GET or None, initial={"segment": funnel.segment})
    arguments = form.result_arguments(funnel)
    return form, arguments, funnel_result(funnel=funnel, **arguments)


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def funnel_page(request, funnel_id: int):
    funnel = get_object_or_404(Funnel.objects.select_related("segment"), pk=funnel_id)
    form, arguments, result = _result(request, funnel)
    steps = funnel_result_data(result, funnel)
    for step in steps:
        step |= {key.replace("_seconds", "_text"): duration_text(step[key])
                 for key in ("median_seconds", "p75_seconds", "p90_seconds")}  # fmt: skip
        step |= {"from_start_percent": _percent(step["conversion_from_start"]),
                 "from_previous_percent": _percent(step["conversion_from_previous"])}  # fmt: skip
    query = request.GET.copy()
    query.setdefault("start", arguments["first_day"].isoformat())
    query.setdefault("end", arguments["last_day"].isoformat())
    query.setdefault("segment", arguments["segment_id"] or "")
    chart = {
        "labels": [f"{step['number']}. {step['label']}" for step in steps],
        "customers": [step["customers"] for step in steps],
        "drop_off": [step["drop_off"] for step in steps],
        "names": {"customers": _("Reached the step"), "drop_off": _("Dropped off before it")},
    }
    context = {"funnel": funnel, "form": form, "arguments": arguments, "result": result, "steps": steps,
               "chart": chart, "query": query.urlencode(), "conversion_percent": _percent(result.conversion),
               "can_edit": request.user.has_perm(EDIT_PERMISSION)}  # fmt: skip
    template = "reports/partials/funnel_result.html" if request.htmx else "reports/funnel_detail.html"
    return render(request, template, context)


CSV_HEADER = ["step", "label", "event", "sku", "category", "query_contains", "path_prefix", "customers",
              "conversion_from_start", "conversion_from_previous", "drop_off", "drop_off_rate", "median_seconds",
              "p75_seconds", "p90_seconds"]  # fmt: skip


def _cell(value) -> str:
    if value is None:
        return ""
    return f"{value:.6f}" if isinstance(value, float) else str(value)


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def funnel_csv(request, funnel_id: int):
    """The numbers of the page (same GET filters), one row per step."""
    funnel = get_object_or_404(Funnel, pk=funnel_id)
    _form, arguments, result = _result(request, funnel)
    rows = [CSV_HEADER] + [
        [step["number"], *[_cell(step.get(name, "")) for name in CSV_HEADER[1:]]]
        for step in funnel_result_data(result, funnel)
    ]
    name = f"funnel-{funnel.pk}-{arguments['first_day']:%Y%m%d}-{arguments['last_day']:%Y%m%d}.csv"
    return csv_download(rows, name)
