"""The churn page: the latest training's comparison next to the recency baseline, the
chosen model's confusion matrix, calibration and what drives churn; train again, or pick
another model for scoring."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from analytics.churn.alerts import (
    EnrollmentUnavailable,
    alert_threshold,
    alert_top_spend_share,
    churn_alerts,
    churn_alerts_enroll,
    churn_enrollment_targets,
)
from analytics.churn.selectors import churn_comparison_rows, churn_model_active, churn_models
from analytics.churn.services import (
    MAX_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    ChurnTrainingError,
    churn_model_choose,
    churn_train_start,
)
from analytics.models import ChurnModel

MODEL_LABELS = {
    "logistic_regression": gettext_lazy("Logistic regression"),
    "decision_tree": gettext_lazy("Decision tree"),
    "random_forest": gettext_lazy("Random forest"),
    "gradient_boosting": gettext_lazy("Gradient boosting"),
    "recency_only": gettext_lazy("Recency only (baseline)"),
}


class TrainForm(forms.Form):
    horizon_days = forms.IntegerField(
        label=gettext_lazy("Horizon (days without a purchase)"), min_value=MIN_HORIZON_DAYS,
        max_value=MAX_HORIZON_DAYS, initial=90,
    )  # fmt: skip


def _chart_data(version: ChurnModel | None) -> dict:
    if version is None or not version.evaluations:
        return {}
    chosen = version.evaluation(version.chosen) or {}
    return {
        "calibration": chosen.get("calibration", []),
        "importance": chosen.get("importance", [])[:12],
        "labels": {"predicted": _("Predicted churn risk"), "observed": _("Observed churn share"),
                   "importance": _("Drop in ROC AUC when the feature is shuffled")},
    }  # fmt: skip


@login_required
@permission_required("analytics.view_churnmodel", raise_exception=True)
def churn_page(request):
    latest = churn_models(limit=1).first()
    shown = latest if latest and latest.status == ChurnModel.Status.SUCCEEDED else churn_model_active()
    rows = churn_comparison_rows(shown) if shown else []
    for row in rows:
        row["label"] = MODEL_LABELS.get(row["name"], row["name"])
    chosen = shown.evaluation(shown.chosen) if shown else None
    context = {
        "latest": latest,
        "shown": shown,
        "rows": rows,
        "chosen": chosen,
        "chosen_label": MODEL_LABELS.get(shown.chosen, "") if shown else "",
        "versions": churn_models(limit=10),
        "form": TrainForm(),
        "can_train": request.user.has_perm("analytics.add_churnmodel"),
        "chart_data": _chart_data(shown),
    }
    return render(request, "analytics/churn.html", context)


@login_required
@permission_required("analytics.add_churnmodel", raise_exception=True)
@require_POST
def churn_train(request):
    form = TrainForm(request.POST)
    if form.is_valid():
        version = churn_train_start(horizon_days=form.cleaned_data["horizon_days"], user=request.user)
        if request.htmx:
            return render(request, "jobs/partials/progress.html", {"job": version.job})
        messages.success(request, _("Training started."))
    else:
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("analytics:churn")


@login_required
@permission_required("analytics.change_churnmodel", raise_exception=True)
@require_POST
def churn_choose(request, model_id: int):
    version = get_object_or_404(ChurnModel, pk=model_id)
    name = request.POST.get("model", "")
    try:
        churn_model_choose(model_id=version.pk, name=name)
    except ChurnTrainingError as refusal:
        messages.error(request, str(refusal))
    else:
        label = MODEL_LABELS.get(name, name)
        messages.success(request, _("%(model)s now scores every customer (scoring queued).") % {"model": label})
    return redirect("analytics:churn")


ALERT_DAYS = (1, 7, 30)


@login_required
@permission_required("analytics.view_churnalert", raise_exception=True)
def churn_alerts_page(request):
    """The early-warning list: valuable customers whose risk crossed the threshold."""
    days = int(request.GET.get("days", 7)) if request.GET.get("days", "7").isdigit() else 7
    days = days if days in ALERT_DAYS else 7
    alerts = list(churn_alerts(days=days)[:500])
    context = {
        "alerts": alerts,
        "days": days,
        "day_choices": ALERT_DAYS,
        "threshold": alert_threshold(),
        "top_share": alert_top_spend_share(),
        "targets": churn_enrollment_targets(),
        "can_enroll": request.user.has_perm("analytics.change_churnalert"),
    }
    return render(request, "analytics/churn_alerts.html", context)


@login_required
@permission_required("analytics.change_churnalert", raise_exception=True)
@require_POST
def churn_alerts_enroll_view(request):
    ids = [int(value) for value in request.POST.getlist("alert") if value.isdigit()]
    try:
        enrolled = churn_alerts_enroll(alert_ids=ids, target=request.POST.get("target", ""))
    except EnrollmentUnavailable:
        messages.error(request, _("No retention campaign can take customers yet."))
    else:
        messages.success(request, _("%(count)d customers enrolled.") % {"count": enrolled})
    return redirect("analytics:churn-alerts")
