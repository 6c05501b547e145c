"""Point-in-time churn data: each customer's features as they were at a cutoff, and whether
they bought in the H days after it.

Nothing after the cutoff reaches a feature (orders, events and reviews are filtered on
``<= as_of``; sign-up after the cutoff excludes the customer), so a model trained on an
earlier cutoff and tested on a later one sees exactly what it would have seen then. Each
read is one grouped query per table over a customer-id range, so scoring can go range by
range on several workers.
"""

import contextlib
import datetime as dt
import io
from collections.abc import Iterator

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Avg, Count, Max, Min, Q, Sum

from analytics.churn.model import EVENT_COUNT_COLUMNS, RAW_COLUMNS
from customers.models import Customer, Event, EventType, Order, Review

ORDER_WINDOWS = (30, 90, 365)
EVENT_WINDOWS = (30, 90)
EVENT_TYPES = (EventType.VIEW, EventType.SEARCH, EventType.ADD_TO_CART, EventType.FAVORITE)


@contextlib.contextmanager
def _grouping_session() -> Iterator[None]:
    """One transaction whose grouped reads get room to hash in memory. With the default
    4 MB, PostgreSQL 15's parallel hash aggregates spill to disk, and inside a transaction
    block such a spilling aggregate was seen to run for minutes instead of seconds."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
                cursor.execute("SET LOCAL jit = off")
        yield


def _in_range(queryset, field: str, id_range: tuple[int, int] | None):
    if id_range is None:
        return queryset
    first, last = id_range
    return queryset.filter(**{f"{field}__gte": first, f"{field}__lte": last})


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    """The rows of a ``values_list`` queryset, indexed by the first column. PostgreSQL
    streams them with COPY into pandas (at 1M customers the ORM's Python tuples cost more
    than the queries); booleans arrive as t/f and times as text, which _derive converts."""
    if connection.vendor != "postgresql":
        return pd.DataFrame.from_records(list(rows), columns=columns).set_index(columns[0])
    sql, params = rows.query.sql_with_params()
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({cursor.mogrify(sql, params)}) TO STDOUT") as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    frame = pd.read_csv(buffer, sep="\t", header=None, names=columns, na_values=["\\N"], keep_default_na=False,
                        dtype={columns[0]: np.int64})  # fmt: skip
    return frame.set_index(columns[0])


def churn_population(*, as_of: dt.datetime, id_range: tuple[int, int] | None = None) -> pd.DataFrame:
    """Customers who had signed up by the cutoff (unknown sign-up counts as before), with
    their consent flags and sign-up time."""
    customers = _in_range(Customer.objects.filter(Q(signed_up_at__lte=as_of) | Q(signed_up_at__isnull=True)), "id",
                          id_range)  # fmt: skip
    frame = _frame(customers.values_list("id", "signed_up_at", "email_opt_in", "sms_opt_in"),
                   ["customer_id", "signed_up_at", "email_opt_in", "sms_opt_in"])  # fmt: skip
    return frame.sort_index()


def churn_features(*, as_of: dt.datetime, id_range: tuple[int, int] | None = None) -> pd.DataFrame:
    """The raw feature columns (``model.RAW_COLUMNS``) of the population as of the cutoff,
    indexed by customer id; customers without orders, events or reviews get zeros and
    NaN where a value is unknown (last order time, rating)."""
    with _grouping_session():
        return _features_read(as_of=as_of, id_range=id_range)


def _features_read(*, as_of: dt.datetime, id_range: tuple[int, int] | None) -> pd.DataFrame:
    population = churn_population(as_of=as_of, id_range=id_range)
    placed = _in_range(Order.objects.filter(status=Order.Status.PLACED, ordered_at__lte=as_of), "customer_id", id_range)
    order_aggregates = {
        "frequency": Count("id"),
        "monetary": Sum("total"),
        "first_order_at": Min("ordered_at"),
        "last_order_at": Max("ordered_at"),
        "coupon_orders": Count("id", filter=~Q(coupon_code="")),
    }
    for days in ORDER_WINDOWS:
        since = as_of - dt.timedelta(days=days)
        order_aggregates[f"frequency_{days}d"] = Count("id", filter=Q(ordered_at__gt=since))
        order_aggregates[f"monetary_{days}d"] = Sum("total", filter=Q(ordered_at__gt=since))
    orders = _frame(placed.values("customer_id").annotate(**order_aggregates).order_by().values_list(
        "customer_id", *order_aggregates), ["customer_id", *order_aggregates])  # fmt: skip

    window = max(EVENT_WINDOWS)
    events_qs = _in_range(
        Event.objects.filter(occurred_at__lte=as_of, occurred_at__gt=as_of - dt.timedelta(days=window),
                             type__in=EVENT_TYPES), "customer_id", id_range)  # fmt: skip
    event_aggregates = {"last_event_at": Max("occurred_at")}
    for kind in EVENT_TYPES:
        for days in EVENT_WINDOWS:
            since = as_of - dt.timedelta(days=days)
            event_aggregates[f"{kind}_{days}d"] = Count("id", filter=Q(type=kind, occurred_at__gt=since))
    events = _frame(events_qs.values("customer_id").annotate(**event_aggregates).order_by().values_list(
        "customer_id", *event_aggregates), ["customer_id", *event_aggregates])  # fmt: skip

    reviews_qs = _in_range(Review.objects.filter(created_at__lte=as_of), "customer_id", id_range)
    reviews = _frame(reviews_qs.values("customer_id").annotate(review_count=Count("id"), avg_rating=Avg("rating"))
                     .order_by().values_list("customer_id", "review_count", "avg_rating"),
                     ["customer_id", "review_count", "avg_rating"])  # fmt: skip

    frame = population.join(orders, how="left").join(events, how="left").join(reviews, how="left")
    return _derive(frame, as_of=as_of)


def _days_before(as_of: dt.datetime, moments: pd.Series) -> pd.Series:
    moments = pd.to_datetime(moments, utc=True, format="ISO8601")
    return (pd.Timestamp(as_of) - moments).dt.total_seconds() / 86_400.0


def _derive(frame: pd.DataFrame, *, as_of: dt.datetime) -> pd.DataFrame:
    counts = ["frequency", "coupon_orders", "review_count",
              *(f"frequency_{d}d" for d in ORDER_WINDOWS), *EVENT_COUNT_COLUMNS]  # fmt: skip
    amounts = ["monetary", *(f"monetary_{d}d" for d in ORDER_WINDOWS)]
    for column in counts + amounts:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0.0).astype(np.float64)
    result = pd.DataFrame(index=frame.index)
    for column in counts + amounts:
        result[column] = frame[column]
    result["recency_days"] = _days_before(as_of, frame["last_order_at"])
    result["first_order_days"] = _days_before(as_of, frame["first_order_at"])
    result["tenure_days"] = _days_before(as_of, frame["signed_up_at"])
    result["last_event_days"] = _days_before(as_of, frame["last_event_at"])
    with np.errstate(divide="ignore", invalid="ignore"):
        result["avg_order_value"] = np.where(frame["frequency"] > 0, frame["monetary"] / frame["frequency"], 0.0)
        result["coupon_share"] = np.where(frame["frequency"] > 0, frame["coupon_orders"] / frame["frequency"], 0.0)
    result["avg_rating"] = pd.to_numeric(frame["avg_rating"], errors="coerce").astype(np.float64)
    for flag in ("email_opt_in", "sms_opt_in"):
        result[flag] = frame[flag].map({True: 1.0, False: 0.0, "t": 1.0, "f": 0.0}).astype(np.float64)
    return result[list(RAW_COLUMNS)]


def churn_labels(*, as_of: dt.datetime, horizon_days: int, customer_ids: pd.Index) -> pd.Series:
    """1 for customers with no placed order in (as_of, as_of + horizon], else 0."""
    until = as_of + dt.timedelta(days=horizon_days)
    with _grouping_session():
        bought = np.fromiter(
            Order.objects.filter(status=Order.Status.PLACED, ordered_at__gt=as_of, ordered_at__lte=until)
            .order_by()
            .values_list("customer_id", flat=True)
            .distinct(),
            dtype=np.int64,
        )
    return pd.Series((~customer_ids.isin(bought)).astype(np.int8), index=customer_ids, name="churned")


def churn_data_end() -> dt.datetime | None:
    """The latest order time: the default "now" for training and scoring on imported data."""
    return Order.objects.filter(status=Order.Status.PLACED).aggregate(end=Max("ordered_at"))["end"]
