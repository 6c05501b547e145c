"""Conversion attribution: which orders a campaign earned.

An order (placed, not cancelled or returned) qualifies for a message of the same customer
on one of these bases:

=========  ======================================================================  ========
basis      qualifies when                                                          priority
=========  ======================================================================  ========
coupon     the order carries the message's coupon code and came after the send    1
click      the order came within ``conversion_window_days`` after the click        2
send       the order came within the window after the send                         3
holdout    holdout member (skipped, reason holdout): within the window after the   3
           message row was created (when the others were being sent)
=========  ======================================================================  ========

Each order is credited once, across all campaigns (``Conversion.order`` is unique): to the
qualifying message with the best priority, then the latest start of its basis (send,
click or freeze time), then the highest message id. A holdout member's order competes with
other campaigns exactly as a recipient's would (same priority as a send), so holdouts are
not starved by other campaigns' sends and the lift is not inflated.

The choice is global, whichever campaign is attributed first: a campaign's run credits
only the orders whose best qualifying message is its own. Everything is one set-based
statement (``INSERT … WITH … SELECT … ON CONFLICT (order_id) DO NOTHING``) that runs on
SQLite and PostgreSQL; running it again adds only what is new. Conversions of orders that
have since been cancelled or returned are removed. Revenue is the order total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from campaigns.models import Campaign, Conversion, Dispatch, Message
from customers.models import Order

# (basis, priority, the message column its window starts from, extra condition). In the
# condition, {m} is the message and {coupon} the order's coupon code.
_BASES: tuple[tuple[str, int, str, str], ...] = (
    (Conversion.Basis.COUPON, 1, "sent_at", "{m}.coupon_code <> '' AND {m}.coupon_code = {coupon}"),
    (Conversion.Basis.CLICK, 2, "clicked_at", ""),
    (Conversion.Basis.SEND, 3, "sent_at", ""),
    (Conversion.Basis.HOLDOUT, 3, "created_at", "{m}.status = 'skipped' AND {m}.skip_reason = 'holdout'"),
)


def _window_end(start: str, days: str) -> str:
    """SQL for ``start`` plus ``days`` days (a column times an integer column)."""
    if connection.vendor == "postgresql":
        return f"({start} + {days} * INTERVAL '1 day')"
    # Django's own SQLite function for datetime + duration (microseconds); it returns the
    # text format Django stores, so comparisons with stored datetimes stay chronological.
    return f"django_format_dtdelta('+', {start}, {days} * 86400000000)"


def _qualifies(basis: str, start: str, condition: str, *, m: str, c: str, ordered_at: str, coupon: str) -> str:
    """SQL: message ``m`` (of campaign ``c``) qualifies for the order on ``basis``."""
    parts = [f"{m}.{start} IS NOT NULL", f"{ordered_at} >= {m}.{start}"]
    if basis != Conversion.Basis.COUPON:
        parts.append(f"{ordered_at} < {_window_end(f'{m}.{start}', f'{c}.conversion_window_days')}")
    if condition:
        parts.append(condition.format(m=m, coupon=coupon))
    return " AND ".join(parts)


def _tables() -> tuple[str, str, str, str]:
    quote = connection.ops.quote_name
    return tuple(quote(model._meta.db_table) for model in (Message, Campaign, Order, Conversion))


def _attribute(campaign_ids: Sequence[int]) -> int:
    """Credit the new conversions of these campaigns; return how many were added.

    ``fresh``: every qualifying (order, message) pair of these campaigns for orders not
    credited yet; ``best``: each order's best pair among them. An order is inserted unless a
    message of another campaign qualifies better (checked per order through the
    customer's messages, which the (customer, sent_at) index serves)."""
    campaign_ids = sorted({int(pk) for pk in campaign_ids})
    if not campaign_ids:
        return 0
    # No order before the scope's first message can qualify: a bound the order-time index
    # serves, so a run reads only the orders of the campaigns' period.
    starts = Message.objects.filter(campaign_id__in=campaign_ids).aggregate(
        created=Min("created_at"), sent=Min("sent_at"), clicked=Min("clicked_at")
    )
    known = [start for start in starts.values() if start is not None]
    if not known:
        _stale_remove(campaign_ids)
        return 0
    earliest = min(known)
    message, campaign, order, conversion = _tables()
    in_scope = ", ".join(["%s"] * len(campaign_ids))
    fresh_parts = []
    for basis, priority, start, condition in _BASES:
        qualifies = _qualifies(basis, start, condition, m="m", c="c", ordered_at="o.ordered_at", coupon="o.coupon_code")
        fresh_parts.append(
            f"SELECT o.id AS order_id, o.customer_id AS customer_id, o.coupon_code AS order_coupon, "
            f"m.id AS message_id, m.campaign_id AS campaign_id, m.variant_id AS variant_id, "
            f"o.total AS revenue, o.ordered_at AS converted_at, "
            f"'{basis}' AS basis, {priority} AS priority, m.{start} AS credited_from "
            f"FROM {message} m "
            f"JOIN {campaign} c ON c.id = m.campaign_id "
            f"JOIN {order} o ON o.customer_id = m.customer_id AND {qualifies} "
            f"WHERE m.campaign_id IN ({in_scope}) AND o.ordered_at >= %s AND o.status = '{Order.Status.PLACED}' "
            f"AND NOT EXISTS (SELECT 1 FROM {conversion} x WHERE x.order_id = o.id)"
        )
    better_rivals = []
    for basis, priority, start, condition in _BASES:
        qualifies = _qualifies(
            basis, start, condition, m="r", c="rc", ordered_at="b.converted_at", coupon="b.order_coupon"
        )
        better = (
            f"({priority} < b.priority OR ({priority} = b.priority AND (r.{start} > b.credited_from "
            f"OR (r.{start} = b.credited_from AND r.id > b.message_id))))"
        )
        better_rivals.append(f"({qualifies} AND {better})")
    # INSERT first: Python's sqlite3 reports the row count only for statements that start
    # with INSERT / UPDATE / DELETE.
    sql = f"""
        INSERT INTO {conversion} (order_id, message_id, campaign_id, variant_id, revenue, converted_at, basis)
        WITH fresh AS ({" UNION ALL ".join(fresh_parts)}),
        best AS (
            SELECT fresh.*, ROW_NUMBER() OVER (
                PARTITION BY order_id ORDER BY priority, credited_from DESC, message_id DESC
            ) AS preference
            FROM fresh
        )
        SELECT b.order_id, b.message_id, b.campaign_id, b.variant_id, b.revenue, b.converted_at, b.basis
        FROM best b
        WHERE b.preference = 1 AND NOT EXISTS (
            SELECT 1 FROM {message} r JOIN {campaign} rc ON rc.id = r.campaign_id
            WHERE r.customer_id = b.customer_id AND r.campaign_id NOT IN ({in_scope})
              AND ({" OR ".join(better_rivals)})
        )
        ON CONFLICT (order_id) DO NOTHING
    """  # noqa: S608 - table names from the models, values as parameters
    with transaction.atomic():
        _stale_remove(campaign_ids)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*[*campaign_ids, earliest] * len(_BASES), *campaign_ids])
            return max(cursor.rowcount, 0)


def _stale_remove(campaign_ids: list[int]) -> None:
    """Take back the conversions of orders since cancelled or returned."""
    _message, _campaign, order, conversion = _tables()
    in_scope = ", ".join(["%s"] * len(campaign_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {conversion} WHERE campaign_id IN ({in_scope}) "  # noqa: S608
            f"AND EXISTS (SELECT 1 FROM {order} o WHERE o.id = {conversion}.order_id AND o.status <> %s)",
            [*campaign_ids, Order.Status.PLACED],
        )


def conversions_attribute(*, campaign_id: int) -> int:
    """Credit this campaign's conversions (idempotent); the number of orders newly credited."""
    return _attribute([campaign_id])


def conversions_attribute_recent(*, days: int = 30, now: dt.datetime | None = None) -> int:
    """Credit the conversions of every campaign with a dispatch still going or created or
    finished within the last ``days`` days, in one statement (for the hourly task)."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    campaign_ids = (
        Dispatch.objects.filter(Q(created_at__gte=since) | Q(finished_at__gte=since) | Q(finished_at__isnull=True))
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    return _attribute(list(campaign_ids))
