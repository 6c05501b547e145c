"""Reads shared by the sentiment page, the REST API and reports: model versions, sentiment
per category / product over time, and the aspect breakdown — each one GROUP BY over
``ScoredText``."""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek

from analytics.models import ASPECT_COLUMNS, ScoredText, SentimentModel
from analytics.sentiment.errors import SentimentError
from analytics.sentiment.errors import SentimentErrorCode as Code

GROUPINGS = {"category": "category", "product": "sku"}
PERIODS = {"week": TruncWeek, "month": TruncMonth}


def sentiment_model_active() -> SentimentModel | None:
    return SentimentModel.objects.filter(active=True).defer("pipeline").select_related("trained_by").first()


def sentiment_models(*, limit: int = 20) -> QuerySet[SentimentModel]:
    return SentimentModel.objects.defer("pipeline").select_related("trained_by")[:limit]


def _scored(*, since: dt.datetime | None, source: str | None) -> QuerySet[ScoredText]:
    rows = ScoredText.objects.all()
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if source:
        rows = rows.filter(source=source)
    return rows


def sentiment_over_time(*, by: str = "category", period: str = "month", since: dt.datetime | None = None,
                        source: str | None = None, keys: list[str] | None = None) -> list[dict]:  # fmt: skip
    """One row per (category or SKU, period start): texts, average score, positive and
    negative counts, ordered by key then period. Texts without a category / SKU are left
    out. ``keys`` restricts the groups (e.g. the largest few, for a chart)."""
    if by not in GROUPINGS:
        raise SentimentError(Code.UNKNOWN_GROUPING, field="by", by=by)
    if period not in PERIODS:
        raise SentimentError(Code.UNKNOWN_PERIOD, field="period", period=period)
    column = GROUPINGS[by]
    rows = _scored(since=since, source=source).exclude(**{column: ""})
    if keys is not None:
        rows = rows.filter(**{f"{column}__in": keys})
    grouped = (
        rows.annotate(period_start=PERIODS[period]("created_at"))
        .values(column, "period_start")
        .annotate(texts=Count("id"), average=Avg("score"), positive=Count("id", filter=Q(label="positive")),
                  negative=Count("id", filter=Q(label="negative")))
        .order_by(column, "period_start")
    )  # fmt: skip
    return [
        {"key": row[column], "period": row["period_start"].date() if isinstance(row["period_start"], dt.datetime)
         else row["period_start"], "texts": row["texts"], "average": round(row["average"], 4),
         "positive": row["positive"], "negative": row["negative"]}
        for row in grouped
    ]  # fmt: skip


def sentiment_top_keys(*, by: str = "category", limit: int = 6, since: dt.datetime | None = None) -> list[str]:
    """The categories / SKUs with the most scored texts (what a chart shows)."""
    if by not in GROUPINGS:
        raise SentimentError(Code.UNKNOWN_GROUPING, field="by", by=by)
    column = GROUPINGS[by]
    rows = _scored(since=since, source=None).exclude(**{column: ""})
    return list(rows.values_list(column, flat=True).annotate(n=Count("id")).order_by("-n", column)[:limit])


def sentiment_aspects(*, by: str | None = None, since: dt.datetime | None = None,
                      source: str | None = None) -> list[dict]:  # fmt: skip
    """Per aspect: how many texts mention it and their average aspect sentiment, overall
    (``by`` None) or per category / SKU. One GROUP BY with one AVG and COUNT per aspect
    column (COUNT(column) counts the texts that mention the aspect)."""
    rows = _scored(since=since, source=source)
    aggregates = {}
    for aspect, column in ASPECT_COLUMNS.items():
        aggregates[f"{aspect}__average"] = Avg(column)
        aggregates[f"{aspect}__mentions"] = Count(column)
    if by is None:
        result = rows.aggregate(texts=Count("id"), **aggregates)
        return [_aspect_row("", result)]
    if by not in GROUPINGS:
        raise SentimentError(Code.UNKNOWN_GROUPING, field="by", by=by)
    column = GROUPINGS[by]
    grouped = rows.exclude(**{column: ""}).values(column).annotate(texts=Count("id"), **aggregates).order_by(column)
    return [_aspect_row(row[column], row) for row in grouped]


def _aspect_row(key: str, values: dict) -> dict:
    return {
        "key": key,
        "texts": values["texts"],
        "aspects": {
            aspect: {
                "mentions": values[f"{aspect}__mentions"],
                "average": None if values[f"{aspect}__average"] is None else round(values[f"{aspect}__average"], 4),
            }
            for aspect in ASPECT_COLUMNS
        },
    }


def sentiment_totals() -> dict:
    """Counts of scored texts by source and label (the page's summary line)."""
    rows = ScoredText.objects.values("source", "label").annotate(n=Count("id")).order_by()
    totals: dict = {}
    for row in rows:
        totals.setdefault(row["source"], {})[row["label"]] = row["n"]
    return totals
