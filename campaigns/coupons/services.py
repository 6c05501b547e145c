"""Writes of coupons: pools, code generation, assignment to messages, redemptions.

- ``coupon_pool_create`` checks the offer's terms and, for a shared pool, stores its one code.
- ``coupon_codes_generate`` makes exactly ``count`` new codes: NumPy draws them
  (campaigns/coupons/codes.py), PostgreSQL takes them in chunks by COPY (straight into the
  table; after a clash with a stored code, into a temporary table and one
  ``INSERT … SELECT … ON CONFLICT (code) DO NOTHING``); codes that collide with stored ones
  are simply not inserted, and the next round tops up until the count is met.
- ``coupons_assign`` gives each queued or waiting message of a dispatch one free code of the
  campaign's pool in two set-based statements (codes → messages, then the messages' copy of
  their code). The OneToOne ``Coupon.message`` makes a code go to one message only.
- ``redemptions_record`` classifies, in one INSERT … SELECT, every order carrying a known
  code that has no redemption yet: accepted, or refused with the reason. The partial unique
  constraint "one accepted redemption per code and customer" is the last guard: an order
  that loses a race to it is recorded as refused (already_redeemed) in a second pass.

Every function here is safe to run twice.
"""

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.services import audit_record
from campaigns.coupons.codes import (
    CODE_CHARS,
    MAX_LENGTH,
    MAX_PREFIX,
    MIN_LENGTH,
    code_normalise,
    codes_copy_text,
    codes_random,
    prefix_valid,
)
from campaigns.coupons.errors import CouponError, CouponErrorCode
from campaigns.models import Coupon, CouponPool, Dispatch, Message, Redemption
from customers.models import Order
from jobs.models import Job
from jobs.services import job_create, job_fail, job_progress, job_start, job_succeed

GENERATE_CHUNK = 250_000
GENERATE_MAX = 10_000_000
GENERATE_INLINE_MAX = 20_000  # the API and the page generate up to this many without a job
GENERATE_JOB_KIND = "coupons.generate"
ROUNDS_WITHOUT_PROGRESS = 5  # then the code space of the pool is taken as exhausted
STAGE = "coupon_code_stage"
Progress = Callable[[int, int], None]

# Job summary labels, translated when shown (jobs/templatetags/job_labels.py).
SUMMARY_LABELS = (gettext_noop("codes generated"), gettext_noop("codes in the pool"))


def _postgres() -> bool:
    return connection.vendor == "postgresql"


# --- pools ---------------------------------------------------------------------------------


def _check_terms(*, kind: str, discount_kind: str, discount_value: Decimal, min_spend: Decimal) -> None:
    if kind not in CouponPool.Kind.values:
        raise CouponError(CouponErrorCode.UNKNOWN_KIND, field="kind", kind=kind)
    if discount_kind not in CouponPool.DiscountKind.values:
        raise CouponError(CouponErrorCode.UNKNOWN_DISCOUNT_KIND, field="discount_kind", kind=discount_kind)
    if discount_kind == CouponPool.DiscountKind.PERCENT and not 0 < discount_value <= 100:
        raise CouponError(CouponErrorCode.PERCENT_OUT_OF_RANGE, field="discount_value")
    if discount_kind == CouponPool.DiscountKind.FIXED and discount_value <= 0:
        raise CouponError(CouponErrorCode.AMOUNT_NOT_POSITIVE, field="discount_value")
    if min_spend < 0:
        raise CouponError(CouponErrorCode.MIN_SPEND_NEGATIVE, field="min_spend")


@transaction.atomic
def coupon_pool_create(
    *,
    name: str,
    kind: str,
    discount_kind: str,
    discount_value: Decimal | int | str,
    min_spend: Decimal | int | str = 0,
    expires_at: dt.datetime | None = None,
    single_use: bool = True,
    shared_code: str = "",
    prefix: str = "",
    code_length: int = 10,
    user=None,
) -> CouponPool:
    """A new pool of coupons with its terms. A shared pool gets its one code now (stored in
    upper case, matched in upper case); a unique pool gets codes from
    ``coupon_codes_generate`` (or from ``coupons_assign`` when a send needs them).

    Codes are single use: a unique code once, a shared code once per customer (the
    redemptions table allows one accepted redemption per code and customer)."""
    discount_value, min_spend = Decimal(str(discount_value)), Decimal(str(min_spend or 0))
    _check_terms(kind=kind, discount_kind=discount_kind, discount_value=discount_value, min_spend=min_spend)
    if not single_use:
        code = (
            CouponErrorCode.UNIQUE_CODES_SINGLE_USE
            if kind == CouponPool.Kind.UNIQUE
            else CouponErrorCode.MULTI_USE_NOT_SUPPORTED
        )
        raise CouponError(code, field="single_use")
    code = code_normalise(shared_code)
    prefix = code_normalise(prefix)
    if kind == CouponPool.Kind.SHARED:
        if not code:
            raise CouponError(CouponErrorCode.SHARED_CODE_NEEDED, field="shared_code")
        if len(code) > 64 or not CODE_CHARS.match(code) or not code.isascii():
            raise CouponError(CouponErrorCode.SHARED_CODE_INVALID, field="shared_code")
        if Coupon.objects.filter(code=code).exists():
            raise CouponError(CouponErrorCode.SHARED_CODE_TAKEN, field="shared_code", value=code)
        prefix, code_length = "", 0
    else:
        code = ""
        if not MIN_LENGTH <= code_length <= MAX_LENGTH:
            raise CouponError(
                CouponErrorCode.CODE_LENGTH_OUT_OF_RANGE, field="code_length", low=MIN_LENGTH, high=MAX_LENGTH
            )
        if not prefix_valid(prefix):
            raise CouponError(CouponErrorCode.PREFIX_INVALID, field="prefix", limit=MAX_PREFIX)
    pool = CouponPool.objects.create(
        name=name.strip(),
        kind=kind,
        shared_code=code,
        prefix=prefix,
        code_length=code_length,
        discount_kind=discount_kind,
        discount_value=discount_value,
        min_spend=min_spend,
        expires_at=expires_at,
        single_use=single_use,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if code:
        try:
            with transaction.atomic():
                Coupon.objects.create(pool=pool, code=code, created_at=timezone.now())
        except IntegrityError as clash:  # taken between the check and the insert
            raise CouponError(CouponErrorCode.SHARED_CODE_TAKEN, field="shared_code", value=code) from clash
    audit_record(actor=user, action="coupon_pool.create", target_type="coupon_pool", target_id=pool.pk, kind=kind)
    return pool


# --- code generation -----------------------------------------------------------------------


def _insert_codes(pool_id: int, codes, now: dt.datetime) -> int:
    """Insert the codes that are new; return how many were.

    PostgreSQL: COPY straight into the table first (a clash with a stored code is rare, and
    aborts the whole COPY); after a clash, COPY into a temporary table and INSERT … SELECT …
    ON CONFLICT DO NOTHING, which skips the stored codes."""
    if not len(codes):
        return 0
    if _postgres():
        stamp = now.astimezone(dt.UTC).isoformat().encode()
        lines = codes_copy_text(codes, before=b"%d\t" % pool_id, after=b"\t" + stamp)
        try:
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                connection.wrap_database_errors,
                cursor.cursor.copy("COPY campaigns_coupon (pool_id, code, created_at) FROM STDIN") as copy,
            ):
                copy.write(lines)
            return len(codes)
        except IntegrityError:
            pass
    with transaction.atomic(), connection.cursor() as cursor:
        if _postgres():
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} (code varchar(64))")
            with cursor.cursor.copy(f"COPY {STAGE} (code) FROM STDIN") as copy:
                copy.write(codes_copy_text(codes))
            cursor.execute(
                f"INSERT INTO campaigns_coupon (pool_id, code, created_at) SELECT %s, code, %s FROM {STAGE} "
                "ON CONFLICT (code) DO NOTHING",
                [pool_id, now],
            )
            inserted = cursor.rowcount
            cursor.execute(f"DROP TABLE {STAGE}")
            return inserted
        cursor.executemany(
            "INSERT INTO campaigns_coupon (pool_id, code, created_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (code) DO NOTHING",
            zip(repeat(pool_id), codes.astype(str).tolist(), repeat(connection.ops.adapt_datetimefield_value(now))),
        )
        return max(cursor.rowcount, 0)


def coupon_codes_generate(*, pool_id: int, count: int, progress: Progress | None = None) -> int:
    """Add exactly ``count`` new unique codes to a unique pool and return ``count``.

    Chunks of GENERATE_CHUNK codes are committed one by one (so a progress bar can show
    them); a code already stored anywhere is skipped by the database and made up for in
    the next round. Codes are only ever added, so an interrupted run leaves valid codes."""
    pool = CouponPool.objects.get(pk=pool_id)
    if pool.kind == CouponPool.Kind.SHARED:
        raise CouponError(CouponErrorCode.SHARED_POOL_HAS_ONE_CODE, field="count")
    if not 1 <= count <= GENERATE_MAX:
        raise CouponError(CouponErrorCode.COUNT_OUT_OF_RANGE, field="count", limit=GENERATE_MAX)
    made, idle_rounds = 0, 0
    now = timezone.now()
    while made < count:
        wanted = min(GENERATE_CHUNK, count - made)
        inserted = _insert_codes(pool.pk, codes_random(wanted, length=pool.code_length, prefix=pool.prefix), now)
        made += inserted
        idle_rounds = 0 if inserted else idle_rounds + 1
        if idle_rounds >= ROUNDS_WITHOUT_PROGRESS:
            raise CouponError(CouponErrorCode.CODES_EXHAUSTED, field="count")
        if progress:
            progress(made, count)
    return made


@dataclass(frozen=True)
class GenerateStarted:
    """What asking for codes did: generated them at once (small counts) or started a job."""

    generated: int = 0
    job: Job | None = None


def coupon_codes_generate_start(*, pool: CouponPool, count: int, user=None) -> GenerateStarted:
    """Generate up to GENERATE_INLINE_MAX codes now; more in a job with a progress bar.

    The job records the pool's target size, so a redelivered task tops the pool up to that
    size instead of adding ``count`` again."""
    if pool.kind == CouponPool.Kind.SHARED:
        raise CouponError(CouponErrorCode.SHARED_POOL_HAS_ONE_CODE, field="count")
    if not 1 <= count <= GENERATE_MAX:
        raise CouponError(CouponErrorCode.COUNT_OUT_OF_RANGE, field="count", limit=GENERATE_MAX)
    if count <= GENERATE_INLINE_MAX:
        generated = coupon_codes_generate(pool_id=pool.pk, count=count)
        audit_record(actor=user, action="coupon_pool.generate", target_type="coupon_pool", target_id=pool.pk,
                     count=generated)  # fmt: skip
        return GenerateStarted(generated=generated)
    with transaction.atomic():
        target = Coupon.objects.filter(pool_id=pool.pk).count() + count
        job = job_create(
            kind=GENERATE_JOB_KIND,
            title=_("Coupon codes: %(count)s for %(pool)s") % {"count": f"{count:,}", "pool": pool.name},
            params={"pool_id": pool.pk, "count": count, "target": target},
            user=user,
        )
        audit_record(actor=user, action="coupon_pool.generate", target_type="coupon_pool", target_id=pool.pk,
                     count=count, job=str(job.pk))  # fmt: skip
        from campaigns.coupons.tasks import coupon_codes_generate_task  # the tasks module imports this one

        transaction.on_commit(lambda: coupon_codes_generate_task.delay(str(job.pk)))
    return GenerateStarted(job=job)


def coupon_codes_job_run(*, job_id: str) -> int:
    """Run a generation job: top the pool up to the job's target size. Safe to run twice."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return 0
    pool_id, target = job.params["pool_id"], job.params["target"]
    missing = target - Coupon.objects.filter(pool_id=pool_id).count()
    job_start(job_id=job_id, total=max(missing, 0))

    def progress(done: int, total: int) -> None:
        job_progress(job_id=job_id, done=done, total=total)

    try:
        made = coupon_codes_generate(pool_id=pool_id, count=missing, progress=progress) if missing > 0 else 0
    except Exception as error:  # the job must not stay "running" forever
        job_fail(job_id=job_id, message=str(error))
        raise
    job_succeed(
        job_id=job_id,
        result={"summary": {"codes generated": made, "codes in the pool": target}},
        message=_("%(count)s codes generated.") % {"count": f"{made:,}"},
    )
    return made


# --- assignment to messages ----------------------------------------------------------------

_ASSIGN = """
WITH wanted AS (
    SELECT m.id AS message_id, m.customer_id, ROW_NUMBER() OVER (ORDER BY m.id) AS n
    FROM campaigns_message m
    WHERE m.dispatch_id = %(dispatch)s AND m.status IN ('queued', 'waiting') AND m.coupon_code = ''
      AND NOT EXISTS (SELECT 1 FROM campaigns_coupon owned WHERE owned.message_id = m.id)
), free AS (
    SELECT f.id AS coupon_id, ROW_NUMBER() OVER (ORDER BY f.id) AS n
    FROM (SELECT c.id FROM campaigns_coupon c WHERE c.pool_id = %(pool)s AND c.message_id IS NULL
          ORDER BY c.id LIMIT %(limit)s) f
)
UPDATE campaigns_coupon
SET message_id = pairs.message_id, customer_id = pairs.customer_id, assigned_at = %(now)s
FROM (SELECT wanted.message_id, wanted.customer_id, free.coupon_id
      FROM wanted JOIN free ON free.n = wanted.n) pairs
WHERE campaigns_coupon.id = pairs.coupon_id AND campaigns_coupon.message_id IS NULL
"""

_COPY_CODES = """
UPDATE campaigns_message
SET coupon_code = (SELECT c.code FROM campaigns_coupon c WHERE c.message_id = campaigns_message.id)
WHERE dispatch_id = %(dispatch)s AND coupon_code = ''
  AND EXISTS (SELECT 1 FROM campaigns_coupon c WHERE c.message_id = campaigns_message.id)
"""


def _messages_needing_codes(dispatch_id: int):
    return Message.objects.filter(
        dispatch_id=dispatch_id,
        status__in=[Message.Status.QUEUED, Message.Status.WAITING],
        coupon_code="",
        coupon__isnull=True,
    )


def coupons_assign(*, dispatch_id: int) -> int:
    """Give every queued or waiting message of the dispatch without a coupon code one code of
    the campaign's pool; return how many messages got one.

    Unique pool: a free code each (more codes are generated first when the pool runs
    short), recorded on the coupon (message, customer, assigned_at) and copied into
    ``Message.coupon_code``. Shared pool: the shared code. No pool: nothing (0).
    Idempotent: messages that have a code are left alone. Assignments to one pool are
    serialised by a lock on the pool row, so two dispatches never pick the same free code."""
    dispatch = Dispatch.objects.select_related("campaign").get(pk=dispatch_id)
    pool_id = dispatch.campaign.coupon_pool_id
    if pool_id is None:
        return 0
    with transaction.atomic():
        pool = CouponPool.objects.select_for_update().get(pk=pool_id)
        if pool.kind == CouponPool.Kind.SHARED:
            return Message.objects.filter(
                dispatch_id=dispatch_id,
                status__in=[Message.Status.QUEUED, Message.Status.WAITING],
                coupon_code="",
            ).update(coupon_code=pool.shared_code)
        needed = _messages_needing_codes(dispatch_id).count()
        if needed == 0:
            copied = _copy_codes(dispatch_id)  # a run interrupted between the two statements
            return copied
        free = Coupon.objects.filter(pool_id=pool_id, message__isnull=True).count()
        if free < needed:
            coupon_codes_generate(pool_id=pool_id, count=needed - free)
        with connection.cursor() as cursor:
            cursor.execute(
                _ASSIGN,
                {"dispatch": dispatch_id, "pool": pool_id, "limit": needed, "now": timezone.now()},
            )
        return _copy_codes(dispatch_id)


def _copy_codes(dispatch_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_COPY_CODES, {"dispatch": dispatch_id})
        return max(cursor.rowcount, 0)


# --- redemptions ---------------------------------------------------------------------------

# Candidates: orders carrying a known code (matched in upper case) without a redemption.
# ``base_reason`` is a refusal that does not depend on other orders; among the rest, the
# earliest order per (code, customer) wins and later ones are already_redeemed when the
# code is single use, as are all when an accepted redemption exists already.
_CLASSIFY = """
SELECT ranked.coupon_id, ranked.order_id, ranked.customer_id,
       CASE WHEN ranked.reason IS NULL THEN 'accepted' ELSE 'refused' END AS status,
       COALESCE(ranked.reason, '') AS reason, ranked.ordered_at
FROM (
    SELECT b.coupon_id, b.order_id, b.customer_id, b.ordered_at,
           CASE
               WHEN b.base_reason IS NOT NULL THEN b.base_reason
               WHEN b.single_use AND (b.prior_accepted OR b.turn > 1) THEN 'already_redeemed'
           END AS reason
    FROM (
        SELECT x.*, ROW_NUMBER() OVER (
            PARTITION BY x.coupon_id, x.customer_id, x.base_reason IS NULL ORDER BY x.ordered_at, x.order_id
        ) AS turn
        FROM (
            SELECT o.id AS order_id, o.customer_id, o.ordered_at, c.id AS coupon_id, p.single_use,
                   CASE
                       WHEN p.expires_at IS NOT NULL AND o.ordered_at > p.expires_at THEN 'expired'
                       WHEN p.kind = 'unique' AND c.customer_id IS NULL THEN 'not_issued'
                       WHEN p.kind = 'unique' AND c.customer_id <> o.customer_id THEN 'not_assigned'
                       WHEN o.total < p.min_spend THEN 'below_min_spend'
                   END AS base_reason,
                   EXISTS (
                       SELECT 1 FROM campaigns_redemption r
                       WHERE r.coupon_id = c.id AND r.customer_id = o.customer_id AND r.status = 'accepted'
                   ) AS prior_accepted
            FROM customers_order o
            JOIN campaigns_coupon c ON c.code = UPPER(TRIM(o.coupon_code))
            JOIN campaigns_couponpool p ON p.id = c.pool_id
            WHERE o.coupon_code <> '' {orders}
              AND NOT EXISTS (SELECT 1 FROM campaigns_redemption done WHERE done.order_id = o.id)
        ) x
    ) b
) ranked
"""

_INSERT = (
    "INSERT INTO campaigns_redemption (coupon_id, order_id, customer_id, status, reason, redeemed_at) "
    "{classify} WHERE true ON CONFLICT DO NOTHING RETURNING status, reason"
)


@dataclass
class RedemptionSummary:
    """What one recording pass wrote: accepted and refused redemptions (by reason)."""

    accepted: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    @property
    def recorded(self) -> int:
        return self.accepted + sum(self.refused.values())

    def add(self, rows: Iterable[tuple[str, str, int]]) -> None:
        for status, reason, count in rows:
            if status == Redemption.Status.ACCEPTED:
                self.accepted += count
            else:
                self.refused[reason] = self.refused.get(reason, 0) + count

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "refused": dict(self.refused), "recorded": self.recorded}


def _orders_filter(order_ids: list[int] | None, since_order_id: int | None) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    if order_ids is not None:
        if _postgres():
            clauses.append("AND o.id = ANY(%(order_ids)s)")
            params["order_ids"] = list(order_ids)
        else:
            clauses.append("AND o.id IN (SELECT value FROM json_each(%(order_ids)s))")
            params["order_ids"] = json.dumps(list(order_ids))
    if since_order_id is not None:
        clauses.append("AND o.id > %(since)s")
        params["since"] = since_order_id
    return " ".join(clauses), params


def _record_pass(orders: str, params: dict[str, Any]) -> list[tuple[str, str, int]]:
    statement = _INSERT.format(classify=_CLASSIFY.format(orders=orders))
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(
                f"WITH written AS ({statement}) SELECT status, reason, count(*) FROM written GROUP BY 1, 2", params
            )
            return cursor.fetchall()
        cursor.execute(statement, params)
        return [(status, reason, count) for (status, reason), count in Counter(cursor.fetchall()).items()]


def redemptions_record(
    *, order_ids: Iterable[int] | None = None, since_order_id: int | None = None
) -> RedemptionSummary:
    """Record the redemption of every order (all, the listed ones, or those after an id)
    that carries a coupon code and has none recorded yet; return the counts written.

    Refusal reasons, checked in this order: expired (ordered after the expiry), not_issued
    (a unique code never given out), not_assigned (a unique code given to another
    customer), below_min_spend (order total under the minimum), already_redeemed (a single
    use code accepted before for the customer, or an earlier order of the same batch).
    Safe to run twice and concurrently: an order gets one redemption (the unique order),
    and a second accepted one per code and customer is stopped by the partial unique
    constraint; such an order is recorded as refused by the second pass."""
    summary = RedemptionSummary()
    if order_ids is not None:
        order_ids = [int(order_id) for order_id in order_ids]
        if not order_ids:
            return summary
    orders, params = _orders_filter(order_ids, since_order_id)
    for _pass in range(2):
        with transaction.atomic():
            rows = _record_pass(orders, params)
        summary.add(rows)
        if not rows:
            break
    return summary


def coupon_redeem(*, code: str, order: Order) -> Redemption:
    """Record that ``order`` used ``code`` (the shop's checkout telling us at once, rather
    than by an import) and return the redemption: accepted, or refused with its reason.

    The code is written onto the order when the order carries none (or another one not
    yet redeemed). Asking again for the same order and code answers the same redemption."""
    normalised = code_normalise(code)
    coupon = Coupon.objects.filter(code=normalised).first()
    if coupon is None:
        raise CouponError(CouponErrorCode.UNKNOWN_CODE, field="code", value=normalised)
    existing = Redemption.objects.filter(order=order).first()
    if existing is not None:
        if existing.coupon_id != coupon.pk:
            raise CouponError(CouponErrorCode.ORDER_HAS_OTHER_COUPON, field="order_id")
        return existing
    if code_normalise(order.coupon_code) != normalised:
        Order.objects.filter(pk=order.pk).update(coupon_code=normalised)
        order.coupon_code = normalised
    redemptions_record(order_ids=[order.pk])
    return Redemption.objects.select_related("coupon").get(order=order)
