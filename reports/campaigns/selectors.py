"""Reads for the campaign report: what each campaign and each variant earned and cost, and
what it added over the holdout.

The counts, rates, revenue and every statistic come from ``campaigns.experiments``
(``variant_comparison`` / ``variant_results``: one grouped query over the campaign's
messages joined to its conversions; ``metric_compare`` / ``holdout_lift``: z-test and
Welch's t-test with 95 % intervals). This module adds two more grouped queries — coupon
redemptions per group, conversions per group and day since the send — and the money
(``figures``) and the verdict (``verdict``). Nothing loops over messages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Count, DecimalField, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from campaigns.experiments.selectors import (
    GroupKind,
    HoldoutLift,
    MetricComparison,
    VariantResult,
    metric_compare,
    variant_comparison,
    variant_results,
)
from campaigns.experiments.verdict import Metric, Sentence
from campaigns.models import Campaign, Conversion, Coupon, Dispatch, Message, Redemption
from reports.campaigns import figures
from reports.campaigns.verdict import LiftFigures, Verdict, verdict_choose

HOLDOUT = "holdout"
RECIPIENTS = "recipients"
TOTAL = "total"


@dataclass(frozen=True)
class GroupFigures:
    """One row of the report's table: a variant, the holdout, the not-yet-assigned rest,
    or the campaign total (every variant together; the holdout is not in it)."""

    kind: str  # variant, holdout, unassigned, total
    key: str
    name: str
    audience: int
    recipients: int
    sent: int
    delivered: int
    bounces: int
    opens: int
    open_rate: float | None
    clicks: int
    click_rate: float | None
    converters: int
    conversions: int
    conversion_rate: float | None
    revenue: float
    revenue_per_recipient: float | None
    cost: float
    roi: float | None
    redemptions: int
    unsubscribes: int
    unsubscribe_rate: float | None


@dataclass(frozen=True)
class LiftFiguresRow:
    """One arm against the holdout: all recipients (``key`` "recipients") or one variant.
    Differences are per recipient; incremental figures are them times the arm's
    recipients; every interval is 95 %."""

    key: str
    recipients: int
    holdout: int
    conversion_rate: float | None
    holdout_conversion_rate: float | None
    conversion_difference: float | None
    conversion_low: float | None
    conversion_high: float | None
    conversion_p_value: float | None
    incremental_conversions: float | None
    incremental_conversions_low: float | None
    incremental_conversions_high: float | None
    revenue_per_recipient: float | None
    holdout_revenue_per_recipient: float | None
    revenue_difference: float | None
    revenue_low: float | None
    revenue_high: float | None
    revenue_p_value: float | None
    incremental_revenue: float | None
    incremental_revenue_low: float | None
    incremental_revenue_high: float | None
    cost: float
    incremental_roi: float | None
    incremental_roi_low: float | None
    incremental_roi_high: float | None
    payback: float | None


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    groups: list[GroupFigures]  # variants (key order), then the holdout, then the unassigned rest
    total: GroupFigures
    lifts: list[LiftFiguresRow]  # all recipients first, then each variant; empty without a holdout
    cumulative: pd.DataFrame  # figures.CUMULATIVE_COLUMNS
    verdict: Verdict
    test_verdict: Sentence | None  # the A/B comparison's own verdict (campaign page), with 2+ variants
    in_test_only: bool

    @property
    def holdout(self) -> GroupFigures | None:
        return next((g for g in self.groups if g.kind == HOLDOUT), None)

    @property
    def overall_lift(self) -> LiftFiguresRow | None:
        return next((lift for lift in self.lifts if lift.key == RECIPIENTS), None)


# ── extra grouped queries ───────────────────────────────────────────────────────────

_HOLDOUT_CASE = "CASE WHEN m.status = %s AND m.skip_reason = %s THEN 1 ELSE 0 END"


def _group_key(variant_keys: dict[int, str], variant_id: int | None, is_holdout: int) -> str:
    if is_holdout:
        return HOLDOUT
    return variant_keys.get(variant_id, "") if variant_id is not None else ""


def campaign_redemptions(*, campaign: Campaign, variant_keys: dict[int, str]) -> dict[str, int]:
    """Accepted redemptions of the campaign's coupon pool per group: a redemption counts for
    the campaign's message that gave that code to that customer (unique codes: the one
    message; a shared code: the customer's message of this campaign)."""
    if campaign.coupon_pool_id is None:
        return {}
    tables = {name: connection.ops.quote_name(model._meta.db_table)
              for name, model in (("r", Redemption), ("c", Coupon), ("m", Message))}  # fmt: skip
    sql = f"""
        SELECT m.variant_id, {_HOLDOUT_CASE} AS is_holdout, COUNT(DISTINCT r.id)
        FROM {tables["r"]} r
        JOIN {tables["c"]} c ON c.id = r.coupon_id
        JOIN {tables["m"]} m ON m.campaign_id = %s AND m.customer_id = r.customer_id AND m.coupon_code = c.code
        WHERE r.status = %s AND c.pool_id = %s AND m.coupon_code <> ''
        GROUP BY 1, 2
    """  # noqa: S608 - table names from the models, values as parameters
    params = [Message.Status.SKIPPED, Message.SkipReason.HOLDOUT, campaign.pk, Redemption.Status.ACCEPTED,
              campaign.coupon_pool_id]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts: dict[str, int] = {}
    for variant_id, is_holdout, count in rows:
        key = _group_key(variant_keys, variant_id, is_holdout)
        counts[key] = counts.get(key, 0) + int(count)
    return counts


def _days_between(later: str, earlier: str) -> str:
    """SQL for the whole days from ``earlier`` to ``later`` (truncated)."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def campaign_daily_conversions(*, campaign_id: int, variant_keys: dict[int, str]) -> pd.DataFrame:
    """Credited orders and their revenue per group and whole day since the message was
    sent (holdout: since its row was frozen, when the others went out)."""
    tables = {name: connection.ops.quote_name(model._meta.db_table)
              for name, model in (("c", Conversion), ("m", Message))}  # fmt: skip
    day = _days_between("c.converted_at", "COALESCE(m.sent_at, m.created_at)")
    sql = f"""
        SELECT m.variant_id, {_HOLDOUT_CASE} AS is_holdout, {day} AS day, COUNT(*), SUM(c.revenue)
        FROM {tables["c"]} c JOIN {tables["m"]} m ON m.id = c.message_id
        WHERE c.campaign_id = %s
        GROUP BY 1, 2, 3
    """  # noqa: S608 - table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [Message.Status.SKIPPED, Message.SkipReason.HOLDOUT, campaign_id])
        rows = cursor.fetchall()
    return pd.DataFrame(
        [(_group_key(variant_keys, v, h), int(d or 0), int(n), float(s or 0)) for v, h, d, n, s in rows],
        columns=["group", "day", "conversions", "revenue"],
    ).astype({"day": "int64", "conversions": "int64", "revenue": "float64"})


# ── the report ──────────────────────────────────────────────────────────────────────


def _total(results: list[VariantResult]) -> VariantResult:
    """Every variant and the unassigned rest added up (the holdout stays out)."""
    counted = [f.name for f in dataclasses.fields(VariantResult)][5:]
    rows = [r for r in results if r.kind != GroupKind.HOLDOUT]
    sums = {name: sum(getattr(r, name) for r in rows) for name in counted}
    return VariantResult(GroupKind.VARIANT, None, TOTAL, "", 0, **sums)


def _figures(result: VariantResult, *, kind: str, cost: float, redemptions: int, audience: int | None = None
             ) -> GroupFigures:  # fmt: skip
    holdout = kind == HOLDOUT
    return GroupFigures(
        kind=kind, key=result.key, name=result.name, audience=result.audience if audience is None else audience,
        recipients=result.recipients, sent=result.sent, delivered=result.delivered, bounces=result.bounces,
        opens=result.opens, open_rate=None if holdout else result.open_rate, clicks=result.clicks,
        click_rate=None if holdout else result.click_rate, converters=result.converters,
        conversions=result.conversions, conversion_rate=result.conversion_rate, revenue=result.revenue,
        revenue_per_recipient=result.revenue_per_recipient, cost=cost,
        roi=None if holdout else figures.roi(result.revenue, cost), redemptions=redemptions,
        unsubscribes=result.unsubscribes, unsubscribe_rate=None if holdout else result.unsubscribe_rate,
    )  # fmt: skip


def _scaled(value: float | None, n: int) -> float | None:
    return None if value is None else value * n


def _lift_row(key: str, *, recipients: int, holdout: int, conversion: MetricComparison, revenue: MetricComparison,
              cost: float) -> LiftFiguresRow:  # fmt: skip
    incremental = _scaled(revenue.difference, recipients)
    low, high = _scaled(revenue.ci_low, recipients), _scaled(revenue.ci_high, recipients)
    returns = figures.incremental_roi(incremental_revenue=incremental, low=low, high=high, cost=cost)
    return LiftFiguresRow(
        key=key, recipients=recipients, holdout=holdout,
        conversion_rate=conversion.variant_value, holdout_conversion_rate=conversion.control_value,
        conversion_difference=conversion.difference, conversion_low=conversion.ci_low,
        conversion_high=conversion.ci_high, conversion_p_value=conversion.p_value,
        incremental_conversions=_scaled(conversion.difference, recipients),
        incremental_conversions_low=_scaled(conversion.ci_low, recipients),
        incremental_conversions_high=_scaled(conversion.ci_high, recipients),
        revenue_per_recipient=revenue.variant_value, holdout_revenue_per_recipient=revenue.control_value,
        revenue_difference=revenue.difference, revenue_low=revenue.ci_low, revenue_high=revenue.ci_high,
        revenue_p_value=revenue.p_value, incremental_revenue=incremental, incremental_revenue_low=low,
        incremental_revenue_high=high, cost=cost, incremental_roi=returns.value, incremental_roi_low=returns.low,
        incremental_roi_high=returns.high, payback=figures.payback(incremental, cost),
    )  # fmt: skip


def _overall_lift(lift: HoldoutLift, cost: float) -> LiftFiguresRow:
    """The experiments package's holdout lift (all variants against the holdout)."""
    return _lift_row(RECIPIENTS, recipients=lift.recipients, holdout=lift.holdout, conversion=lift.conversion,
                     revenue=lift.revenue, cost=cost)  # fmt: skip


def campaign_report(*, campaign_id: int) -> CampaignReport:
    """Everything the report page, its CSV downloads and the API show for one campaign
    (raises Campaign.DoesNotExist)."""
    campaign = Campaign.objects.get(pk=campaign_id)
    comparison = variant_comparison(campaign_id=campaign_id)
    if comparison.in_test_only:  # the comparison's variants are its test group: read the whole send
        results = variant_results(campaign_id=campaign_id)
    else:
        results = [*comparison.variants, *(r for r in (comparison.holdout, comparison.unassigned) if r)]
    variants = [r for r in results if r.kind == GroupKind.VARIANT]
    holdout = next((r for r in results if r.kind == GroupKind.HOLDOUT), None)
    keys = {r.variant_id: r.key for r in variants if r.variant_id is not None}
    redemptions = campaign_redemptions(campaign=campaign, variant_keys=keys)

    total = _total(results)
    fixed, per_message = float(campaign.fixed_cost), float(campaign.cost_per_message)
    cost = figures.campaign_cost(fixed_cost=fixed, cost_per_message=per_message, sent=total.sent)

    def share(result: VariantResult) -> float:
        return figures.variant_cost(fixed_cost=fixed, cost_per_message=per_message, sent=result.sent,
                                    campaign_sent=total.sent)  # fmt: skip

    groups = [_figures(r, kind=GroupKind.VARIANT.value, cost=share(r), redemptions=redemptions.get(r.key, 0))
              for r in variants]  # fmt: skip
    if holdout is not None:
        groups.append(_figures(holdout, kind=HOLDOUT, cost=0.0, redemptions=redemptions.get(HOLDOUT, 0)))
    unassigned = next((r for r in results if r.kind == GroupKind.UNASSIGNED), None)
    if unassigned is not None:
        groups.append(_figures(unassigned, kind=GroupKind.UNASSIGNED.value, cost=share(unassigned),
                               redemptions=redemptions.get("", 0)))  # fmt: skip
    audience = sum(r.audience for r in results)
    total_figures = _figures(total, kind=TOTAL, cost=cost, redemptions=sum(redemptions.values()), audience=audience)

    lifts: list[LiftFiguresRow] = []
    if comparison.holdout_lift is not None and holdout is not None:
        lifts.append(_overall_lift(comparison.holdout_lift, cost))
        for variant in variants:
            if not variant.recipients:
                continue
            conversion = metric_compare(holdout, variant, Metric.CONVERSION, control_label=HOLDOUT,
                                        variant_label=variant.key)  # fmt: skip
            revenue = metric_compare(holdout, variant, Metric.REVENUE, control_label=HOLDOUT,
                                     variant_label=variant.key)  # fmt: skip
            lifts.append(_lift_row(variant.key, recipients=variant.recipients, holdout=holdout.recipients,
                                   conversion=conversion, revenue=revenue, cost=share(variant)))  # fmt: skip

    overall = next((lift for lift in lifts if lift.key == RECIPIENTS), None)
    verdict = verdict_choose(
        recipients=total.recipients,
        overall=LiftFigures(RECIPIENTS, overall.revenue_difference, overall.revenue_low, overall.revenue_high)
        if overall else None,
        variants=[LiftFigures(lift.key, lift.revenue_difference, lift.revenue_low, lift.revenue_high)
                  for lift in lifts if lift.key != RECIPIENTS],
        cost=cost,
        revenue=total.revenue,
        incremental_revenue=overall.incremental_revenue if overall else None,
        holdout=holdout.recipients if holdout is not None else 0,
    )  # fmt: skip

    chart_groups = [r.key for r in variants] + ([HOLDOUT] if holdout is not None else [])
    cumulative = figures.cumulative_by_day(
        campaign_daily_conversions(campaign_id=campaign_id, variant_keys=keys),
        recipients={r.key if r.kind != GroupKind.HOLDOUT else HOLDOUT: r.recipients for r in results},
        groups=chart_groups,
        days=campaign.conversion_window_days,
    )
    active = [v for v in comparison.variants if v.weight > 0 or v.audience > 0]
    return CampaignReport(
        campaign=campaign, groups=groups, total=total_figures, lifts=lifts, cumulative=cumulative, verdict=verdict,
        test_verdict=comparison.verdict if len(active) > 1 else None, in_test_only=comparison.in_test_only,
    )  # fmt: skip


# ── the list ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign's key figures for the list (from the dispatches' sent counters and the
    conversions credited to its recipients; the holdout's are not revenue)."""

    id: int
    name: str
    status: str
    channel: str
    launched_at: dt.datetime | None
    sent: int
    conversions: int
    revenue: float
    cost: float
    roi: float | None


def campaign_report_list() -> QuerySet[Campaign]:
    """Campaigns that have been launched (not drafts), newest first, each with
    ``sent_count``, ``conversion_count`` and ``revenue_total`` — correlated subqueries, so
    a page of the list reads only its own campaigns' rows."""
    sent = (
        Dispatch.objects.filter(campaign_id=OuterRef("pk"))
        .order_by()
        .values("campaign_id")
        .annotate(n=Sum("sent"))
        .values("n")
    )
    credited = Conversion.objects.filter(campaign_id=OuterRef("pk")).exclude(basis=Conversion.Basis.HOLDOUT).order_by()
    conversions = credited.values("campaign_id").annotate(n=Count("pk")).values("n")
    revenue = credited.values("campaign_id").annotate(total=Sum("revenue")).values("total")
    money = DecimalField(max_digits=18, decimal_places=2)
    return (
        Campaign.objects.exclude(status=Campaign.Status.DRAFT)
        .annotate(
            sent_count=Coalesce(Subquery(sent, output_field=IntegerField()), 0),
            conversion_count=Coalesce(Subquery(conversions, output_field=IntegerField()), 0),
            revenue_total=Coalesce(Subquery(revenue, output_field=money), Value(0, output_field=money)),
        )
        .order_by(F("launched_at").desc(nulls_last=True), "-created_at", "-id")
    )


def campaign_summaries(campaigns: Any) -> list[CampaignSummary]:
    """Key figures of the (already annotated, one page of) campaigns."""
    rows = []
    for campaign in campaigns:
        cost = figures.campaign_cost(fixed_cost=float(campaign.fixed_cost),
                                     cost_per_message=float(campaign.cost_per_message),
                                     sent=campaign.sent_count)  # fmt: skip
        revenue = float(campaign.revenue_total)
        rows.append(CampaignSummary(
            id=campaign.pk, name=campaign.name, status=campaign.status, channel=campaign.channel,
            launched_at=campaign.launched_at, sent=campaign.sent_count, conversions=campaign.conversion_count,
            revenue=revenue, cost=cost, roi=figures.roi(revenue, cost),
        ))  # fmt: skip
    return rows
