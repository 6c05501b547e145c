"""Runs the demo data simulation chunk by chunk and writes it; the command is a thin caller.

One database transaction covers the whole run: a failure leaves the tables as they were,
including the indexes that a big PostgreSQL load drops and rebuilds (DDL is transactional
there). Row ids are assigned here, continuing after the current maximum, so chunks and
repeated runs without --flush never collide and sequences can be set once at the end.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from customers.models import Customer, Event, Order, OrderLine, Product, Review

from . import writer
from .behaviour import HISTORY_DAYS, Chunk, ChunkNumbers, build_season, simulate_chunk
from .catalogue import build_catalogue

DEFAULT_CHUNK = 50_000
REBUILD_INDEXES_FROM = 100_000  # customers; below this, keeping indexes is cheaper


@dataclass
class DemoDataResult:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    end: dt.datetime | None = None


def default_end() -> dt.datetime:
    """Today at midnight UTC: data stays recent whenever the demo is run, and stable within a day."""
    today = dt.datetime.now(dt.UTC).date()
    return dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC)


def demo_data_generate(
    *,
    customers: int,
    seed: int = 42,
    event_days: int = 180,
    end: dt.datetime | None = None,
    flush: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    rebuild_indexes: bool | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoDataResult:
    """Simulate ``customers`` customers with orders, events and reviews and write them.

    Same seed, end and chunk size ⇒ identical rows. ``rebuild_indexes`` (PostgreSQL only;
    default: from 100k customers) drops secondary indexes and foreign keys for the load
    and recreates them afterwards, which is several times faster than maintaining them.
    """
    report = progress or (lambda message: None)
    end = end or default_end()
    started = time.monotonic()
    postgres = connection.vendor == "postgresql"
    if rebuild_indexes is None:
        rebuild_indexes = postgres and customers >= REBUILD_INDEXES_FROM
    rebuild_indexes = rebuild_indexes and postgres

    end_day = np.datetime64(end.astimezone(dt.UTC).replace(tzinfo=None), "s")
    # The season grid is whole days; a non-midnight end rounds up to the next midnight.
    now_day = (end_day + np.timedelta64(86_399, "s")).astype("datetime64[D]")
    days = HISTORY_DAYS + 30
    day0 = now_day - np.timedelta64(days, "D")
    season = build_season(day0, days)
    catalogue = build_catalogue()
    counts = dict.fromkeys(["customers", "orders", "order_lines", "events", "reviews"], 0)

    # COPY FREEZE skips later hint-bit rewrites, but only for tables emptied in this very
    # transaction (not a savepoint): a top-level run with --flush.
    freeze = postgres and flush and not connection.in_atomic_block
    with transaction.atomic():
        if flush:
            _flush(postgres)
        product_ids = _upsert_products(catalogue)
        numbers = _next_numbers()
        dropped = _drop_indexes() if rebuild_indexes else []
        sink: writer.Sink = writer.PostgresCopySink(freeze=freeze) if postgres else writer.SQLiteSink()
        created_at = writer.timestamps(day0, np.array([float(days)]))[0]
        sink.begin()
        try:
            done = 0
            chunk_index = 0
            while done < customers:
                size = min(chunk_size, customers - done)
                rng = np.random.default_rng(np.random.SeedSequence([seed, chunk_index]))
                chunk = simulate_chunk(
                    rng, n_customers=size, numbers=numbers, season=season, catalogue=catalogue, event_days=event_days
                )
                _write_chunk(
                    sink, chunk, day0=day0, product_ids=product_ids, catalogue=catalogue, created_at=created_at
                )
                numbers = ChunkNumbers(
                    customer=numbers.customer + len(chunk.customers),
                    order=numbers.order + len(chunk.orders),
                    line=numbers.line + len(chunk.lines),
                    event=numbers.event + len(chunk.events),
                    review=numbers.review + len(chunk.reviews),
                )
                counts["customers"] += len(chunk.customers)
                counts["orders"] += len(chunk.orders)
                counts["order_lines"] += len(chunk.lines)
                counts["events"] += len(chunk.events)
                counts["reviews"] += len(chunk.reviews)
                done += size
                chunk_index += 1
                elapsed = time.monotonic() - started
                rows = sum(counts.values())
                report(
                    f"chunk {chunk_index}: {done:,}/{customers:,} customers, {rows:,} rows, "
                    f"{rows / max(elapsed, 1e-9):,.0f} rows/s, {elapsed:.0f}s"
                )
        finally:
            sink.finish()
        if dropped:
            report(f"rebuilding {len(dropped)} indexes and constraints ...")
            _restore_indexes(dropped, report)
        _reset_sequences()
    if postgres:
        report("analyzing tables ...")
        with connection.cursor() as cursor:
            for table in writer.data_tables():
                cursor.execute(f'ANALYZE "{table}"')
    counts["products"] = len(catalogue)
    return DemoDataResult(counts=counts, seconds=time.monotonic() - started, end=end)


def _flush(postgres: bool) -> None:
    """Empty the customer data tables (and, on PostgreSQL, whatever references them)."""
    if postgres:
        tables = ", ".join(f'"{name}"' for name in writer.data_tables())
        with connection.cursor() as cursor:
            # Deferred foreign-key checks still pending in an enclosing transaction block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return
    # The ORM follows the cascades of other apps; leaf tables are single fast DELETEs.
    for model in writer.DATA_MODELS:
        model.objects.all().delete()
    # Like RESTART IDENTITY: a flushed run numbers its rows from 1 again, so reruns are identical.
    names = ", ".join(f"'{name}'" for name in writer.data_tables())
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({names})")


def _upsert_products(catalogue: pd.DataFrame) -> np.ndarray:
    """Create or refresh the catalogue's products; return their ids in catalogue order."""
    existing = dict(Product.objects.filter(sku__in=list(catalogue["sku"])).values_list("sku", "id"))
    fresh, stale = [], []
    for row in catalogue.itertuples(index=False):  # a few hundred products, not customers
        product = Product(
            sku=row.sku,
            name=row.name,
            category=row.category,
            brand=row.brand,
            price=f"{row.price:.2f}",
            attributes={
                "name_zh": row.name_zh,
                "category_zh": row.category_zh,
                "price_currency": "USD",
                "simulated": True,
            },
        )
        if row.sku in existing:
            product.id = existing[row.sku]
            stale.append(product)
        else:
            fresh.append(product)
    Product.objects.bulk_create(fresh, batch_size=500)
    Product.objects.bulk_update(stale, ["name", "category", "brand", "price", "attributes"], batch_size=500)
    ids = dict(Product.objects.filter(sku__in=list(catalogue["sku"])).values_list("sku", "id"))
    return catalogue["sku"].map(ids).to_numpy(dtype=np.int64)


def _next_numbers() -> ChunkNumbers:
    def after(model) -> int:
        return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1

    return ChunkNumbers(
        customer=after(Customer), order=after(Order), line=after(OrderLine), event=after(Event), review=after(Review)
    )


def _write_chunk(
    sink: writer.Sink,
    chunk: Chunk,
    *,
    day0: np.datetime64,
    product_ids: np.ndarray,
    catalogue: pd.DataFrame,
    created_at: str,
) -> None:
    c = chunk.customers
    n = len(c)
    sink.rows(
        writer.CUSTOMERS,
        [
            c["number"].to_numpy(),
            c["external_id"].to_numpy(),
            c["email"].to_numpy(),
            c["phone"].to_numpy(),
            c["name"].to_numpy(),
            c["gender"].to_numpy(),
            writer.dates(c["birth_date"].to_numpy()),
            c["country"].to_numpy(),
            c["region"].to_numpy(),
            c["city"].to_numpy(),
            c["occupation"].to_numpy(),
            writer.timestamps(day0, c["signed_up_at"].to_numpy()),
            c["member_tier"].to_numpy(dtype=object),
            c["email_opt_in"].to_numpy(),
            writer.timestamps(day0, c["email_opt_in_at"].to_numpy()),
            c["sms_opt_in"].to_numpy(),
            writer.timestamps(day0, c["sms_opt_in_at"].to_numpy()),
            c["attributes"].to_numpy(dtype=object),
            np.full(n, created_at, dtype=object),
            np.full(n, created_at, dtype=object),
        ],
    )
    o = chunk.orders
    sink.rows(
        writer.ORDERS,
        [
            o["number"].to_numpy(),
            o["external_id"].to_numpy(),
            o["customer_number"].to_numpy(),
            writer.timestamps(day0, o["ordered_at"].to_numpy()),
            o["total"].to_numpy(),
            o["currency"].to_numpy(),
            o["coupon_code"].to_numpy(dtype=object),
            o["status"].to_numpy(dtype=object),
            o["attributes"].to_numpy(dtype=object),
        ],
    )
    line = chunk.lines
    sink.rows(
        writer.LINES,
        [
            line["number"].to_numpy(),
            line["order_number"].to_numpy(),
            product_ids[line["product_index"].to_numpy()],
            line["quantity"].to_numpy(),
            line["unit_price"].to_numpy(),
        ],
    )
    e = chunk.events
    sink.rows(
        writer.EVENTS,
        [
            e["number"].to_numpy(),
            e["external_id"].to_numpy(),
            e["customer_number"].to_numpy(),
            e["type"].to_numpy(),
            writer.timestamps(day0, e["occurred_at"].to_numpy()),
            e["sku"].to_numpy(),
            e["category"].to_numpy(),
            e["query"].to_numpy(),
            e["path"].to_numpy(),
            e["properties"].to_numpy(),
        ],
    )
    r = chunk.reviews
    product = r["product_index"].to_numpy()
    sink.rows(
        writer.REVIEWS,
        [
            r["number"].to_numpy(),
            r["external_id"].to_numpy(),
            r["customer_number"].to_numpy(),
            product_ids[product],
            catalogue["sku"].to_numpy(dtype=object)[product],
            r["rating"].to_numpy(),
            r["text"].to_numpy(dtype=object),
            r["language"].to_numpy(dtype=object),
            writer.timestamps(day0, r["created_at"].to_numpy()),
        ],
    )


@dataclass(frozen=True)
class DroppedIndex:
    table: str
    name: str
    create_sql: str  # statement that restores it
    kind: str  # "index", "unique" or "foreign key"


def _drop_indexes() -> list[DroppedIndex]:
    """Drop secondary indexes, unique constraints and foreign keys of the data tables.

    Primary keys stay (other apps' foreign keys point at them), as do unique constraints
    that a foreign key depends on. Returns what was dropped, in the order to restore it.
    """
    tables = list(writer.data_tables())
    dropped: list[DroppedIndex] = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
            FROM pg_constraint c
            WHERE c.conrelid = ANY (SELECT oid FROM pg_class WHERE relname = ANY(%s))
              AND (c.contype = 'f' OR (c.contype = 'u' AND NOT EXISTS (
                   SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)))
            ORDER BY c.contype DESC, c.conname
        """,
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            ORDER BY i.indexname
        """,
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, definition, contype in constraints:  # foreign keys first, then uniques
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            kind = "foreign key" if contype == "f" else "unique"
            dropped.append(DroppedIndex(table, name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}', kind))
        for table, name, definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
            dropped.append(DroppedIndex(table, name, definition, "index"))
    # Restore indexes and unique constraints before the foreign keys that check against them.
    return sorted(dropped, key=lambda d: {"index": 0, "unique": 1, "foreign key": 2}[d.kind])


def _restore_indexes(dropped: list[DroppedIndex], report: Callable[[str], None]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for item in dropped:
            started = time.monotonic()
            cursor.execute(item.create_sql)
            report(f"  {item.kind} {item.name}: {time.monotonic() - started:.1f}s")


def _reset_sequences() -> None:
    """Point id sequences past the rows written with explicit ids, so ORM inserts work."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(writer.DATA_MODELS))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
