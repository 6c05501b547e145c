"""Reads for the lifetime-value models: the shop's placed orders as daily transactions, and
the saved fits the page and the API show."""

import datetime as dt
from io import BytesIO

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import FloatField, Max, Sum
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from analytics.models import ClvFit
from customers.models import Order

TRANSACTION_COLUMNS = ["customer_id", "date", "amount"]


def clv_transactions(*, until: dt.date) -> pd.DataFrame:
    """Placed orders up to the end of ``until`` (in the shop's time zone), one row per
    customer and day with the day's total: the models' transactions, same-day orders
    already merged. One grouped query; PostgreSQL streams it with COPY … TO STDOUT, SQLite
    reads it through the cursor. Cancelled orders are not purchases."""
    zone = timezone.get_current_timezone()
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    rows = (
        Order.objects.filter(status=Order.Status.PLACED, ordered_at__lt=end)
        .annotate(day=TruncDate("ordered_at", tzinfo=zone))
        .values("customer_id", "day")
        .annotate(amount=Cast(Sum("total"), FloatField()))
        .values_list("customer_id", "day", "amount")
        .order_by()
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = BytesIO()
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
                for block in copy:
                    buffer.write(block)
            buffer.seek(0)
            frame = pd.read_csv(
                buffer,
                sep="\t",
                header=None,
                names=TRANSACTION_COLUMNS,
                dtype={"customer_id": np.int64, "date": str, "amount": np.float64},
            )
        else:
            cursor.execute(sql, params)
            frame = pd.DataFrame(cursor.fetchall(), columns=TRANSACTION_COLUMNS)
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y-%m-%d").astype("datetime64[ns]")
    frame["amount"] = frame["amount"].astype(np.float64)
    return frame


def clv_orders_last_day() -> dt.date | None:
    """The day of the shop's latest placed order (shop's time zone): the page's default
    holdout end, so a fit checks itself on the newest purchases."""
    latest = Order.objects.filter(status=Order.Status.PLACED).aggregate(latest=Max("ordered_at"))["latest"]
    return timezone.localtime(latest, timezone.get_current_timezone()).date() if latest else None


def clv_fits(*, limit: int = 10) -> list[ClvFit]:
    """The latest fits, newest first, with their jobs (status, progress) in the same query."""
    return list(ClvFit.objects.select_related("job", "created_by").order_by("-created_at", "-pk")[:limit])
