"""Reads of experiment results: per-variant counts and money, variant against control,
campaign against holdout. The campaign page, the API, the winner decision and the
campaign report (analytics) all read these, so each figure is computed in one place.

The counts come from one grouped SQL query over the campaign's messages, joined to the
conversions summed per message (so revenue per recipient has its sum and sum of squares
for Welch's test). Who counts as a *recipient*: a message that was sent, for a variant;
every member, for the holdout (they were meant to get nothing).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from django.db import connection

from campaigns.experiments import stats
from campaigns.experiments.stats import (
    MeanTest,
    Moments,
    ProportionTest,
    SampleRatioCheck,
    SampleSizeCheck,
)
from campaigns.experiments.thompson import thompson_weights, weights_from_shares
from campaigns.experiments.verdict import (
    Metric,
    Sentence,
    SentenceCode,
    holdout_sentence,
    mean_sentence,
    rate_sentence,
    sample_ratio_sentence,
    sample_size_sentence,
)
from campaigns.models import Campaign, Conversion, Message, Variant

RATE_METRICS = (Metric.OPEN, Metric.CLICK, Metric.CONVERSION)


class GroupKind(StrEnum):
    VARIANT = "variant"
    HOLDOUT = "holdout"
    UNASSIGNED = "unassigned"  # no variant yet (waiting for the winner) or skipped before assignment


@dataclass(frozen=True)
class VariantResult:
    """One group of a campaign (a variant, the holdout, or the not-yet-assigned rest)."""

    kind: GroupKind
    variant_id: int | None
    key: str
    name: str
    weight: int
    audience: int
    waiting: int
    queued: int
    sent: int
    failed: int
    skipped: int
    opens: int
    clicks: int
    unsubscribes: int
    bounces: int
    converters: int  # recipients with at least one credited order
    conversions: int  # credited orders
    revenue: float
    revenue_squares: float  # Σ over recipients of (their revenue)²

    @property
    def recipients(self) -> int:
        return self.audience if self.kind == GroupKind.HOLDOUT else self.sent

    @property
    def delivered(self) -> int:
        return max(self.sent - self.bounces, 0)

    def _share(self, part: int | float, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def open_rate(self) -> float | None:
        return self._share(self.opens, self.sent)

    @property
    def click_rate(self) -> float | None:
        return self._share(self.clicks, self.sent)

    @property
    def click_to_open_rate(self) -> float | None:
        return self._share(self.clicks, self.opens)

    @property
    def unsubscribe_rate(self) -> float | None:
        return self._share(self.unsubscribes, self.sent)

    @property
    def bounce_rate(self) -> float | None:
        return self._share(self.bounces, self.sent)

    @property
    def conversion_rate(self) -> float | None:
        return self._share(self.converters, self.recipients)

    @property
    def revenue_per_recipient(self) -> float | None:
        return self._share(self.revenue, self.recipients)

    @property
    def revenue_moments(self) -> Moments:
        return Moments(self.recipients, self.revenue, self.revenue_squares)

    def metric_counts(self, metric: str) -> tuple[int, int]:
        """(successes, trials) of a rate metric."""
        successes = {Metric.OPEN: self.opens, Metric.CLICK: self.clicks, Metric.CONVERSION: self.converters}
        return successes[Metric(metric)], self.recipients

    def metric_value(self, metric: str) -> float | None:
        if metric == Metric.REVENUE:
            return self.revenue_per_recipient
        successes, trials = self.metric_counts(metric)
        return self._share(successes, trials)

    def as_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class MetricComparison:
    """One metric, one arm against its baseline (the control variant, or the holdout)."""

    metric: Metric
    control_value: float | None
    variant_value: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    relative_lift: float | None
    p_value: float | None
    chance_to_beat: float | None
    significant: bool
    sentence: Sentence
    test: ProportionTest | MeanTest


@dataclass(frozen=True)
class VariantComparison:
    variant_id: int
    key: str
    control_key: str
    metrics: dict[str, MetricComparison]


@dataclass(frozen=True)
class HoldoutLift:
    """Everyone sent the campaign (all variants) against the holdout. Incremental figures
    are the per-recipient differences times the number of recipients, with their CI."""

    recipients: int
    holdout: int
    conversion: MetricComparison
    revenue: MetricComparison
    incremental_conversions: float | None
    incremental_conversions_low: float | None
    incremental_conversions_high: float | None
    incremental_revenue: float | None
    incremental_revenue_low: float | None
    incremental_revenue_high: float | None


@dataclass(frozen=True)
class Comparison:
    """Everything the campaign page and API show about the test.

    ``variants`` are compared on their test group when the campaign tests on part of its
    audience (``in_test_only``); ``holdout_lift`` always uses the whole campaign."""

    campaign_id: int
    winner_metric: Metric
    control_key: str
    in_test_only: bool
    variants: list[VariantResult]
    holdout: VariantResult | None
    unassigned: VariantResult | None
    comparisons: list[VariantComparison]
    chance_to_be_best: dict[str, float]
    sample_ratio: SampleRatioCheck | None
    sample_size: SampleSizeCheck
    holdout_lift: HoldoutLift | None
    verdict: Sentence

    @property
    def sample_ratio_mismatch(self) -> bool:
        return bool(self.sample_ratio and self.sample_ratio.mismatch)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: numbers, strings, lists and dicts (undefined → None)."""
        return _plain(self)


# ── the grouped query ───────────────────────────────────────────────────────────────


def variant_results(
    *, campaign_id: int, dispatch_id: int | None = None, in_test_only: bool = False
) -> list[VariantResult]:
    """Per variant (every variant of the campaign, in key order, even without messages),
    then the holdout and the unassigned rest when they have members."""
    message_table = connection.ops.quote_name(Message._meta.db_table)
    conversion_table = connection.ops.quote_name(Conversion._meta.db_table)
    status, reason = Message.Status, Message.SkipReason
    filters = ["m.campaign_id = %s"]
    filter_params: list[Any] = [campaign_id]
    if dispatch_id is not None:
        filters.append("m.dispatch_id = %s")
        filter_params.append(dispatch_id)
    if in_test_only:
        filters.append("m.in_test = %s")
        filter_params.append(True)
    holdout_case = "CASE WHEN m.status = %s AND m.skip_reason = %s THEN 1 ELSE 0 END"
    sql = f"""
        SELECT m.variant_id, {holdout_case} AS is_holdout,
               COUNT(*),
               SUM(CASE WHEN m.status = %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN m.status IN (%s, %s) THEN 1 ELSE 0 END),
               SUM(CASE WHEN m.status = %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN m.status = %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN m.status = %s THEN 1 ELSE 0 END),
               COUNT(m.opened_at), COUNT(m.clicked_at), COUNT(m.unsubscribed_at), COUNT(m.bounced_at),
               COUNT(c.message_id), COALESCE(SUM(c.orders), 0),
               COALESCE(SUM(c.revenue), 0), COALESCE(SUM(c.revenue * c.revenue), 0)
        FROM {message_table} m
        LEFT JOIN (
            SELECT message_id, COUNT(*) AS orders, SUM(revenue) AS revenue
            FROM {conversion_table} WHERE campaign_id = %s GROUP BY message_id
        ) c ON c.message_id = m.id
        WHERE {" AND ".join(filters)}
        GROUP BY 1, 2
    """  # noqa: S608 - table names from the models, values as parameters
    params = [
        status.SKIPPED, reason.HOLDOUT,
        status.WAITING, status.QUEUED, status.SENDING, status.SENT, status.FAILED, status.SKIPPED,
        campaign_id, *filter_params,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    variants = list(Variant.objects.filter(campaign_id=campaign_id).order_by("key"))
    by_variant: dict[int | None, list[tuple]] = {}
    holdout_rows, unassigned_rows = [], []
    for row in rows:
        if row[1]:
            holdout_rows.append(row)
        elif row[0] is None:
            unassigned_rows.append(row)
        else:
            by_variant.setdefault(row[0], []).append(row)

    results = [
        _result(GroupKind.VARIANT, by_variant.get(v.pk, []), variant_id=v.pk, key=v.key, name=v.name, weight=v.weight)
        for v in variants
    ]
    if holdout_rows:
        results.append(_result(GroupKind.HOLDOUT, holdout_rows, key="holdout"))
    if unassigned_rows:
        results.append(_result(GroupKind.UNASSIGNED, unassigned_rows, key=""))
    return results


def _result(
    kind: GroupKind, rows: list[tuple], *, variant_id: int | None = None, key: str, name: str = "", weight: int = 0
) -> VariantResult:
    """Add up the query rows of one group (a holdout row may carry a variant id)."""
    totals = [0.0] * len(_COUNTED)
    for row in rows:
        for index, value in enumerate(row[2:]):
            totals[index] += float(value or 0)
    counted = {column: int(total) for column, total in zip(_COUNTED[:-2], totals, strict=False)}
    return VariantResult(
        kind=kind, variant_id=variant_id, key=key, name=name, weight=weight, **counted,
        revenue=round(totals[-2], 2), revenue_squares=totals[-1],
    )  # fmt: skip


# The query's columns after (variant_id, is_holdout), in order.
_COUNTED = (
    "audience", "waiting", "queued", "sent", "failed", "skipped", "opens", "clicks", "unsubscribes", "bounces",
    "converters", "conversions", "revenue", "revenue_squares",
)  # fmt: skip


# ── comparisons ─────────────────────────────────────────────────────────────────────


def control_of(results: list[VariantResult]) -> VariantResult | None:
    """The control: variant "A", else the lowest key."""
    variants = [r for r in results if r.kind == GroupKind.VARIANT]
    if not variants:
        return None
    return next((r for r in variants if r.key == "A"), min(variants, key=lambda r: r.key))


def metric_compare(
    control: VariantResult, variant: VariantResult, metric: str, *, control_label: str, variant_label: str
) -> MetricComparison:
    """One metric of ``variant`` against ``control`` (z-test and exact chance to beat for
    rates, Welch for revenue per recipient)."""
    metric = Metric(metric)
    if metric == Metric.REVENUE:
        test = stats.mean_test(control.revenue_moments, variant.revenue_moments)
        sentence = mean_sentence(test, metric=metric, control=control_label, variant=variant_label)
        return MetricComparison(
            metric=metric, control_value=test.control_mean, variant_value=test.variant_mean,
            difference=test.difference, ci_low=test.ci_low, ci_high=test.ci_high, relative_lift=test.relative_lift,
            p_value=test.p_value, chance_to_beat=test.chance_to_beat, significant=test.significant,
            sentence=sentence, test=test,
        )  # fmt: skip
    control_successes, control_trials = control.metric_counts(metric)
    variant_successes, variant_trials = variant.metric_counts(metric)
    test = stats.proportion_test(control_successes, control_trials, variant_successes, variant_trials)
    beat = None
    if control_trials and variant_trials:
        beat = stats.chance_to_beat(control_successes, control_trials, variant_successes, variant_trials)
    sentence = rate_sentence(test, metric=metric, control=control_label, variant=variant_label, chance_to_beat=beat)
    return MetricComparison(
        metric=metric, control_value=test.control_rate, variant_value=test.variant_rate,
        difference=test.difference, ci_low=test.ci_low, ci_high=test.ci_high, relative_lift=test.relative_lift,
        p_value=test.p_value, chance_to_beat=beat, significant=test.significant, sentence=sentence, test=test,
    )  # fmt: skip


def chance_to_be_best(variants: list[VariantResult], metric: str) -> dict[str, float]:
    """Each variant's chance of being the best on ``metric`` (variants with recipients)."""
    metric = Metric(metric)
    if metric == Metric.REVENUE:
        arms = [v for v in variants if v.recipients >= 2]
        if not arms:
            return {}
        if len(arms) == 2:  # the Welch test's own reading, as in the comparison sentences
            beat = stats.mean_test(arms[0].revenue_moments, arms[1].revenue_moments).chance_to_beat
            if beat is not None:
                return {arms[0].key: 1.0 - beat, arms[1].key: beat}
        means = [v.revenue_moments.mean for v in arms]
        errors = [math.sqrt(v.revenue_moments.variance / v.recipients) for v in arms]
        return dict(zip((v.key for v in arms), stats.chance_to_be_best_normal(means, errors), strict=True))
    arms = [v for v in variants if v.recipients > 0]
    if not arms:
        return {}
    counts = [v.metric_counts(metric) for v in arms]
    chances = stats.chance_to_be_best_beta([s for s, _ in counts], [n for _, n in counts])
    return dict(zip((v.key for v in arms), chances, strict=True))


def holdout_lift(variants: list[VariantResult], holdout: VariantResult | None) -> HoldoutLift | None:
    """All variants together against the holdout, on conversion and revenue per recipient."""
    if holdout is None or not holdout.recipients:
        return None
    treated = _combined(variants)
    if not treated.recipients:
        return None
    conversion = metric_compare(holdout, treated, Metric.CONVERSION, control_label="holdout", variant_label="")
    conversion = dataclasses.replace(conversion, sentence=holdout_sentence(conversion.test, metric=Metric.CONVERSION))
    revenue = metric_compare(holdout, treated, Metric.REVENUE, control_label="holdout", variant_label="")
    revenue = dataclasses.replace(revenue, sentence=holdout_sentence(revenue.test, metric=Metric.REVENUE))
    n = treated.recipients

    def scaled(value: float | None) -> float | None:
        return None if value is None else value * n

    return HoldoutLift(
        recipients=n,
        holdout=holdout.recipients,
        conversion=conversion,
        revenue=revenue,
        incremental_conversions=scaled(conversion.difference),
        incremental_conversions_low=scaled(conversion.ci_low),
        incremental_conversions_high=scaled(conversion.ci_high),
        incremental_revenue=scaled(revenue.difference),
        incremental_revenue_low=scaled(revenue.ci_low),
        incremental_revenue_high=scaled(revenue.ci_high),
    )


def _combined(variants: list[VariantResult]) -> VariantResult:
    fields = [f.name for f in dataclasses.fields(VariantResult)][5:]
    sums = {name: sum(getattr(v, name) for v in variants) for name in fields}
    return VariantResult(GroupKind.VARIANT, None, "", "", 0, **sums)


def sample_ratio(
    variants: list[VariantResult], holdout: VariantResult | None, campaign: Campaign
) -> SampleRatioCheck | None:
    """Assigned group sizes against the plan: holdout h, variant i (1 − h)·t·w_i / Σw, with
    t the test share when only the test group is compared (its complement is waiting)."""
    if campaign.thompson_sampling:
        return None  # the weights change from one occurrence to the next
    holdout_share = campaign.holdout_percent / 100
    test_share = min(campaign.test_percent, 100) / 100 if campaign.has_test_phase else 1.0
    total_weight = sum(v.weight for v in variants)
    if not total_weight:
        return None
    observed = [v.audience for v in variants]
    expected = [(1 - holdout_share) * test_share * v.weight / total_weight for v in variants]
    if holdout_share > 0 or (holdout and holdout.audience):
        observed.append(holdout.audience if holdout else 0)
        expected.append(holdout_share)
    return stats.sample_ratio_check(observed, expected)


def variant_comparison(*, campaign_id: int) -> Comparison:
    """Each variant against the control on open, click, conversion and revenue per
    recipient; sample-ratio and minimum-sample checks; lift against the holdout; and the
    verdict on the campaign's winner metric."""
    campaign = Campaign.objects.get(pk=campaign_id)
    metric = Metric(campaign.winner_metric)
    everyone = variant_results(campaign_id=campaign_id)
    holdout = next((r for r in everyone if r.kind == GroupKind.HOLDOUT), None)
    unassigned = next((r for r in everyone if r.kind == GroupKind.UNASSIGNED), None)
    in_test_only = campaign.has_test_phase
    compared = variant_results(campaign_id=campaign_id, in_test_only=True) if in_test_only else everyone
    variants = [r for r in compared if r.kind == GroupKind.VARIANT]
    active = [v for v in variants if v.weight > 0 or v.audience > 0]
    control = control_of(active)

    comparisons = []
    if control is not None:
        for variant in active:
            if variant is control:
                continue
            metrics = {
                m.value: metric_compare(control, variant, m, control_label=control.key, variant_label=variant.key)
                for m in Metric
            }
            comparisons.append(VariantComparison(variant.variant_id, variant.key, control.key, metrics))

    best = chance_to_be_best(active, metric)
    srm = sample_ratio(variants, holdout, campaign)
    size = stats.sample_size_check([v.recipients for v in active], minimum=campaign.min_sample_per_variant)
    lift = holdout_lift([r for r in everyone if r.kind == GroupKind.VARIANT], holdout)
    verdict = _verdict(metric, active, comparisons, best, srm, size, lift)
    return Comparison(
        campaign_id=campaign_id,
        winner_metric=metric,
        control_key=control.key if control else "",
        in_test_only=in_test_only,
        variants=variants,
        holdout=holdout,
        unassigned=unassigned,
        comparisons=comparisons,
        chance_to_be_best=best,
        sample_ratio=srm,
        sample_size=size,
        holdout_lift=lift,
        verdict=verdict,
    )


def _verdict(
    metric: Metric,
    active: list[VariantResult],
    comparisons: list[VariantComparison],
    best: dict[str, float],
    srm: SampleRatioCheck | None,
    size: SampleSizeCheck,
    lift: HoldoutLift | None,
) -> Sentence:
    if not any(v.recipients for v in active):
        return Sentence(SentenceCode.NO_DATA)
    if srm is not None and srm.mismatch:
        return sample_ratio_sentence(srm)
    if len(active) < 2:
        if lift is not None:
            return lift.revenue.sentence if metric == Metric.REVENUE else lift.conversion.sentence
        return Sentence(SentenceCode.ONE_VARIANT)
    if not size.ready:
        return sample_size_sentence(size)
    # The challenger most likely to be best (the strongest one when the control leads).
    challenger = max(sorted(comparisons, key=lambda c: c.key), key=lambda c: best.get(c.key, 0.0))
    return challenger.metrics[metric.value].sentence


def variant_weights_next(*, campaign_id: int, rng: Any = None) -> dict[int, int]:
    """Thompson-sampling weights (variant id → integer weight) for the next occurrence of a
    recurring campaign, from every occurrence so far on the winner metric (revenue uses
    conversions: the Beta posterior needs a yes/no outcome)."""
    campaign = Campaign.objects.get(pk=campaign_id)
    metric = Metric(campaign.winner_metric)
    if metric == Metric.REVENUE:
        metric = Metric.CONVERSION
    variants = [r for r in variant_results(campaign_id=campaign_id) if r.kind == GroupKind.VARIANT]
    if not variants:
        return {}
    counts = [v.metric_counts(metric) for v in variants]
    shares = thompson_weights([s for s, _ in counts], [n for _, n in counts], rng=rng)
    return dict(zip((v.variant_id for v in variants), weights_from_shares(shares), strict=True))


# ── serialisation ───────────────────────────────────────────────────────────────────

_PROPERTIES: dict[type, tuple[str, ...]] = {
    VariantResult: (
        "recipients", "delivered", "open_rate", "click_rate", "click_to_open_rate", "unsubscribe_rate",
        "bounce_rate", "conversion_rate", "revenue_per_recipient",
    ),
    ProportionTest: ("significant",),
    MeanTest: ("significant", "chance_to_beat"),
    SampleRatioCheck: ("mismatch",),
    SampleSizeCheck: ("smallest", "ready"),
    Comparison: ("sample_ratio_mismatch",),
}  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Sentence):
        return value.as_dict()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        data.update({name: _plain(getattr(value, name)) for name in _PROPERTIES.get(type(value), ())})
        return data
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
