"""Feature-table refreshes: start a run (score thresholds, ranges), refresh its ranges.

A run (``FeatureRefresh``) computes the global RFM / tier thresholds once and is split
into ``FeatureRefreshRange`` rows. Whoever executes a range — the management command
in-process, or Celery range tasks on any machine — calls ``features_refresh_range``; the
call that closes the last open range marks the run (and its job) succeeded. Everything is
safe to run twice: the range SQL is an idempotent upsert and a range counts once.

Modes: *full* refreshes every customer with ``as_of`` = now (run it nightly: recency and
window counts change with time even when no data does); *incremental* refreshes only the
customers with orders / events / reviews whose id is above the previous run's watermark,
or whose profile changed, or who have no features yet, and scores them with the previous
run's thresholds (a status change of an existing order is seen by the next full refresh).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from customers.models import Customer, Event, Order, Review
from jobs.services import job_fail, job_progress, job_start, job_succeed
from segments import features
from segments.clustering.errors import ClusteringError
from segments.clustering.services import clusters_assign_new
from segments.membership import membership_sync
from segments.models import (
    FeatureRefresh,
    FeatureRefreshRange,
    RfmSegmentChoice,
    Segment,
    SegmentMembership,
    SegmentSizeSnapshot,
)
from segments.rules.audience import rule_audience
from segments.rules.schema import RuleError, RuleErrorCode, RuleInvalid, rule_parse, rule_segment_ids
from segments.selectors import features_last_refresh, product_categories_by_size

logger = logging.getLogger(__name__)

DEFAULT_RANGE_SIZE = 50_000


@dataclass(frozen=True)
class RangeResult:
    customers: int
    last_range: bool


def feature_ranges(*, range_size: int = DEFAULT_RANGE_SIZE) -> list[tuple[int, int]]:
    """Half-open customer-id ranges [low, high) covering every customer once."""
    if range_size < 1:
        raise ValueError("range_size must be positive")
    bounds = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return []
    return [
        (low, min(low + range_size, bounds["high"] + 1)) for low in range(bounds["low"], bounds["high"] + 1, range_size)
    ]


def _last_succeeded() -> FeatureRefresh | None:
    return FeatureRefresh.objects.filter(status=FeatureRefresh.Status.SUCCEEDED).order_by("-started_at").first()


@transaction.atomic
def features_refresh_start(
    *,
    mode: str = FeatureRefresh.Mode.FULL,
    as_of: dt.datetime | None = None,
    range_size: int = DEFAULT_RANGE_SIZE,
    job_id=None,
) -> FeatureRefresh:
    """Create a run and its ranges. The id watermarks are read before any data is, so a
    row arriving during the run is picked up again by the next incremental run.
    An incremental run without a previous successful run becomes a full one."""
    previous = _last_succeeded()
    if mode == FeatureRefresh.Mode.INCREMENTAL and previous is None:
        mode = FeatureRefresh.Mode.FULL
    refresh = FeatureRefresh.objects.create(
        mode=mode,
        as_of=as_of or timezone.now(),
        range_size=range_size,
        job_id=job_id,
        max_order_id=Order.objects.aggregate(v=Max("id"))["v"] or 0,
        max_event_id=Event.objects.aggregate(v=Max("id"))["v"] or 0,
        max_review_id=Review.objects.aggregate(v=Max("id"))["v"] or 0,
    )
    thresholds = None
    if mode == FeatureRefresh.Mode.INCREMENTAL:
        # Scored against the last full run, so untouched customers stay comparable.
        thresholds = previous.thresholds or None
    refresh.thresholds = thresholds or features.score_thresholds(as_of=refresh.as_of) or {}
    refresh.save(update_fields=["thresholds"])
    if mode == FeatureRefresh.Mode.INCREMENTAL:
        refresh.since = previous.started_at
        refresh.since_order_id = previous.max_order_id
        refresh.since_event_id = previous.max_event_id
        refresh.since_review_id = previous.max_review_id
        refresh.save(update_fields=["since", "since_order_id", "since_event_id", "since_review_id"])
    ranges = feature_ranges(range_size=range_size)
    FeatureRefreshRange.objects.bulk_create(
        FeatureRefreshRange(refresh=refresh, low=low, high=high) for low, high in ranges
    )
    if job_id is not None:
        job_start(job_id=job_id, total=len(ranges))
    return refresh


def _scope(refresh: FeatureRefresh | None, low: int, high: int) -> features.CustomerScope:
    if refresh is None or refresh.mode == FeatureRefresh.Mode.FULL:
        return features.CustomerScope(low=low, high=high)
    return features.CustomerScope(
        low=low,
        high=high,
        since_order_id=refresh.since_order_id,
        since_event_id=refresh.since_event_id,
        since_review_id=refresh.since_review_id,
        since=refresh.since,
    )


FAR_FUTURE = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
BEYOND_ANY_ID = 2**62


def features_rows_create_missing(*, low: int, high: int) -> None:
    """Give every customer with an id in [low, high) who has no feature row yet a complete
    one, with the same set-based statement the feature refresh runs: an incremental scope
    whose watermarks lie beyond every order, event, review and update keeps exactly the
    customers without a row. Uses the last refresh's reference time and score thresholds,
    so the new row fits the rest of the table."""
    last = features_last_refresh()
    as_of = last.as_of if last else timezone.now()
    scope = features.CustomerScope(
        low=low,
        high=high,
        since_order_id=BEYOND_ANY_ID,
        since_event_id=BEYOND_ANY_ID,
        since_review_id=BEYOND_ANY_ID,
        since=FAR_FUTURE,
    )
    features.refresh_range(
        scope=scope, as_of=as_of, computed_at=timezone.now(), thresholds=(last.thresholds or None) if last else None
    )


def features_refresh_range(*, as_of: dt.datetime, low: int, high: int, refresh_id: int | None = None) -> RangeResult:
    """Refresh the customers with ids in [low, high). With ``refresh_id`` the range uses
    the run's thresholds and counts towards the run once, however often it runs; the call
    that closes the run's last open range marks the run succeeded. Without it, the
    thresholds are computed for this call (a one-off repair of a range)."""
    refresh = FeatureRefresh.objects.get(pk=refresh_id) if refresh_id is not None else None
    if refresh is None:
        computed_at, thresholds = timezone.now(), features.score_thresholds(as_of=as_of)
    else:
        computed_at, thresholds = refresh.started_at, refresh.thresholds or None
    written = features.refresh_range(
        scope=_scope(refresh, low, high), as_of=as_of, computed_at=computed_at, thresholds=thresholds
    )
    if refresh is None:
        return RangeResult(customers=written, last_range=False)
    first_time = FeatureRefreshRange.objects.filter(refresh_id=refresh_id, low=low, finished_at__isnull=True).update(
        finished_at=timezone.now(), customers=written
    )
    if first_time and refresh.job_id is not None:
        job_progress(job_id=refresh.job_id, advance=1)
    last_range = False
    if not FeatureRefreshRange.objects.filter(refresh_id=refresh_id, finished_at__isnull=True).exists():
        last_range = features_refresh_finish(refresh_id=refresh_id)
    return RangeResult(customers=written, last_range=last_range)


def features_refresh_finish(*, refresh_id: int) -> bool:
    """Mark a run whose ranges are all done as succeeded (once: False if already done)."""
    customers = sum(FeatureRefreshRange.objects.filter(refresh_id=refresh_id).values_list("customers", flat=True))
    finished = FeatureRefresh.objects.filter(pk=refresh_id, status=FeatureRefresh.Status.RUNNING).update(
        status=FeatureRefresh.Status.SUCCEEDED, customers_refreshed=customers, finished_at=timezone.now()
    )
    refresh = FeatureRefresh.objects.get(pk=refresh_id)
    if finished and refresh.job_id is not None:
        job_succeed(
            job_id=refresh.job_id,
            result={"summary": {"mode": refresh.mode, "customers": customers, "refresh_id": refresh_id}},
            message=f"{customers} customers refreshed",
        )
    return bool(finished)


def features_refresh_fail(*, refresh_id: int, message: str) -> None:
    refresh = FeatureRefresh.objects.get(pk=refresh_id)
    FeatureRefresh.objects.filter(pk=refresh_id).update(status=FeatureRefresh.Status.FAILED, finished_at=timezone.now())
    if refresh.job_id is not None:
        job_fail(job_id=refresh.job_id, message=message)


def _run_range_in_thread(refresh: FeatureRefresh, low: int, high: int) -> RangeResult:
    try:
        return features_refresh_range(as_of=refresh.as_of, low=low, high=high, refresh_id=refresh.pk)
    finally:
        connection.close()


def features_refresh_run(*, refresh_id: int, parallel: int = 1) -> FeatureRefresh:
    """Execute every open range of a run in this process (``parallel`` database
    connections at once on PostgreSQL)."""
    refresh = FeatureRefresh.objects.get(pk=refresh_id)
    open_ranges = list(refresh.ranges.filter(finished_at__isnull=True).order_by("low").values_list("low", "high"))
    try:
        if parallel > 1 and connection.vendor == "postgresql":
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                list(pool.map(lambda bounds: _run_range_in_thread(refresh, *bounds), open_ranges))
        else:
            for low, high in open_ranges:
                features_refresh_range(as_of=refresh.as_of, low=low, high=high, refresh_id=refresh.pk)
        features_refresh_finish(refresh_id=refresh_id)  # no ranges: nobody to refresh
        refresh.refresh_from_db()
        if refresh.status == FeatureRefresh.Status.SUCCEEDED:
            _clusters_place_new()
        return refresh
    except Exception as error:
        features_refresh_fail(refresh_id=refresh_id, message=str(error))
        raise


def _clusters_place_new() -> None:
    """New customers of an in-process run join the applied clustering run (the Celery path
    queues ``clusters_assign_new_task`` when its last range closes the run)."""
    with contextlib.suppress(ClusteringError):  # no applied run: nobody to place
        clusters_assign_new()


def features_refresh_full(
    *, as_of: dt.datetime | None = None, range_size: int = DEFAULT_RANGE_SIZE, parallel: int = 1, job_id=None
) -> FeatureRefresh:
    """Recompute every customer's features in this process."""
    refresh = features_refresh_start(mode=FeatureRefresh.Mode.FULL, as_of=as_of, range_size=range_size, job_id=job_id)
    return features_refresh_run(refresh_id=refresh.pk, parallel=parallel)


def features_refresh_incremental(
    *, as_of: dt.datetime | None = None, range_size: int = DEFAULT_RANGE_SIZE, parallel: int = 1, job_id=None
) -> FeatureRefresh:
    """Recompute only customers with new data since the last successful run."""
    refresh = features_refresh_start(
        mode=FeatureRefresh.Mode.INCREMENTAL, as_of=as_of, range_size=range_size, job_id=job_id
    )
    return features_refresh_run(refresh_id=refresh.pk, parallel=parallel)


# --- saved segments -------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentRefreshResult:
    size: int
    entered: int
    left: int


def _refuse_cycles(*, segment_id: int, rule: Any) -> None:
    """A segment may not depend on itself through the segments its rule names."""
    seen: set[int] = set()
    pending = rule_segment_ids(rule)
    while pending:
        current = pending.pop()
        if current == segment_id:
            raise RuleInvalid([RuleError("rule", RuleErrorCode.CYCLE, "The rule depends on this segment itself.")])
        if current in seen:
            continue
        seen.add(current)
        referenced = Segment.objects.filter(pk=current).values_list("rule", flat=True).first()
        pending |= rule_segment_ids(referenced)


@transaction.atomic
def segment_create(*, name: str, rule: Any, description: str = "", user=None) -> Segment:
    """Save a dynamic segment (its rule is validated first; raises RuleInvalid)."""
    rule_parse(rule)
    segment = Segment.objects.create(name=name, description=description, rule=rule, created_by=user)
    _refuse_cycles(segment_id=segment.pk, rule=rule)
    audit_record(actor=user, action="segment.create", target_type="segment", target_id=segment.pk)
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, name: str | None = None, rule: Any = None, description: str | None = None,
                   user=None) -> Segment:  # fmt: skip
    if rule is not None:
        if segment.kind == Segment.Kind.STATIC:
            raise ValueError("A static segment has no rule to change.")
        rule_parse(rule)
        _refuse_cycles(segment_id=segment.pk, rule=rule)
        segment.rule = rule
    if name is not None:
        segment.name = name
    if description is not None:
        segment.description = description
    segment.save()
    audit_record(actor=user, action="segment.update", target_type="segment", target_id=segment.pk)
    return segment


@transaction.atomic
def segment_refresh(*, segment_id: int, now: dt.datetime | None = None) -> SegmentRefreshResult:
    """Re-evaluate a dynamic segment and record who entered and left (static: no change)."""
    now = now or timezone.now()
    segment = Segment.objects.select_for_update().get(pk=segment_id)
    entered = left = 0
    if segment.kind == Segment.Kind.DYNAMIC:
        entered, left = membership_sync(segment_id=segment.pk, audience=rule_audience(segment.rule, now=now), now=now)
    size = SegmentMembership.objects.filter(segment=segment, left_at__isnull=True).count()
    Segment.objects.filter(pk=segment.pk).update(size=size, refreshed_at=now)
    SegmentSizeSnapshot.objects.create(segment=segment, at=now, size=size, entered=entered, left=left)
    return SegmentRefreshResult(size=size, entered=entered, left=left)


@transaction.atomic
def segment_freeze(*, segment: Segment, user=None) -> Segment:
    """Turn a dynamic segment into a static snapshot of its current members."""
    Segment.objects.filter(pk=segment.pk).update(kind=Segment.Kind.STATIC)
    audit_record(actor=user, action="segment.freeze", target_type="segment", target_id=segment.pk)
    segment.refresh_from_db()
    return segment


@dataclass(frozen=True)
class StaticSegmentUpload:
    segment: Segment
    matched: int
    unknown: list[str]


@transaction.atomic
def segment_create_from_list(*, name: str, identifiers: list[str], user=None) -> StaticSegmentUpload:
    """A static segment from a list of customer ids or emails; identifiers that match no
    customer are returned, not silently dropped."""
    wanted = {identifier.strip() for identifier in identifiers if identifier and identifier.strip()}
    lowered = {identifier.lower() for identifier in wanted}
    customers = Customer.objects.filter(Q(external_id__in=wanted) | Q(email__in=lowered | wanted))
    found = list(customers.values_list("pk", "external_id", "email"))
    known = {external_id for _, external_id, _ in found} | {email.lower() for *_, email in found if email}
    unknown = sorted(identifier for identifier in wanted if identifier not in known and identifier.lower() not in known)
    segment = Segment.objects.create(name=name, kind=Segment.Kind.STATIC, created_by=user)
    now = timezone.now()
    membership_sync(segment_id=segment.pk, audience=Customer.objects.filter(pk__in=[pk for pk, *_ in found]), now=now)
    size = len({pk for pk, *_ in found})
    Segment.objects.filter(pk=segment.pk).update(size=size, refreshed_at=now)
    SegmentSizeSnapshot.objects.create(segment=segment, at=now, size=size, entered=size, left=0)
    audit_record(actor=user, action="segment.upload", target_type="segment", target_id=segment.pk, unknown=len(unknown))
    segment.refresh_from_db()
    return StaticSegmentUpload(segment=segment, matched=size, unknown=unknown)


@transaction.atomic
def rfm_segments_create(*, user=None) -> list[Segment]:
    """The standard named RFM segments as ready-made dynamic segments (idempotent: a
    segment that already exists under its name is left as it is)."""
    created = []
    for choice in RfmSegmentChoice:
        if not choice.value:  # customers without orders have no RFM segment
            continue
        name = f"RFM: {choice.label}"
        if Segment.objects.filter(name=name).exists():
            continue
        rule = {"type": "group", "op": "and", "children": [
            {"type": "condition", "field": "features.rfm_segment", "operator": "equals", "value": choice.value}
        ]}  # fmt: skip
        segment = segment_create(name=name, rule=rule, user=user,
                                 description=str(_("Customers the RFM scores place in this segment.")))  # fmt: skip
        created.append(segment)
    return created


# Interest: what "interested in a category" means for the ready-made interest segments.
INTEREST_WINDOW_DAYS = 90
INTEREST_MIN_VIEWS = 3
INTEREST_DEFAULT_CATEGORIES = 12


def interest_rule(category: str) -> dict[str, Any]:
    """Added to cart or favourited at least once, or viewed at least INTEREST_MIN_VIEWS
    times, in the category over the last INTEREST_WINDOW_DAYS days: the same signals
    (cart > favourite > view) the ``interest_categories`` feature ranks."""
    window = {"last_days": INTEREST_WINDOW_DAYS}
    filters = {"category": category}
    return {"type": "group", "op": "or", "children": [
        {"type": "behaviour", "event": "add_to_cart", "count": {"op": "gte", "value": 1}, "window": window,
         "filters": filters},
        {"type": "behaviour", "event": "favorite", "count": {"op": "gte", "value": 1}, "window": window,
         "filters": filters},
        {"type": "behaviour", "event": "view", "count": {"op": "gte", "value": INTEREST_MIN_VIEWS},
         "window": window, "filters": filters},
    ]}  # fmt: skip


@transaction.atomic
def interest_segments_create(*, categories: list[str] | None = None, user=None) -> list[Segment]:
    """Ready-made dynamic segments "Interested in <category>", one per category: the given
    ones, else the INTEREST_DEFAULT_CATEGORIES categories with the most products.
    Idempotent like ``rfm_segments_create``."""
    if categories is None:
        categories = product_categories_by_size(limit=INTEREST_DEFAULT_CATEGORIES)
    created = []
    for category in dict.fromkeys(name.strip() for name in categories if name and name.strip()):
        name = str(_("Interested in %(category)s")) % {"category": category}
        if Segment.objects.filter(name=name).exists():
            continue
        description = str(
            _("Added to cart or favourited at least once, or viewed at least %(views)d times, in %(category)s "
              "over the last %(days)d days.")
        ) % {"views": INTEREST_MIN_VIEWS, "category": category, "days": INTEREST_WINDOW_DAYS}  # fmt: skip
        created.append(segment_create(name=name, rule=interest_rule(category), description=description, user=user))
    return created
