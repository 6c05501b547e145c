"""The overview dashboard at /reports/: headline figures, daily sales, churn risk, largest
segments, recent campaigns, NPS and review sentiment — each chart with a CSV download of
its numbers — and links to the other reports. It reads only the pre-aggregated tables
(see ``selectors.dashboard_overview``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from reports.dashboard.api import VIEW_PERMISSION, dashboard_data
from reports.dashboard.selectors import dashboard_overview
from reports.downloads import csv_download

REPORTS = [
    ("reports:retention", _("Retention"),
     _("Acquisition cohorts, repurchase rate and active customers over time, for everyone or one segment.")),
    ("reports:campaigns", _("Campaigns"),
     _("Per campaign and variant: rates, revenue, cost, ROI and the lift against the holdout.")),
    ("reports:funnels", _("Funnels"), _("Conversion and drop-off between the steps customers take.")),
    ("reports:churn", _("Churn"), _("Model comparison, risk distribution, valuable customers at risk and why.")),
    ("reports:paths", _("Behaviour paths"), _("The most common paths through the shop and where customers leave.")),
]  # fmt: skip

CSV_TABLES = ("figures", "sales", "churn-risk", "segments", "campaigns", "nps", "sentiment")


def report_links() -> list[dict]:
    """The other reports, each with what it answers."""
    return [{"url": reverse(name), "title": title, "description": description} for name, title, description in REPORTS]


def _number(value) -> str:
    return "" if value is None else str(value)


def _ratio(value) -> str:
    return "" if value is None else f"{value:.6f}"


def _csv_rows(table: str, data: dict) -> list[list]:
    if table == "figures":
        revenue = data["revenue"]
        rows = [
            ["customers", data["customers"], data["as_of"]],
            ["active_customers", data["active_customers"], data["as_of"]],
            ["buyers", data["buyers"], data["as_of"]],
            ["repeat_buyers", data["repeat_buyers"], data["as_of"]],
            ["repurchase_rate", _ratio(data["repurchase_rate"]), data["as_of"]],
            ["revenue_last_30_days", revenue["current_revenue"], data["sales_as_of"]],
            ["orders_last_30_days", revenue["current_orders"], data["sales_as_of"]],
            ["revenue_previous_30_days", revenue["previous_revenue"], data["sales_as_of"]],
            ["orders_previous_30_days", revenue["previous_orders"], data["sales_as_of"]],
            ["revenue_change", _ratio(revenue["change"]), data["sales_as_of"]],
        ]
        return [["figure", "value", "as_of"]] + [[name, _number(value), _number(when and when.isoformat())]
                                                 for name, value, when in rows]  # fmt: skip
    if table == "sales":
        return [["day", "orders", "revenue", "buyers", "new_buyers"]] + [
            [row["day"].isoformat(), row["orders"], f"{row['revenue']:.2f}", row["buyers"], row["new_buyers"]]
            for row in data["daily"]
        ]
    if table == "churn-risk":
        return [["lower", "upper", "customers", "share"]] + [
            [f"{row['lower']:.2f}", f"{row['upper']:.2f}", row["customers"], _ratio(row["share"])]
            for row in data["churn_risk"]
        ]
    if table == "segments":
        return [["segment_id", "name", "kind", "members", "share_of_customers", "refreshed_at"]] + [
            [
                row["id"],
                row["name"],
                row["kind"],
                row["size"],
                _ratio(row["share"]),
                row["refreshed_at"].isoformat() if row["refreshed_at"] else "",
            ]  # fmt: skip
            for row in data["segments"]
        ]
    if table == "campaigns":
        return [["campaign_id", "name", "channel", "launched_at", "sent", "conversions", "revenue", "cost", "roi"]] + [
            [row["id"], row["name"], row["channel"], row["launched_at"].isoformat() if row["launched_at"] else "",
             row["sent"], row["conversions"], f"{row['revenue']:.2f}", f"{row['cost']:.2f}", _ratio(row["roi"])]
            for row in data["campaigns"]
        ]  # fmt: skip
    if table == "nps":
        return [["month", "responses", "promoters", "passives", "detractors", "nps"]] + [
            [
                row["month"].isoformat(),
                row["responses"],
                row["promoters"],
                row["passives"],
                row["detractors"],
                "" if row["nps"] is None else f"{row['nps']:.4f}",
            ]  # fmt: skip
            for row in data["nps"]
        ]
    return [["month", "reviews", "mean_score", "positive", "neutral", "negative"]] + [
        [
            row["month"].isoformat(),
            row["reviews"],
            "" if row["mean_score"] is None else f"{row['mean_score']:.6f}",
            row["positive"],
            row["neutral"],
            row["negative"],
        ]  # fmt: skip
        for row in data["sentiment"]
    ]


def _chart_data(data: dict) -> dict:
    """What the page's charts draw (numbers only; labels are translated here)."""
    return {
        "sales": {
            "labels": [row["day"].isoformat() for row in data["daily"]],
            "revenue": [float(row["revenue"]) for row in data["daily"]],
            "orders": [row["orders"] for row in data["daily"]],
            "names": {"revenue": str(_("Revenue")), "orders": str(_("Orders"))},
        },
        "churn": {
            "labels": [f"{row['lower']:.1f}–{row['upper']:.1f}" for row in data["churn_risk"]],
            "customers": [row["customers"] for row in data["churn_risk"]],
            "names": {"customers": str(_("Customers"))},
        },
        "segments": {
            "labels": [row["name"] for row in data["segments"]],
            "sizes": [row["size"] for row in data["segments"]],
            "names": {"size": str(_("Members"))},
        },
        "campaigns": {
            "labels": [row["name"] for row in data["campaigns"]],
            "roi": [None if row["roi"] is None else round(row["roi"] * 100, 1) for row in data["campaigns"]],
            "names": {"roi": str(_("ROI (%)"))},
        },
        "trend": {
            "labels": [row["month"].strftime("%Y-%m") for row in data["nps"]],
            "nps": [row["nps"] for row in data["nps"]],
            "sentiment": [
                None if row["mean_score"] is None else round(row["mean_score"] * 100, 1) for row in data["sentiment"]
            ],  # fmt: skip
            "names": {"nps": str(_("NPS")), "sentiment": str(_("Review sentiment (−100..100)"))},
        },
    }


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def dashboard_page(request):
    overview = dashboard_overview()
    data = dashboard_data(overview)
    change = data["revenue"]["change"]
    context = {
        "data": data,
        "reports": report_links(),
        "repurchase_percent": None if data["repurchase_rate"] is None else data["repurchase_rate"] * 100,
        "revenue_change_percent": None if change is None else change * 100,
        "has_churn": bool(data["churn_scored"]),
        "has_trend": any(row["responses"] for row in data["nps"]) or any(row["reviews"] for row in data["sentiment"]),
        "has_sales": any(row["orders"] for row in data["daily"]),
        "chart": _chart_data(data),
    }
    return render(request, "reports/index.html", context)


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def dashboard_csv(request, table: str):
    """The numbers behind one part of the dashboard, as CSV."""
    if table not in CSV_TABLES:
        raise Http404
    return csv_download(_csv_rows(table, dashboard_data(dashboard_overview())), f"dashboard-{table}.csv")
