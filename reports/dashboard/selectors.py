"""Reads of the dashboard.

Two kinds: *raw figures* computed from the shop's tables in one grouped query each (used
by the snapshot refresh in ``services`` and nowhere on a request), and
``dashboard_overview``, which assembles the page from the pre-aggregated tables (a few
index reads, whatever the size of the shop).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from analytics.models import ScoredText, SourceKind
from campaigns.models import Campaign, Conversion, Message
from customers.models import Customer, Event, Order
from reports.campaigns import figures as campaign_figures
from reports.churn.selectors import churn_risk_distribution
from reports.dashboard import figures
from reports.dashboard.figures import RevenueComparison, SalesDay
from reports.dashboard.models import DailySales, DailySalesRefresh, DashboardSnapshot
from segments.models import Segment
from surveys.models import Answer, QuestionKind

ACTIVE_DAYS = 30
RECENT_CAMPAIGNS = 10
LARGEST_SEGMENTS = 8


def shop_time_zone() -> dt.tzinfo:
    """Days and months of the dashboard are the shop's (``PRECIS_TIME_ZONE``), whatever
    time zone a request has activated."""
    return timezone.get_default_timezone()


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=shop_time_zone())


# --- raw figures (the snapshot refresh) ----------------------------------------------------


def customers_count() -> int:
    return Customer.objects.count()


def active_customers_count(*, as_of: dt.datetime, days: int = ACTIVE_DAYS) -> int:
    """Customers with a placed order or any behaviour event in (as_of − days, as_of]."""
    since = as_of - dt.timedelta(days=days)
    ordered = Order.objects.filter(status=Order.Status.PLACED, ordered_at__gt=since, ordered_at__lte=as_of)
    acted = Event.objects.filter(occurred_at__gt=since, occurred_at__lte=as_of)
    return ordered.values("customer_id").union(acted.values("customer_id")).count()


def buyer_counts() -> tuple[int, int]:
    """(buyers, repeat buyers): customers with ≥ 1 and with ≥ 2 placed orders, ever."""
    per_customer = (
        Order.objects.filter(status=Order.Status.PLACED).values("customer_id").annotate(n=Count("pk")).order_by()
    )
    inner, params = per_customer.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0) FROM ({inner}) b",
                       params)  # fmt: skip
        buyers, repeat = cursor.fetchone()
    return int(buyers), int(repeat)


def churn_risk_histogram(*, bins: int = figures.CHURN_BINS) -> list[dict]:
    """Current churn risks (``CustomerFeatures.churn_risk``, written by the churn model's
    scoring) in ``bins`` equal bins over [0, 1] — the churn report's distribution, with each
    bin's share: rows lower, upper, customers, share."""
    rows = churn_risk_distribution(bins=bins)
    return figures.churn_histogram({index: row["customers"] for index, row in enumerate(rows)}, bins=bins)


def recent_campaigns_roi(*, limit: int = RECENT_CAMPAIGNS) -> list[dict]:
    """The ``limit`` most recently launched campaigns with messages sent, conversions and
    revenue credited to them (holdout conversions left out), cost and ROI: three grouped
    queries over those campaigns only."""
    campaigns = list(
        Campaign.objects.filter(launched_at__isnull=False)
        .order_by("-launched_at", "-id")
        .values("id", "name", "channel", "status", "launched_at", "fixed_cost", "cost_per_message")[:limit]
    )
    ids = [campaign["id"] for campaign in campaigns]
    sent = dict(
        Message.objects.filter(campaign_id__in=ids, status=Message.Status.SENT)
        .values("campaign_id").annotate(n=Count("pk")).values_list("campaign_id", "n").order_by()
    )  # fmt: skip
    earned = {
        row["campaign_id"]: row
        for row in Conversion.objects.filter(campaign_id__in=ids)
        .exclude(basis=Conversion.Basis.HOLDOUT)
        .values("campaign_id")
        .annotate(conversions=Count("pk"), revenue=Sum("revenue"))
        .order_by()
    }
    rows = []
    for campaign in campaigns:
        messages = int(sent.get(campaign["id"], 0))
        revenue = Decimal(earned.get(campaign["id"], {}).get("revenue") or 0).quantize(Decimal("0.01"))
        cost = campaign_figures.campaign_cost(fixed_cost=campaign["fixed_cost"],
                                              cost_per_message=campaign["cost_per_message"], sent=messages)  # fmt: skip
        rows.append({
            "id": campaign["id"], "name": campaign["name"], "channel": campaign["channel"],
            "status": campaign["status"], "launched_at": campaign["launched_at"], "sent": messages,
            "conversions": int(earned.get(campaign["id"], {}).get("conversions") or 0),
            "revenue": revenue, "cost": cost, "roi": campaign_figures.roi(revenue, cost),
        })  # fmt: skip
    return rows


def nps_by_month(*, today: dt.date, months: int = figures.TREND_MONTHS) -> list[dict]:
    """NPS answers of the last ``months`` calendar months (by the response's last submission,
    in the shop's time zone), every NPS question of every survey together."""
    starts = figures.month_starts(today=today, months=months)
    rows = (
        Answer.objects.filter(
            question__kind=QuestionKind.NPS, number__isnull=False, response__updated_at__gte=local_midnight(starts[0])
        )  # fmt: skip
        .annotate(month=TruncMonth("response__updated_at", tzinfo=shop_time_zone()))
        .values("month", "number")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(_month_day(row["month"]), int(row["number"])): row["n"] for row in rows}
    return figures.nps_months(counts, months=starts)


def sentiment_by_month(*, today: dt.date, months: int = figures.TREND_MONTHS) -> list[dict]:
    """Review sentiment (``analytics`` scores, −1..1) of the last ``months`` calendar months
    by the review's date."""
    starts = figures.month_starts(today=today, months=months)
    rows = (
        ScoredText.objects.filter(source=SourceKind.REVIEW, created_at__gte=local_midnight(starts[0]))
        .annotate(month=TruncMonth("created_at", tzinfo=shop_time_zone()))
        .values("month")
        .annotate(
            reviews=Count("pk"),
            score_sum=Sum("score"),
            positive=Count("pk", filter=Q(label="positive")),
            neutral=Count("pk", filter=Q(label="neutral")),
            negative=Count("pk", filter=Q(label="negative")),
        )
        .order_by()
    )
    return figures.sentiment_months([row | {"month": _month_day(row["month"])} for row in rows], months=starts)


def _month_day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, shop_time_zone()).date() if timezone.is_aware(value) else value.date()
    return value


def largest_segments(*, limit: int = LARGEST_SEGMENTS) -> list[dict]:
    """Segments by their stored size (as of each one's last refresh), largest first."""
    return list(Segment.objects.order_by("-size", "name", "pk").values("id", "name", "kind", "size", "refreshed_at")
                [:limit])  # fmt: skip


# --- the page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardOverview:
    today: dt.date
    snapshot: DashboardSnapshot | None
    sales_as_of: dt.datetime | None
    daily: list[SalesDay]  # the last CHART_DAYS days, today last
    revenue: RevenueComparison
    segments: list[dict]

    @property
    def repurchase_rate(self) -> float | None:
        return figures.share(self.snapshot.repeat_buyers, self.snapshot.buyers) if self.snapshot else None

    @property
    def churn_histogram(self) -> list[dict]:
        return self.snapshot.churn_histogram if self.snapshot else []

    @property
    def campaigns(self) -> list[dict]:
        if not self.snapshot:
            return []
        return [row | {"launched_at": dt.datetime.fromisoformat(row["launched_at"]) if row["launched_at"] else None,
                       "revenue": Decimal(row["revenue"]), "cost": Decimal(row["cost"])}
                for row in self.snapshot.campaigns]  # fmt: skip

    @property
    def nps_months(self) -> list[dict]:
        return [row | {"month": dt.date.fromisoformat(row["month"])} for row in self.snapshot.nps_months] \
            if self.snapshot else []  # fmt: skip

    @property
    def sentiment_months(self) -> list[dict]:
        return [row | {"month": dt.date.fromisoformat(row["month"])} for row in self.snapshot.sentiment_months] \
            if self.snapshot else []  # fmt: skip


def daily_sales(*, first: dt.date, last: dt.date) -> list[SalesDay]:
    return [
        SalesDay(day=row.day, orders=row.orders, revenue=row.revenue, buyers=row.buyers, new_buyers=row.new_buyers)
        for row in DailySales.objects.filter(day__gte=first, day__lte=last)
    ]


def dashboard_overview(*, now: dt.datetime | None = None) -> DashboardOverview:
    """Everything on the dashboard, from the pre-aggregated tables and the stored segment
    sizes: the newest snapshot, the last 90 days of sales and the 30-day comparison."""
    today = timezone.localdate(now or timezone.now(), shop_time_zone())
    first = today - dt.timedelta(days=max(figures.CHART_DAYS, 2 * figures.COMPARISON_DAYS) - 1)
    rows = daily_sales(first=first, last=today)
    chart_first = today - dt.timedelta(days=figures.CHART_DAYS - 1)
    refresh = DailySalesRefresh.objects.order_by("-finished_at", "-id").values_list("finished_at", flat=True).first()
    return DashboardOverview(
        today=today,
        snapshot=DashboardSnapshot.objects.order_by("-as_of", "-id").first(),
        sales_as_of=refresh,
        daily=figures.day_series(rows, first=chart_first, last=today),
        revenue=figures.revenue_comparison(rows, today=today),
        segments=largest_segments(),
    )
