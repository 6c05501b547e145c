"""The churn analysis page: the latest training's model comparison as a table and a bar
chart, the distribution of current risks as a histogram, the valuable customers at risk
and what drives churn; each with a CSV download. Read-only: training, choosing the model
and scoring happen on the analytics churn page, which this one links to."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.churn.alerts import alert_threshold
from analytics.models import ChurnModel
from reports.churn.api import VIEW_PERMISSION, at_risk_data, churn_report_data, comparison_data
from reports.churn.selectors import (
    DEFAULT_AT_RISK_LIMIT,
    FIGURES,
    churn_drivers,
    churn_risk_distribution,
    churn_training_latest,
    churn_value_default,
    customers_at_risk,
)
from reports.downloads import csv_download

CSV_TABLES = ("models", "distribution", "at-risk", "drivers")
CHART_DRIVERS = 15  # the chart shows the strongest ones; the table and CSV list all


class AtRiskFilterForm(forms.Form):
    threshold = forms.FloatField(label=gettext_lazy("Churn risk at least"), min_value=0.0, max_value=1.0,
                                 required=False)  # fmt: skip
    value = forms.ChoiceField(label=gettext_lazy("Value"), required=False,
                              choices=[("clv", gettext_lazy("Customer lifetime value")),
                                       ("spend", gettext_lazy("All-time spend"))])  # fmt: skip

    def report_arguments(self) -> dict:
        """Arguments of ``customers_at_risk``: the defaults where a value is missing or bad."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        threshold = data.get("threshold")
        return {"threshold": alert_threshold() if threshold is None else threshold,
                "value": data.get("value") or churn_value_default()}  # fmt: skip


def _report(request) -> tuple[AtRiskFilterForm, dict]:
    form = AtRiskFilterForm(request.GET or None)
    return form, churn_report_data(limit=DEFAULT_AT_RISK_LIMIT, **form.report_arguments())


def _chart(report: dict) -> dict:
    models = [row for row in report["comparison"] if not row["baseline"]]
    baseline = next((row for row in report["comparison"] if row["baseline"]), None)
    return {
        "models": {"labels": [row["label"] for row in models],
                   "figures": {figure: [row[figure] for row in models]
                               for figure in ("roc_auc", "accuracy", "precision", "recall")},
                   "baseline": baseline["roc_auc"] if baseline else None},  # fmt: skip
        "distribution": {"labels": [f"{row['low']:.1f}–{row['high']:.1f}" for row in report["distribution"]],
                         "customers": [row["customers"] for row in report["distribution"]]},  # fmt: skip
        "drivers": report["drivers"][:CHART_DRIVERS],
        "names": {"roc_auc": "ROC AUC", "accuracy": _("Accuracy"), "precision": _("Precision"),
                  "recall": _("Recall"), "baseline": _("Recency only (baseline), ROC AUC"),
                  "customers": _("Customers"), "importance": _("Drop in ROC AUC when the feature is shuffled")},
    }  # fmt: skip


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def churn_page(request):
    """The whole page, or (htmx, new filters) only the at-risk list: that fragment reads
    nothing else."""
    query = request.GET.urlencode()
    if request.htmx and request.GET:
        form = AtRiskFilterForm(request.GET)
        at_risk = at_risk_data(customers_at_risk(limit=DEFAULT_AT_RISK_LIMIT, **form.report_arguments()))
        return render(request, "reports/partials/churn_at_risk.html", {"at_risk": at_risk, "query": query})
    form, report = _report(request)
    context = {
        "form": form,
        "report": report,
        "at_risk": report["at_risk"],
        "query": query,
        "newer_training": _newer_training(report["training"]),
        "chart": _chart(report),
    }
    return render(request, "reports/churn.html", context)


def _newer_training(training: dict | None) -> ChurnModel | None:
    """A training started after the one shown that is still running or failed."""
    newer = ChurnModel.objects.defer("pipelines").exclude(status=ChurnModel.Status.SUCCEEDED)
    if training is not None:
        newer = newer.filter(created_at__gt=training["created_at"])
    return newer.first()


def _number(value) -> str:
    return "" if value is None else f"{value:.6f}"


def _money(amount) -> str:
    return "" if amount is None else f"{amount:.2f}"


def _csv_rows(table: str, form: AtRiskFilterForm) -> list[list]:
    """Only the part asked for is read (the risk distribution and the at-risk list each
    scan the feature table)."""
    if table in ("models", "drivers"):
        training = churn_training_latest()
        if table == "drivers":
            drivers = churn_drivers(training) if training else []
            return [["feature", "importance"]] + [[row["feature"], _number(row["importance"])] for row in drivers]
        return [["model", "baseline", "chosen", *FIGURES]] + [
            [row["name"], int(row["baseline"]), int(row["chosen"]), *[_number(row[figure]) for figure in FIGURES]]
            for row in comparison_data(training)
        ]
    if table == "distribution":
        return [["risk_from", "risk_to", "customers"]] + [
            [f"{row['low']:.4f}", f"{row['high']:.4f}", row["customers"]] for row in churn_risk_distribution()
        ]
    at_risk = customers_at_risk(limit=DEFAULT_AT_RISK_LIMIT, **form.report_arguments())
    rows = [["customer_id", "name", "churn_risk", "spend", "clv"]]
    rows += [[row["external_id"], row["name"], _number(row["churn_risk"]), _money(row["spend"]), _money(row["clv"])]
             for row in at_risk.top]  # fmt: skip
    stake = _money(at_risk.value_at_stake)
    rows.append(["all", f"{at_risk.customers} customers at risk ≥ {at_risk.threshold:g}", "",
                 *([stake, ""] if at_risk.value == "spend" else ["", stake])])  # fmt: skip
    return rows


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def churn_csv(request, table: str):
    """The numbers behind one part of the page (same GET filters), as CSV."""
    if table not in CSV_TABLES:
        raise Http404
    form = AtRiskFilterForm(request.GET or None)
    return csv_download(_csv_rows(table, form), f"churn-{table}.csv")
