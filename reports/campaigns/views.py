"""The campaign report pages: the list of launched campaigns with their key figures and
ROI, and one campaign's report (per-group table, rates chart, cumulative revenue chart,
lift against the holdout drawn with its interval, the verdict); each table and chart
downloads as CSV."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from reports.campaigns.api import VIEW_PERMISSION, report_data
from reports.campaigns.figures import CUMULATIVE_COLUMNS
from reports.campaigns.selectors import (
    HOLDOUT,
    RECIPIENTS,
    TOTAL,
    CampaignReport,
    CampaignSummary,
    campaign_report,
    campaign_report_list,
    campaign_summaries,
)
from reports.downloads import csv_download

PAGE_SIZE = 25
CSV_TABLES = ("groups", "rates", "lift", "cumulative")
GROUP_COLUMNS = [
    "group", "audience", "recipients", "sent", "delivered", "bounces", "opens", "open_rate", "clicks", "click_rate",
    "converters", "conversions", "conversion_rate", "revenue", "revenue_per_recipient", "cost", "roi",
    "redemptions", "unsubscribes",
]  # fmt: skip
RATE_COLUMNS = ["group", "open_rate", "click_rate", "conversion_rate"]
LIFT_COLUMNS = [
    "arm", "recipients", "holdout", "conversion_rate", "holdout_conversion_rate", "conversion_difference",
    "conversion_low", "conversion_high", "conversion_p_value", "incremental_conversions",
    "incremental_conversions_low", "incremental_conversions_high", "revenue_per_recipient",
    "holdout_revenue_per_recipient", "revenue_difference", "revenue_low", "revenue_high", "revenue_p_value",
    "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high", "cost", "incremental_roi",
    "incremental_roi_low", "incremental_roi_high", "payback",
]  # fmt: skip
LIST_COLUMNS = ["id", "name", "status", "channel", "launched_at", "sent", "conversions", "revenue", "cost", "roi"]


def group_label(key: str, kind: str = "variant") -> str:
    if kind == HOLDOUT or key == HOLDOUT:
        return _("Holdout (got nothing)")
    if kind == TOTAL or key == TOTAL:
        return _("Campaign total")
    if key == RECIPIENTS:
        return _("All recipients")
    if not key:
        return _("Not yet assigned")
    return _("Variant %(key)s") % {"key": key}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return value


def _percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _signed(value: float | None, scale: float = 1.0, digits: int = 2) -> str:
    return "—" if value is None else f"{value * scale:+,.{digits}f}"


def _shown_group(row: dict, label: str) -> dict:
    """A table row with its numbers formatted for the page."""
    return dict(
        row, label=label, open_shown=_percent(row["open_rate"]), click_shown=_percent(row["click_rate"]),
        conversion_shown=_percent(row["conversion_rate"], 2), revenue_shown=_money(row["revenue"]),
        per_recipient_shown=_money(row["revenue_per_recipient"]), cost_shown=_money(row["cost"]),
        roi_shown=_percent(row["roi"], 0),
    )  # fmt: skip


def _shown_lift(row: dict, label: str) -> dict:
    return dict(
        row, label=label,
        conversion_shown=_signed(row["conversion_difference"], 100, 2),
        conversion_ci=f"{_signed(row['conversion_low'], 100, 2)} … {_signed(row['conversion_high'], 100, 2)}",
        incremental_conversions_shown=_signed(row["incremental_conversions"], 1, 1),
        incremental_conversions_ci=(f"{_signed(row['incremental_conversions_low'], 1, 1)} … "
                                    f"{_signed(row['incremental_conversions_high'], 1, 1)}"),
        revenue_shown=_signed(row["revenue_difference"]),
        revenue_ci=f"{_signed(row['revenue_low'])} … {_signed(row['revenue_high'])}",
        incremental_revenue_shown=_signed(row["incremental_revenue"]),
        incremental_revenue_ci=(f"{_signed(row['incremental_revenue_low'])} … "
                                f"{_signed(row['incremental_revenue_high'])}"),
        roi_shown=_percent(row["incremental_roi"], 0),
        roi_ci=f"{_percent(row['incremental_roi_low'], 0)} … {_percent(row['incremental_roi_high'], 0)}",
    )  # fmt: skip


# ── the list ────────────────────────────────────────────────────────────────────────


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def campaign_list_page(request):
    """Launched campaigns, newest first, 25 a page; htmx asks for the table alone."""
    page = Paginator(campaign_report_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "campaigns": campaign_summaries(page.object_list)}
    if request.htmx:
        return render(request, "reports/partials/campaign_list_table.html", context)
    return render(request, "reports/campaigns.html", context)


def _list_rows(summaries: list[CampaignSummary]) -> list[list]:
    return [LIST_COLUMNS] + [
        [s.id, s.name, s.status, s.channel, s.launched_at.isoformat() if s.launched_at else "", s.sent,
         s.conversions, _cell(s.revenue), _cell(s.cost), _cell(s.roi)]
        for s in summaries
    ]  # fmt: skip


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def campaign_list_csv(request):
    """Every launched campaign's key figures (not only one page)."""
    return csv_download(_list_rows(campaign_summaries(campaign_report_list())), "campaign-reports.csv")


# ── one campaign ────────────────────────────────────────────────────────────────────


def _chart_data(report: CampaignReport, data: dict) -> dict:
    """What the page's three charts draw (numbers already in the CSV downloads)."""
    rate_groups = [g for g in data["groups"] if g["kind"] in ("variant", HOLDOUT) and g["recipients"]]
    groups = list(dict.fromkeys(row["group"] for row in data["cumulative"]))
    days = sorted({row["day"] for row in data["cumulative"]})
    per_group = {g: [None] * len(days) for g in groups}
    for row in data["cumulative"]:
        per_group[row["group"]][row["day"]] = row["cumulative_revenue_per_recipient"]
    return {
        "rates": {
            "labels": [group_label(g["key"], g["kind"]) for g in rate_groups],
            "series": [
                {"label": _("Open rate"), "data": [g["open_rate"] for g in rate_groups]},
                {"label": _("Click-through rate"), "data": [g["click_rate"] for g in rate_groups]},
                {"label": _("Conversion rate"), "data": [g["conversion_rate"] for g in rate_groups]},
            ],
        },
        "cumulative": {
            "labels": days,
            "series": [{"label": group_label(g), "data": per_group[g]} for g in groups],
            "axis": _("Days since the send"),
            "value": _("Revenue per recipient, cumulative"),
        },
        "lift": {
            "labels": [group_label(lift["key"]) for lift in data["lifts"]],
            "revenue": [[lift["revenue_low"], lift["revenue_high"]] for lift in data["lifts"]],
            "revenue_point": [lift["revenue_difference"] for lift in data["lifts"]],
            "conversion": [
                [
                    None if lift["conversion_low"] is None else lift["conversion_low"] * 100,
                    None if lift["conversion_high"] is None else lift["conversion_high"] * 100,
                ]
                for lift in data["lifts"]
            ],  # fmt: skip
            "conversion_point": [
                None if lift["conversion_difference"] is None else lift["conversion_difference"] * 100
                for lift in data["lifts"]
            ],  # fmt: skip
            "names": {
                # xgettext:no-python-format
                "interval": _("95 % interval"),
                "estimate": _("Estimate"),
                "revenue": _("Revenue per recipient above the holdout"),
                "conversion": _("Conversion rate above the holdout (points)"),
            },
        },
    }


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def campaign_report_page(request, campaign_id: int):
    get_object_or_404(Campaign, pk=campaign_id)
    report = campaign_report(campaign_id=campaign_id)
    data = report_data(report)
    groups = [_shown_group(g, group_label(g["key"], g["kind"])) for g in data["groups"]]
    lifts = [_shown_lift(lift, group_label(lift["key"])) for lift in data["lifts"]]
    context = {
        "report": report,
        "campaign": report.campaign,
        "groups": groups,
        "total": _shown_group(data["total"], group_label(TOTAL, TOTAL)),
        "lifts": lifts,
        "overall": lifts[0] if lifts else None,
        "chart": _chart_data(report, data),
    }
    return render(request, "reports/campaign.html", context)


def _csv_rows(table: str, data: dict) -> list[list]:
    if table in ("groups", "rates"):
        columns = GROUP_COLUMNS if table == "groups" else RATE_COLUMNS
        rows = [*data["groups"], data["total"]] if table == "groups" else data["groups"]
        return [columns] + [
            [group_label(row["key"], row["kind"]) if c == "group" else _cell(row[c]) for c in columns] for row in rows
        ]
    if table == "lift":
        return [LIFT_COLUMNS] + [
            [group_label(row["key"]) if c == "arm" else _cell(row[c]) for c in LIFT_COLUMNS] for row in data["lifts"]
        ]
    return [CUMULATIVE_COLUMNS] + [
        [group_label(row["group"]) if c == "group" else _cell(row[c]) for c in CUMULATIVE_COLUMNS]
        for row in data["cumulative"]
    ]


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def campaign_report_csv(request, campaign_id: int, table: str):
    """The numbers behind one table or chart of the report, as CSV."""
    if table not in CSV_TABLES:
        raise Http404
    get_object_or_404(Campaign, pk=campaign_id)
    data = report_data(campaign_report(campaign_id=campaign_id))
    return csv_download(_csv_rows(table, data), f"campaign-{campaign_id}-{table}.csv")
