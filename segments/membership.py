"""Set-based membership changes: who entered and who left a segment, in two statements,
whatever the audience size. A refresh never shows a half-built audience: both statements
run in one transaction."""

import datetime as dt

from django.db import connection
from django.db.models import F, QuerySet

from customers.models import Customer
from segments.models import SegmentMembership

MEMBERSHIP_TABLE = SegmentMembership._meta.db_table


def membership_sync(*, segment_id: int, audience: QuerySet[Customer], now: dt.datetime) -> tuple[int, int]:
    """Make the open memberships of the segment equal the audience; returns (entered, left).
    Callers hold a transaction."""
    audience_sql, audience_params = audience.order_by().values(customer_key=F("pk")).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {MEMBERSHIP_TABLE} SET left_at = %s WHERE segment_id = %s AND left_at IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM ({audience_sql}) audience "
            f"WHERE audience.customer_key = {MEMBERSHIP_TABLE}.customer_id)",
            [now, segment_id, *audience_params],
        )
        left = max(cursor.rowcount, 0)
        # The open-membership unique index skips current members: one index probe per row,
        # where a NOT EXISTS planned against a still-empty table rescanned it for every row.
        cursor.execute(
            f"INSERT INTO {MEMBERSHIP_TABLE} (segment_id, customer_id, entered_at) "
            f"SELECT %s, audience.customer_key, %s FROM ({audience_sql}) audience WHERE true "
            f"ON CONFLICT (segment_id, customer_id) WHERE left_at IS NULL DO NOTHING",
            [segment_id, now, *audience_params],
        )
        entered = max(cursor.rowcount, 0)
    return entered, left
