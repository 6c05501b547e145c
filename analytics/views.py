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

from analytics.models import SentimentModel
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
