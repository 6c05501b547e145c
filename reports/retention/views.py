"""The retention page: the cohort × period matrix as a heatmap, active customers per period
as a chart, the repurchase rate; each with a CSV download of its numbers. Filters are GET
parameters (period, segment, cohorts), so every view of the report has its own address."""

from __future__ import annotations

import numpy as np
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from reports.downloads import csv_download
from reports.retention.api import MAX_COHORTS, VIEW_PERMISSION, retention_data
from reports.retention.cohorts import DEFAULT_COHORTS, Retention
from reports.retention.refresh import retention_refreshed_at
from reports.retention.selectors import retention_report
from reports.retention.tasks import retention_refresh_task
from segments.models import Segment

CSV_TABLES = ("matrix", "active", "repurchase")
REFRESH_PERMISSION = "reports.add_retentionrefresh"


class RetentionFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Cohort period"), choices=[("month", _("Monthly")), ("week", _("Weekly"))],
                               required=False)  # fmt: skip
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.order_by("name", "pk"),
                                     required=False, empty_label=_("All customers"))  # fmt: skip
    cohorts = forms.IntegerField(label=_("Cohorts"), min_value=1, max_value=MAX_COHORTS, required=False)

    def report_arguments(self) -> dict:
        """Arguments of ``retention_report``: the defaults where a value is missing or bad
        (the valid fields still apply)."""
        data = {}
        if self.is_bound:
            self.is_valid()  # fills cleaned_data with the fields that are valid
            data = self.cleaned_data
        segment = data.get("segment")
        return {"period": data.get("period") or "month", "cohorts": data.get("cohorts"),
                "segment_id": segment.pk if segment else None}  # fmt: skip


def _report(request) -> tuple[RetentionFilterForm, Retention]:
    form = RetentionFilterForm(request.GET or None, initial={"period": "month"})
    return form, retention_report(**form.report_arguments())


def _heatmap(retention: Retention) -> list[dict]:
    """One row per cohort with each cell's percentage and shade (0..1), None when unknown."""
    rows = []
    for index, start in enumerate(retention.periods):
        cells = [None if np.isnan(value) else {"percent": value * 100, "shade": round(float(value), 3)}
                 for value in retention.matrix[index]]  # fmt: skip
        rate = retention.cohort_repurchase_rates[index]
        rows.append({"start": start, "size": int(retention.sizes[index]), "cells": cells,
                     "repurchase_percent": None if rate is None else rate * 100})  # fmt: skip
    return rows


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def retention_page(request):
    form, retention = _report(request)
    data = retention_data(retention)
    rate = retention.repurchase_rate
    chart = {
        "labels": [start.isoformat() for start in retention.periods],
        "active": data["active"],
        "names": {
            "active": str(_("Active customers")),
            "new": str(_("New customers")),
            "returning": str(_("Returning customers")),
        },
    }
    context = {
        "form": form,
        "retention": retention,
        "weekly": retention.period == "week",
        "offsets": list(range(len(retention.periods))),
        "heatmap": _heatmap(retention),
        "active": data["active"],
        "chart": chart,
        "repurchase_percent": None if rate is None else rate * 100,
        "repeat_customers": int(retention.repeat_customers.sum()),
        "query": request.GET.urlencode(),
        "default_cohorts": DEFAULT_COHORTS[retention.period],
        "refreshed_at": retention_refreshed_at(),
        "can_refresh": request.user.has_perm(REFRESH_PERMISSION),
    }
    return render(request, "reports/retention.html", context)


@login_required
@permission_required(REFRESH_PERMISSION, raise_exception=True)
@require_POST
def retention_refresh_view(request):
    """Queue a full rebuild of the retention tables (the hourly one only adds new orders)."""
    retention_refresh_task.delay(full=True)
    messages.success(request, _("The retention figures are being rebuilt from all orders; reload in a minute."))
    return redirect("reports:retention")


def _csv_rows(table: str, retention: Retention) -> list[list]:
    data = retention_data(retention)
    if table == "matrix":
        header = ["cohort", "customers", *[f"period_{offset}" for offset in range(len(data["cohorts"]))]]
        rows = zip(data["cohorts"], data["sizes"], data["matrix"], strict=True)
        return [header] + [[start.isoformat(), size, *["" if value is None else f"{value:.6f}" for value in shares]]
                           for start, size, shares in rows]  # fmt: skip
    if table == "active":
        return [["period", "active", "new", "returning"]] + [
            [row["period"].isoformat(), row["active"], row["new"], row["returning"]] for row in data["active"]
        ]
    rows = [["cohort", "customers", "repeat_customers", "repurchase_rate"]]
    for start, size, repeat, rate in zip(data["cohorts"], data["sizes"], data["repeat_customers"],
                                         data["cohort_repurchase_rates"], strict=True):  # fmt: skip
        rows.append([start.isoformat(), size, repeat, "" if rate is None else f"{rate:.6f}"])
    total = data["repurchase_rate"]
    rows.append(["all", data["customers"], sum(data["repeat_customers"]), "" if total is None else f"{total:.6f}"])
    return rows


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def retention_csv(request, table: str):
    """The numbers behind one part of the page (same GET filters), as CSV."""
    if table not in CSV_TABLES:
        raise Http404
    _form, retention = _report(request)
    return csv_download(_csv_rows(table, retention), f"retention-{retention.period}-{table}.csv")
