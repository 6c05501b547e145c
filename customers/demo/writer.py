"""Writes simulated chunks into the customers tables as fast as each database allows.

PostgreSQL gets COPY in text format, fed by a background thread so that the database parses
one chunk while Python simulates the next (the machine has two cores: one each). SQLite
gets ``executemany`` in large batches. Both bypass the ORM on purpose: a million customers
with ten million orders are far beyond what model instances can carry.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from customers.models import Customer, Event, Order, OrderLine, Product, Review

COPY_ROWS_PER_WRITE = 200_000


@dataclass(frozen=True)
class Table:
    model: type
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.model._meta.db_table


CUSTOMERS = Table(
    Customer,
    (
        "id",
        "external_id",
        "email",
        "phone",
        "name",
        "gender",
        "birth_date",
        "country",
        "region",
        "city",
        "occupation",
        "signed_up_at",
        "member_tier",
        "email_opt_in",
        "email_opt_in_at",
        "sms_opt_in",
        "sms_opt_in_at",
        "attributes",
        "created_at",
        "updated_at",
    ),
)
ORDERS = Table(
    Order,
    ("id", "external_id", "customer_id", "ordered_at", "total", "currency", "coupon_code", "status", "attributes"),
)
LINES = Table(OrderLine, ("id", "order_id", "product_id", "quantity", "unit_price"))
EVENTS = Table(
    Event, ("id", "external_id", "customer_id", "type", "occurred_at", "sku", "category", "query", "path", "properties")
)
REVIEWS = Table(
    Review, ("id", "external_id", "customer_id", "product_id", "sku", "rating", "text", "language", "created_at")
)
TABLES = (CUSTOMERS, ORDERS, LINES, EVENTS, REVIEWS)
# The tables a --flush empties and whose indexes a big load rebuilds.
DATA_MODELS = (Review, Event, OrderLine, Order, Customer, Product)


def timestamps(day0: np.datetime64, days: np.ndarray) -> np.ndarray:
    """Float days since ``day0`` → 'YYYY-MM-DD HH:MM:SS' UTC strings (None for NaN).

    The space separator matters on SQLite, where Django compares datetimes as text.
    """
    days = np.asarray(days, dtype=float)
    missing = np.isnan(days)
    seconds = np.round(np.where(missing, 0.0, days) * 86_400).astype(np.int64)
    stamp = day0.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    text = np.datetime_as_string(stamp, unit="s")  # fixed width '<U19' with a 'T'
    codes = text.view(np.uint32).reshape(len(text), -1)
    codes[:, 10] = ord(" ")
    out = codes.reshape(-1).view(f"<U{codes.shape[1]}").astype(object)
    if missing.any():
        out[missing] = None
    return out


def dates(values: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.asarray(values, dtype="datetime64[D]"), unit="D").astype(object)


class Sink:
    """Where rows go; ``rows`` receives a table and column arrays (None = NULL)."""

    def begin(self) -> None: ...

    def rows(self, table: Table, columns: list[np.ndarray]) -> None:
        raise NotImplementedError

    def finish(self) -> None: ...


class SQLiteSink(Sink):
    """executemany through the raw sqlite3 connection, one statement per table and chunk."""

    def __init__(self, db: BaseDatabaseWrapper = connection) -> None:
        self.db = db

    def rows(self, table: Table, columns: list[np.ndarray]) -> None:
        values = [_python_values(col) for col in columns]
        marks = ", ".join("?" * len(table.columns))
        sql = f'INSERT INTO "{table.name}" ({", ".join(_quote(c) for c in table.columns)}) VALUES ({marks})'
        raw = self.db.connection
        raw.executemany(sql, zip(*values, strict=True))


class PostgresCopySink(Sink):
    """COPY ... FROM STDIN in text format on a background thread.

    The queue holds at most two formatted slices, so memory stays bounded and an error on
    the COPY side stops the producer at its next put.
    """

    def __init__(self, db: BaseDatabaseWrapper = connection, freeze: bool = False) -> None:
        self.db = db
        self.freeze = freeze
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def begin(self) -> None:
        # Django connections are per thread: hand the thread this thread's psycopg connection.
        self.db.ensure_connection()
        self.raw = self.db.connection
        self.thread = threading.Thread(target=self._run, name="demo-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        cursor = None
        try:
            cursor = self.raw.cursor()
            while True:
                item = self.queue.get()
                if item is None:
                    return
                table, text = item
                options = " (FREEZE)" if self.freeze else ""
                columns = ", ".join(_quote(c) for c in table.columns)
                with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN{options}') as copy:
                    copy.write(text)
        except BaseException as exc:  # handed to the producer thread, which re-raises it
            self.error = exc
            while self.queue.get() is not None:  # drain so the producer never blocks
                pass
        finally:
            if cursor is not None:
                cursor.close()

    def rows(self, table: Table, columns: list[np.ndarray]) -> None:
        n = len(columns[0])
        for start in range(0, n, COPY_ROWS_PER_WRITE):
            part = [col[start : start + COPY_ROWS_PER_WRITE] for col in columns]
            self._put((table, _copy_text(part)))

    def _put(self, item) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(item)

    def finish(self) -> None:
        if self.thread is None:
            return
        self.queue.put(None)
        self.thread.join()
        self.thread = None
        if self.error is not None:
            raise self.error


def _quote(name: str) -> str:
    return f'"{name}"'


def _python_values(col: np.ndarray) -> list:
    if col.dtype == bool:
        return col.astype(np.int8).tolist()
    return col.tolist()


def _copy_text(columns: list[np.ndarray]) -> str:
    """Tab-separated COPY text; NULL as \\N. Values never hold tabs, newlines or backslashes
    (they come from our own word lists), so no escaping pass is needed."""
    cells = []
    for col in columns:
        if col.dtype == bool:
            cells.append(np.where(col, "t", "f").astype(object))
        elif col.dtype.kind in "iuf":
            cells.append(col.astype(str).astype(object))
        else:
            cells.append(np.where(pd.isna(col), "\\N", col) if col.dtype == object and _has_none(col) else col)
    line = cells[0]
    for cell in cells[1:]:
        line = line + "\t" + cell
    return "\n".join(line.tolist()) + "\n"


def _has_none(col: np.ndarray) -> bool:
    return bool(pd.isna(col).any())


def data_tables() -> Iterable[str]:
    return [m._meta.db_table for m in DATA_MODELS]
