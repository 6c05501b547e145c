"""Writes of member tiers: the tier definitions, and the recalculation that gives every
customer the highest tier they reach and records each change in the tier history.

A tier is reached with at least ``threshold`` of its metric over its rolling window
ending at the reference time: spend (the sum of placed orders' totals; cancelled and
returned orders do not count) or the number of placed orders. Windows are closed like the
feature table's (segments/features.py): an order exactly ``window_days`` before the
reference time counts, orders after it do not, so a recalculation with an old ``now``
reproduces the tiers as they were then.

``tiers_recalculate`` is set-based and runs the same statements on SQLite and PostgreSQL:
one pass over the orders of the longest window (each shorter window is an aggregate
``FILTER``), joined to the customers into a temporary table of the customers whose tier
changes, then one UPDATE of their ``member_tier`` and one INSERT of their ``TierChange``
rows, in one transaction. Customers whose tier does not change are not written, so a
second run with the same data changes nothing and records nothing. The tier-change
campaign triggers read the history rows (``selectors.tier_changes_since``).
"""

import datetime as dt
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.services import audit_record
from campaigns.models import Tier, TierChange
from campaigns.tiers.errors import TierError, TierErrorCode
from customers.models import Customer, Order
from jobs.models import Job
from jobs.queue import task_send
from jobs.services import job_create, job_fail, job_start, job_succeed

NAME_MAX_LENGTH = Tier._meta.get_field("name").max_length
RANK_MAX = 32767  # PositiveSmallIntegerField
WINDOW_MIN_DAYS = 1
WINDOW_MAX_DAYS = 3650
THRESHOLD_MAX = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
CENT = Decimal("0.01")
TIER_FIELDS = ("name", "rank", "metric", "threshold", "window_days", "description")

RECALCULATION_REASON = "recalculation"
RECALCULATE_JOB_KIND = "tiers_recalculate"
RECALCULATE_TASK = "campaigns.tiers_recalculate"
# pg_advisory_xact_lock key: one recalculation at a time ("TIER" in ASCII).
_LOCK_KEY = 0x54494552


@dataclass(frozen=True)
class StandardTier:
    name: str
    rank: int
    threshold: Decimal
    description: str


STANDARD_WINDOW_DAYS = 365
STANDARD_TIERS = (
    StandardTier("bronze", 1, Decimal("1"), gettext_noop("Any purchase in the last year.")),
    StandardTier("silver", 2, Decimal("2000"), gettext_noop("Spent at least 2,000 in the last year.")),
    StandardTier("gold", 3, Decimal("8000"), gettext_noop("Spent at least 8,000 in the last year.")),
    StandardTier("platinum", 4, Decimal("20000"), gettext_noop("Spent at least 20,000 in the last year.")),
)


# --- definitions --------------------------------------------------------------------------


def _as_decimal(value: Any) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise TierError(TierErrorCode.THRESHOLD_NOT_A_NUMBER, field="threshold") from None
    if not number.is_finite():
        raise TierError(TierErrorCode.THRESHOLD_NOT_A_NUMBER, field="threshold")
    return number


def _tier_check(*, tier_id: int | None, name: str, rank: Any, metric: str, threshold: Any, window_days: Any) -> Decimal:
    """Refuse a definition that cannot be stored or would make the tiers contradict each
    other; returns the threshold with two decimal places. The caller holds the lock on the
    tier rows, so the comparison with the other tiers is not raced."""
    if not name:
        raise TierError(TierErrorCode.NAME_REQUIRED, field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise TierError(TierErrorCode.NAME_TOO_LONG, field="name", limit=NAME_MAX_LENGTH)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank <= RANK_MAX:
        raise TierError(TierErrorCode.RANK_OUT_OF_RANGE, field="rank", low=0, high=RANK_MAX)
    if metric not in Tier.Metric.values:
        raise TierError(TierErrorCode.UNKNOWN_METRIC, field="metric", metric=str(metric))
    if isinstance(window_days, bool) or not isinstance(window_days, int):
        raise TierError(
            TierErrorCode.WINDOW_OUT_OF_RANGE, field="window_days", low=WINDOW_MIN_DAYS, high=WINDOW_MAX_DAYS
        )
    if not WINDOW_MIN_DAYS <= window_days <= WINDOW_MAX_DAYS:
        raise TierError(
            TierErrorCode.WINDOW_OUT_OF_RANGE, field="window_days", low=WINDOW_MIN_DAYS, high=WINDOW_MAX_DAYS
        )
    threshold = _as_decimal(threshold)
    if threshold < 0:
        raise TierError(TierErrorCode.THRESHOLD_NEGATIVE, field="threshold")
    if threshold > THRESHOLD_MAX:
        raise TierError(TierErrorCode.THRESHOLD_TOO_LARGE, field="threshold")
    if metric == Tier.Metric.ORDERS and threshold != threshold.to_integral_value():
        raise TierError(TierErrorCode.THRESHOLD_NOT_WHOLE, field="threshold")
    if threshold != threshold.quantize(CENT):
        raise TierError(TierErrorCode.THRESHOLD_PRECISION, field="threshold")
    threshold = threshold.quantize(CENT)

    others = [tier for tier in Tier.objects.order_by("rank") if tier.pk != tier_id]
    for other in others:
        if other.name.casefold() == name.casefold():
            raise TierError(TierErrorCode.NAME_TAKEN, field="name", name=other.name)
        if other.rank == rank:
            raise TierError(TierErrorCode.RANK_TAKEN, field="rank", name=other.name, rank=rank)
    for other in others:
        if other.metric != metric or other.window_days != window_days:
            continue
        if (other.rank < rank and other.threshold > threshold) or (other.rank > rank and other.threshold < threshold):
            raise TierError(
                TierErrorCode.THRESHOLD_ORDER,
                field="threshold",
                other=other.name,
                other_rank=other.rank,
                other_threshold=str(other.threshold),
            )
    return threshold


def _tiers_lock() -> None:
    """Serialise definition changes: every writer locks the (few) tier rows first."""
    list(Tier.objects.select_for_update().values_list("pk", flat=True))


@transaction.atomic
def tier_create(
    *,
    name: str,
    rank: int,
    threshold: Decimal | int | str,
    metric: str = Tier.Metric.SPEND,
    window_days: int = STANDARD_WINDOW_DAYS,
    description: str = "",
    user=None,
) -> Tier:
    """A new tier definition. Customers get it at the next recalculation."""
    _tiers_lock()
    name = (name or "").strip()
    clean_threshold = _tier_check(
        tier_id=None, name=name, rank=rank, metric=metric, threshold=threshold, window_days=window_days
    )
    try:
        with transaction.atomic():
            tier = Tier.objects.create(
                name=name,
                rank=rank,
                metric=metric,
                threshold=clean_threshold,
                window_days=window_days,
                description=description.strip(),
            )
    except IntegrityError:  # a concurrent first tier: no rows were there to lock
        raise TierError(TierErrorCode.NAME_TAKEN, field="name", name=name) from None
    audit_record(actor=user, action="tier.create", target_type="tier", target_id=tier.pk, name=name)
    return tier


@transaction.atomic
def tier_update(*, tier: Tier, user=None, **changes: Any) -> Tier:
    """Change a tier's definition. A renamed tier is renamed on its customers too (one
    UPDATE, no history rows: nobody changed tier), so tier-only offers keep finding them;
    the history keeps the names as they were. Other changes apply at the next
    recalculation."""
    unknown = set(changes) - set(TIER_FIELDS)
    if unknown:
        raise TypeError(f"tier_update() got unknown fields {sorted(unknown)}")
    _tiers_lock()
    current = Tier.objects.get(pk=tier.pk)
    values = {name: changes.get(name, getattr(current, name)) for name in TIER_FIELDS}
    values["name"] = (values["name"] or "").strip()
    values["threshold"] = _tier_check(
        tier_id=current.pk,
        name=values["name"],
        rank=values["rank"],
        metric=values["metric"],
        threshold=values["threshold"],
        window_days=values["window_days"],
    )
    values["description"] = (values["description"] or "").strip()
    old_name = current.name
    for name, value in values.items():
        setattr(tier, name, value)
    tier.save()
    if values["name"] != old_name:
        Customer.objects.filter(member_tier=old_name).update(member_tier=values["name"], updated_at=timezone.now())
    audit_record(
        actor=user, action="tier.update", target_type="tier", target_id=tier.pk, fields=sorted(changes), name=tier.name
    )
    return tier


def tier_delete(*, tier: Tier, user=None) -> None:
    """Delete a definition. Its customers keep the name until the next recalculation moves
    them (and records the move in their history)."""
    audit_record(actor=user, action="tier.delete", target_type="tier", target_id=tier.pk, name=tier.name)
    tier.delete()


@transaction.atomic
def tiers_create_standard(*, user=None) -> list[Tier]:
    """Bronze, silver, gold and platinum on spend over 365 days (1, 2,000, 8,000, 20,000).
    Idempotent: a tier whose name already exists is left as the marketer set it; returns
    the tiers created (none on a second call). Refused with the usual codes when a missing
    one would clash with the shop's own tiers (e.g. its rank is taken)."""
    _tiers_lock()
    existing = {name.casefold() for name in Tier.objects.values_list("name", flat=True)}
    created = []
    for standard in STANDARD_TIERS:
        if standard.name.casefold() in existing:
            continue
        created.append(
            tier_create(
                name=standard.name,
                rank=standard.rank,
                metric=Tier.Metric.SPEND,
                threshold=standard.threshold,
                window_days=STANDARD_WINDOW_DAYS,
                description=standard.description,
                user=user,
            )
        )
    return created


# --- recalculation ------------------------------------------------------------------------


@dataclass(frozen=True)
class TierRecalculation:
    """What one recalculation did. ``tier_counts`` maps tier name → customers after the
    run ("" = no tier; names no tier is defined with any more appear as they are).
    Upgrades and downgrades compare ranks; no tier, and a name no longer defined, rank
    below every tier."""

    started_at: dt.datetime
    as_of: dt.datetime
    customers: int
    changed: int
    upgrades: int
    downgrades: int
    tier_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["as_of"] = self.as_of.isoformat()
        return data


@dataclass(frozen=True)
class _Rule:
    """A tier as the recalculation SQL reads it."""

    name: str
    rank: int
    metric: str
    threshold: Decimal
    window_days: int

    @property
    def column(self) -> str:
        return f"{self.metric}_{self.window_days}d"


def _db_time(value: dt.datetime) -> Any:
    """A datetime as the backend stores it (SQLite compares naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _spend_sum(window_filter: str) -> str:
    """Spend over a window, in whole cents: exact on SQLite (which would sum the totals as
    floats), and on PostgreSQL a bigint sum is cheaper than a numeric one per customer."""
    if connection.vendor == "postgresql":
        cents = "CAST(o.total * 100 AS BIGINT)"
    else:
        cents = "CAST(ROUND(o.total * 100) AS INTEGER)"
    return f"COALESCE(SUM({cents}){window_filter}, 0)"


def _threshold_param(rule: _Rule) -> int:
    """The threshold in the unit of the SQL: orders, or cents of spend."""
    if rule.metric == Tier.Metric.ORDERS:
        return int(rule.threshold)
    return int(rule.threshold * 100)


def _moves_sql(rules: list[_Rule]) -> tuple[str, dict[str, Any]]:
    """CREATE TEMP TABLE tier_moves (customer_id, from_tier, to_tier) of the customers
    whose reached tier differs from their ``member_tier``; one scan of the orders."""
    longest = max(rule.window_days for rule in rules)
    aggregates = []
    for metric, days in sorted({(rule.metric, rule.window_days) for rule in rules}):
        window_filter = "" if days == longest else f" FILTER (WHERE o.ordered_at >= %(since_{days}d)s)"
        if metric == Tier.Metric.SPEND:
            aggregates.append(f"{_spend_sum(window_filter)} AS spend_{days}d")
        else:
            aggregates.append(f"COUNT(*){window_filter} AS orders_{days}d")
    branches = []
    params: dict[str, Any] = {}
    for i, rule in enumerate(sorted(rules, key=lambda r: r.rank, reverse=True)):
        branches.append(f"WHEN r.{rule.column} >= %(threshold_{i})s THEN %(tier_{i})s")
        params[f"threshold_{i}"] = _threshold_param(rule)
        params[f"tier_{i}"] = rule.name
    # Customers without placed orders in the longest window are not in ``reached``: they
    # get the highest tier that asks for nothing (a threshold of 0), if there is one.
    free = [rule for rule in rules if rule.threshold <= 0]
    params["free_tier"] = max(free, key=lambda r: r.rank).name if free else ""
    sql = f"""
CREATE TEMP TABLE tier_moves AS
WITH reached AS (
    SELECT o.customer_id,
        {", ".join(aggregates)}
    FROM {Order._meta.db_table} o
    WHERE o.status = %(placed)s AND o.ordered_at >= %(since_{longest}d)s AND o.ordered_at <= %(now)s
    GROUP BY o.customer_id
),
target AS (
    SELECT r.customer_id, CASE {" ".join(branches)} ELSE '' END AS tier
    FROM reached r
)
SELECT c.id AS customer_id, c.member_tier AS from_tier, COALESCE(t.tier, %(free_tier)s) AS to_tier
FROM {Customer._meta.db_table} c
LEFT JOIN target t ON t.customer_id = c.id
WHERE c.member_tier <> COALESCE(t.tier, %(free_tier)s)
"""
    params["placed"] = Order.Status.PLACED
    return sql, params


def _rules() -> list[_Rule]:
    return [
        _Rule(name=t.name, rank=t.rank, metric=t.metric, threshold=t.threshold, window_days=t.window_days)
        for t in Tier.objects.order_by("rank")
    ]


def tiers_recalculate(*, now: dt.datetime | None = None) -> TierRecalculation:
    """Give every customer the highest-rank tier whose metric over its rolling window
    ending at ``now`` reaches its threshold ("" when none), and record one ``TierChange``
    (reason "recalculation", ``changed_at`` = ``now``) per customer whose tier changed.

    All in one transaction, one recalculation at a time (PostgreSQL: an advisory lock).
    Idempotent: a second run over the same data writes nothing. With no tier defined,
    nothing is changed (imported tiers are kept until the shop defines its tiers)."""
    started_at = timezone.now()
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(step: str) -> None:
        timings[step] = round(time.perf_counter() - clock - sum(timings.values()), 3)

    now = now or started_at
    postgres = connection.vendor == "postgresql"
    customer_table = Customer._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
        rules = _rules()
        moves: list[tuple[str, str, int]] = []
        if rules:
            sql, params = _moves_sql(rules)
            params["now"] = _db_time(now)
            for days in {rule.window_days for rule in rules}:
                params[f"since_{days}d"] = _db_time(now - dt.timedelta(days=days))
            cursor.execute("DROP TABLE IF EXISTS tier_moves")
            cursor.execute(sql, params)
            if postgres:
                cursor.execute("ANALYZE tier_moves")
            lap("moves")
            cursor.execute(
                f"UPDATE {customer_table} AS c SET member_tier = m.to_tier, updated_at = %s"
                " FROM tier_moves AS m WHERE c.id = m.customer_id",
                [_db_time(started_at)],
            )
            lap("update")
            cursor.execute(
                f"INSERT INTO {TierChange._meta.db_table} (customer_id, from_tier, to_tier, changed_at, reason)"
                " SELECT customer_id, from_tier, to_tier, %s, %s FROM tier_moves ORDER BY customer_id",
                [_db_time(now), RECALCULATION_REASON],
            )
            lap("history")
            cursor.execute("SELECT from_tier, to_tier, COUNT(*) FROM tier_moves GROUP BY from_tier, to_tier")
            moves = list(cursor.fetchall())
            cursor.execute("DROP TABLE tier_moves")
        cursor.execute(f"SELECT member_tier, COUNT(*) FROM {customer_table} GROUP BY member_tier")
        tier_counts = {name: int(count) for name, count in cursor.fetchall()}
        lap("counts")
    rank = {rule.name: rule.rank for rule in rules}
    upgrades = sum(n for old, new, n in moves if rank.get(new, -1) > rank.get(old, -1))
    downgrades = sum(n for old, new, n in moves if rank.get(new, -1) < rank.get(old, -1))
    return TierRecalculation(
        started_at=started_at,
        as_of=now,
        customers=sum(tier_counts.values()),
        changed=sum(n for _old, _new, n in moves),
        upgrades=upgrades,
        downgrades=downgrades,
        tier_counts=tier_counts,
        seconds=round(time.perf_counter() - clock, 3),
        timings=timings,
    )


def tiers_recalculate_start(*, user=None) -> Job:
    """Create the job and queue the recalculation once it is committed; the page polls
    the job and the API returns its id."""
    with transaction.atomic():
        job = job_create(kind=RECALCULATE_JOB_KIND, title=_("Member tiers: recalculate"), user=user)
        job_id = str(job.pk)
        transaction.on_commit(lambda: task_send(RECALCULATE_TASK, job_id=job_id))
    return job


def tiers_recalculate_run(*, job_id: str | None = None, now: dt.datetime | None = None) -> TierRecalculation | None:
    """What the task runs: the recalculation, reported on its job (the nightly schedule
    starts without one, so a job is created and the page shows the last run). Safe to run
    twice: a job that already finished is left alone (None)."""
    if job_id is None:
        job_id = str(job_create(kind=RECALCULATE_JOB_KIND, title=_("Member tiers: nightly recalculation")).pk)
    elif Job.objects.filter(pk=job_id, status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED]).exists():
        return None
    job_start(job_id=job_id, total=1)
    try:
        result = tiers_recalculate(now=now)
    except Exception as error:
        job_fail(job_id=job_id, message=str(error))
        raise
    summary = {
        gettext_noop("customers"): result.customers,
        gettext_noop("changed"): result.changed,
        gettext_noop("upgrades"): result.upgrades,
        gettext_noop("downgrades"): result.downgrades,
    }
    job_succeed(
        job_id=job_id,
        result={"summary": summary, "recalculation": result.as_dict()},
        message=_("%(changed)d customers changed tier (%(upgrades)d up, %(downgrades)d down) in %(seconds).1f s")
        % {
            "changed": result.changed,
            "upgrades": result.upgrades,
            "downgrades": result.downgrades,
            "seconds": result.seconds,
        },
    )
    return result
