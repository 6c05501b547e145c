"""Analytics pages: the index, and the sentiment page (model figures, "Train now" with a
progress bar, sentiment per category / product over time, aspects, and a text to try)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from analytics.clv.api import CLV_VIEW_PERMISSION, clv_fit_allowed
from analytics.clv.jobs import CLV_JOB_KIND, DEFAULT_HOLDOUT_WEEKS, ClvFitRequestError, clv_fit_start, clv_moment_day
from analytics.clv.selectors import clv_fits, clv_orders_last_day
from analytics.models import ClvFit, SentimentModel
from analytics.sentiment.api import SCORE_PERMISSION, sentiment_train_allowed
from analytics.sentiment.model import ASPECTS, MAX_TEXT_CHARS
from analytics.sentiment.selectors import (
    sentiment_aspects,
    sentiment_model_active,
    sentiment_models,
    sentiment_over_time,
    sentiment_top_keys,
    sentiment_totals,
)
from analytics.sentiment.services import TRAIN_JOB_KIND, sentiment_train_start, texts_score
from jobs.models import Job

ASPECT_LABELS = {
    "quality": gettext_lazy("Quality"),
    "logistics": gettext_lazy("Logistics and delivery"),
    "service": gettext_lazy("Service"),
    "price": gettext_lazy("Price"),
    "packaging": gettext_lazy("Packaging"),
}
LABEL_NAMES = {
    "positive": gettext_lazy("Positive"),
    "neutral": gettext_lazy("Neutral"),
    "negative": gettext_lazy("Negative"),
}
CHART_MONTHS = 12


@login_required
def index(request):
    return render(request, "analytics/index.html")


class TryTextForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Text"), max_length=MAX_TEXT_CHARS,
                           widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip


def _figures(version: SentimentModel | None) -> dict:
    """The active version's figures, shaped for the template."""
    if version is None:
        return {}
    metrics = version.metrics or {}
    held = metrics.get("held_out") or {}
    confusion = held.get("confusion") or [[0, 0], [0, 0]]
    external = metrics.get("external") or {}
    return {
        "held_out": held,
        "confusion_rows": [
            {"truth": LABEL_NAMES["negative"], "cells": confusion[0]},
            {"truth": LABEL_NAMES["positive"], "cells": confusion[1]},
        ],
        "per_class": [
            {"label": LABEL_NAMES[label], "precision": held.get("precision", {}).get(label),
             "recall": held.get("recall", {}).get(label), "f1": held.get("f1", {}).get(label),
             "support": held.get("support", {}).get(label)}
            for label in ("negative", "positive")
        ],
        "external_sets": [{"name": name, **figures} for name, figures in (external.get("sets") or {}).items()],
        "lexicon": metrics.get("lexicon") or {},
        "counts": metrics.get("counts") or {},
        "refusal": metrics.get("refusal"),
    }  # fmt: skip


def _trend_chart(by: str) -> dict:
    since = timezone.now() - dt.timedelta(days=31 * CHART_MONTHS)
    keys = sentiment_top_keys(by=by, limit=6)
    rows = sentiment_over_time(by=by, period="month", keys=keys)
    periods = sorted(
        {row["period"] for row in rows if row["period"] >= since.date()} or {row["period"] for row in rows}
    )
    periods = periods[-CHART_MONTHS:]
    series = {key: dict.fromkeys(periods) for key in keys}
    for row in rows:
        if row["period"] in series.get(row["key"], {}):
            series[row["key"]][row["period"]] = row["average"]
    return {
        "periods": [period.strftime("%Y-%m") for period in periods],
        "series": [{"label": key, "values": list(values.values())} for key, values in series.items()],
        "labels": {"average": _("Average sentiment (−1 to 1)")},
    }


@login_required
@permission_required(SCORE_PERMISSION, raise_exception=True)
def sentiment_page(request):
    by = request.GET.get("by") if request.GET.get("by") in ("category", "product") else "category"
    active = sentiment_model_active()
    latest_job = Job.objects.filter(kind=TRAIN_JOB_KIND).order_by("-created_at").first()
    overall = sentiment_aspects(by=None)[0]
    context = {
        "active": active,
        "figures": _figures(active),
        "versions": sentiment_models(limit=10),
        "job": latest_job,
        "can_train": sentiment_train_allowed(request.user),
        "form": TryTextForm(),
        "by": by,
        "chart_data": _trend_chart(by),
        "aspect_rows": [{"name": ASPECT_LABELS[aspect], **overall["aspects"][aspect]} for aspect in ASPECTS],
        "aspects_by_key": [
            {
                "key": row["key"],
                "texts": row["texts"],
                "cells": [row["aspects"][aspect]["average"] for aspect in ASPECTS],
            }
            for row in sentiment_aspects(by=by)[:50]
        ],  # fmt: skip
        "aspect_names": [ASPECT_LABELS[aspect] for aspect in ASPECTS],
        "totals": sentiment_totals(),
        "scored_texts": overall["texts"],
    }
    return render(request, "analytics/sentiment.html", context)


@login_required
@require_POST
def sentiment_train(request):
    """Start the training job; with htmx answer the progress bar, else back to the page."""
    if not sentiment_train_allowed(request.user):
        raise PermissionDenied
    job = sentiment_train_start(user=request.user, force=False)
    job.refresh_from_db()
    if request.htmx:
        return render(request, "jobs/partials/progress.html", {"job": job})
    return redirect("analytics:sentiment")


@login_required
@permission_required(SCORE_PERMISSION, raise_exception=True)
@require_POST
def sentiment_try(request):
    """Score the text typed in the form (htmx partial, or the full page without JS)."""
    form = TryTextForm(request.POST)
    result = None
    if form.is_valid():
        scored = texts_score([form.cleaned_data["text"]])[0]
        result = {
            "label": LABEL_NAMES[scored.label],
            "label_code": scored.label,
            "score": scored.score,
            "language": scored.language,
            "aspects": [{"name": ASPECT_LABELS[a], "score": v} for a, v in scored.aspects.items()],
        }
    context = {"form": form, "result": result}
    status = 200 if form.is_valid() else 400
    if request.htmx:
        return render(request, "analytics/partials/sentiment_try.html", context, status=status)
    return render(request, "analytics/sentiment_try.html", context, status=status)


# --- customer lifetime value ----------------------------------------------------------------

CLV_FITS_SHOWN = 8
CLV_UNIT_NAMES = {"day": gettext_lazy("days"), "week": gettext_lazy("weeks"), "month": gettext_lazy("months")}


class ClvFitForm(forms.Form):
    calibration_end = forms.DateField(
        label=gettext_lazy("Calibration end"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("The models learn from the purchases up to this day."),
    )
    holdout_end = forms.DateField(
        label=gettext_lazy("Holdout end"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Purchases after the calibration end up to this day check the predictions."),
    )
    time_unit = forms.ChoiceField(
        label=gettext_lazy("Time unit"),
        choices=[("day", gettext_lazy("Day")), ("week", gettext_lazy("Week")), ("month", gettext_lazy("Month"))],
        initial="week",
    )
    score = forms.BooleanField(
        label=gettext_lazy("Write P(alive), expected purchases and CLV into the customer features"),
        required=False,
        initial=True,
    )

    def clean(self) -> dict:
        data = super().clean()
        calibration_end, holdout_end = data.get("calibration_end"), data.get("holdout_end")
        if calibration_end and holdout_end and holdout_end <= calibration_end:
            self.add_error("holdout_end", _("The holdout end must be after the calibration end."))
        return data


def _clv_form_initial() -> dict:
    """Holdout end: the latest order's day; calibration end: that many weeks before it."""
    holdout_end = clv_orders_last_day() or timezone.localdate()
    calibration_end = holdout_end - dt.timedelta(weeks=DEFAULT_HOLDOUT_WEEKS)
    return {"calibration_end": calibration_end, "holdout_end": holdout_end, "time_unit": "week", "score": True}


def _clv_status(fit: ClvFit) -> str:
    if fit.job is not None:
        return fit.job.status
    return Job.Status.FAILED if fit.error else (Job.Status.SUCCEEDED if fit.parameters else Job.Status.QUEUED)


def _percent_text(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.0f} %"


def _clv_reading(fit: ClvFit) -> str:
    """The fitted parameters in one or two plain sentences."""
    figures = fit.parameters
    unit = CLV_UNIT_NAMES.get(fit.time_unit, fit.time_unit)
    words = [
        _(
            "While active, a typical customer buys about every %(interval)s %(unit)s; after each purchase "
            "there is a %(dropout)s chance that they stop buying."
        )
        % {
            "interval": f"{figures['alpha'] / figures['r']:.1f}",
            "unit": unit,
            "dropout": _percent_text(figures["a"] / (figures["a"] + figures["b"])),
        }
    ]
    if figures.get("alive_share") is not None:
        words.append(
            _("%(share)s of the %(customers)s customers are likely still active (P(alive) ≥ 50 %% on %(day)s).")
            % {"share": _percent_text(figures["alive_share"]), "customers": f"{figures['customers']:,}",
               "day": figures.get("as_of", "")}
        )  # fmt: skip
    if figures.get("mean_value") is not None:
        words.append(_("A typical purchase is worth %(value)s.") % {"value": f"{figures['mean_value']:,.2f}"})
    return " ".join(words)


def _clv_holdout_words(fit: ClvFit) -> str:
    """The holdout check in plain words: predicted vs actual, and which way the model errs."""
    holdout = fit.holdout
    words = _(
        "From %(start)s to %(end)s (%(length)s %(unit)s) the model expected %(predicted)s repeat purchases from "
        "the %(customers)s customers of the calibration period; they made %(actual)s."
    ) % {
        "start": clv_moment_day(fit.calibration_end) + dt.timedelta(days=1),
        "end": holdout["holdout_end"],
        "length": f"{holdout['length']:.1f}",
        "unit": CLV_UNIT_NAMES.get(fit.time_unit, fit.time_unit),
        "predicted": f"{holdout['predicted_total']:,.1f}",
        "customers": f"{holdout['customers']:,}",
        "actual": f"{holdout['actual_total']:,}",
    }
    error = holdout.get("relative_error")
    if error is None:
        verdict = _("Nobody bought in the holdout period, so the forecast cannot be checked in relative terms.")
    elif abs(error) < 0.05:
        verdict = _("The forecast is within 5 %% of what happened (%(error)+.1f %%).") % {"error": 100 * error}
    elif error < 0:
        verdict = _(
            "The model under-forecasts by %(error).1f %%: treat expected purchases as a conservative count."
        ) % {"error": -100 * error}
    else:
        verdict = _("The model over-forecasts by %(error).1f %%: expect fewer purchases than it predicts.") % {
            "error": 100 * error
        }
    mae = _("Mean absolute error per customer: %(mae)s purchases.") % {"mae": f"{holdout['mean_absolute_error']:.3f}"}
    return f"{words} {verdict} {mae}"


def _clv_distribution(fit: ClvFit | None) -> dict:
    """The P(alive) and CLV histograms the job counted in the feature table after scoring."""
    distribution = (fit.job.result or {}).get("distribution") if fit is not None and fit.job else None
    if not distribution:
        return {}
    alive = [{"label": f"{100 * b['low']:.0f}–{100 * b['high']:.0f} %", "customers": b["customers"]}
             for b in distribution["probability_alive"]]  # fmt: skip
    clv = []
    for bucket in distribution["clv"]:
        if bucket["low"] is None:
            label = _("below %(high)s") % {"high": f"{bucket['high']:,g}"}
        elif bucket["high"] is None:
            label = _("%(low)s and more") % {"low": f"{bucket['low']:,g}"}
        else:
            label = f"{bucket['low']:,g}–{bucket['high']:,g}"
        clv.append({"label": label, "customers": bucket["customers"]})
    return {**distribution, "alive_buckets": alive, "clv_buckets": clv,
            "alive_percent": _percent_text(distribution.get("alive_share"))}  # fmt: skip


def _clv_fit_context(fit: ClvFit | None) -> dict:
    if fit is None or not fit.parameters:
        return {"fit": fit}
    holdout = fit.holdout or {}
    chart = {}
    if holdout:
        rows = holdout["by_frequency"]
        chart = {
            "labels": [row["frequency"] for row in rows],
            "predicted": [row["predicted_mean"] for row in rows],
            "actual": [row["actual_mean"] for row in rows],
            "names": {
                "predicted": _("Predicted (mean per customer)"),
                "actual": _("Actual (mean per customer)"),
                "x": _("Repeat purchases in the calibration period"),
                "y": _("Repeat purchases in the holdout period"),
            },
        }
    return {
        "fit": fit,
        "reading": _clv_reading(fit),
        "holdout": holdout,
        "holdout_words": _clv_holdout_words(fit) if holdout else "",
        "holdout_chart": chart,
        "unit_name": CLV_UNIT_NAMES.get(fit.time_unit, fit.time_unit),
    }


def _clv_start_context(request, form: ClvFitForm | None = None, job: Job | None = None) -> dict:
    if job is None:
        job = Job.objects.filter(kind=CLV_JOB_KIND).order_by("-created_at").first()
    return {"form": form or ClvFitForm(initial=_clv_form_initial()), "job": job,
            "can_fit": clv_fit_allowed(request.user)}  # fmt: skip


@login_required
@permission_required(CLV_VIEW_PERMISSION, raise_exception=True)
def clv_page(request, form: ClvFitForm | None = None, status: int = 200):
    """The lifetime-value page: start a fit, its progress, the fits, and for the chosen
    (default: latest successful) fit the parameters, the holdout check and the scores."""
    fits = clv_fits(limit=CLV_FITS_SHOWN)
    for fit in fits:
        fit.status = _clv_status(fit)
        fit.status_label = Job.Status(fit.status).label
    shown = None
    if request.GET.get("fit", "").isdigit():
        shown = ClvFit.objects.select_related("job").filter(pk=int(request.GET["fit"])).first()
    if shown is None:
        shown = next((fit for fit in fits if fit.parameters), None)
    scored = shown if shown is not None and shown.scored else next((fit for fit in fits if fit.scored), None)
    context = {
        **_clv_start_context(request, form),
        **_clv_fit_context(shown),
        "fits": fits,
        "distribution": _clv_distribution(scored),
        "distribution_fit": scored,
    }
    return render(request, "analytics/clv.html", context, status=status)


@login_required
@require_POST
def clv_fit_create(request):
    """Start a fit from the form; with htmx answer the form and the progress bar, else go
    back to the page (or show it with the form's errors)."""
    if not clv_fit_allowed(request.user):
        raise PermissionDenied
    form = ClvFitForm(request.POST)
    job = None
    if form.is_valid():
        try:
            fit = clv_fit_start(**form.cleaned_data, user=request.user)
        except ClvFitRequestError as refused:
            form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        else:
            job = Job.objects.get(pk=fit.job_id)
            if not request.htmx:
                return redirect("analytics:clv")
            form = ClvFitForm(initial=form.cleaned_data)
    status = 200 if job is not None else 400
    if request.htmx:
        context = _clv_start_context(request, form, job)
        return render(request, "analytics/partials/clv_start.html", context, status=status)
    return clv_page(request, form=form, status=status)
