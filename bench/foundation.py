"""Foundation benchmarks: bulk event ingestion through the REST endpoint, CSV import of
1M orders, and the customer list page — each next to hand-written SQL for the same rows."""

import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from bench.harness import Measurement, percentile, timed, vacuum, write_results

EVENTS_PER_REQUEST = 10_000
EVENT_REQUESTS = 20
CSV_ORDERS = 1_000_000
EVENT_TYPES = np.array(["view", "search", "add_to_cart", "favorite", "purchase", "page"])
NAME_MATCH = "(upper(name::text) LIKE upper(%s) OR external_id = %s OR email LIKE %s OR phone LIKE %s)"


def _page_sql(where: str, order: str = "signed_up_at DESC, id DESC") -> str:
    columns = "id, external_id, email, phone, name, gender, country, city, member_tier, signed_up_at"
    return f"SELECT {columns}, email_opt_in, sms_opt_in FROM customers_customer WHERE {where} ORDER BY {order} LIMIT 51"


SIGNED_UP = "signed_up_at IS NOT NULL"
# (page query, hand-written SQL for the same first page, its parameters)
LIST_QUERIES = [
    ("", _page_sql(SIGNED_UP), []),
    ("?country=CN", _page_sql(f"country = 'CN' AND {SIGNED_UP}"), []),
    ("?country=US&gender=female", _page_sql(f"country = 'US' AND gender = 'female' AND {SIGNED_UP}"), []),
    ("?email_consent=yes&sms_consent=no", _page_sql(f"email_opt_in AND NOT sms_opt_in AND {SIGNED_UP}"), []),
    ("?city=成都", _page_sql(f"city = '成都' AND {SIGNED_UP}"), []),
    ("?q=王", _page_sql(f"{NAME_MATCH} AND {SIGNED_UP}"), ["%王%", "王", "王%", "王%"]),
    ("?q=Wilson", _page_sql(f"{NAME_MATCH} AND {SIGNED_UP}"), ["%Wilson%", "Wilson", "Wilson%", "Wilson%"]),
    ("?q=C0001234", _page_sql("external_id = 'C0001234'"), []),
    ("?q=%2B86%20138", _page_sql(f"phone LIKE '+86 138%%' AND {SIGNED_UP}"), []),
    ("?sort=name", _page_sql("name <> ''", order="name, id"), []),
]


def _customer_ids(count: int, seed: int) -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute("SELECT external_id FROM customers_customer")
        ids = np.array([row[0] for row in cursor.fetchall()])
    return np.random.default_rng(seed).choice(ids, size=count)


def _bench_client() -> Client:
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    client = Client()
    client.force_login(user)
    return client


def _event_frame(prefix: str, customers: np.ndarray, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    count = len(customers)
    base = np.datetime64("2026-01-01T00:00:00")
    return pd.DataFrame(
        {
            "event_id": [f"{prefix}-{i}" for i in range(count)],
            "customer_id": customers,
            "type": rng.choice(EVENT_TYPES, size=count),
            "occurred_at": (base + rng.integers(0, 300 * 86400, size=count).astype("timedelta64[s]")).astype(str),
            "sku": [f"SKU{n:05d}" for n in rng.integers(0, 500, size=count)],
            "category": rng.choice(np.array(["Beauty", "Apparel", "Home"]), size=count),
        }
    )


def _delete_like(table: str, prefix: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE external_id LIKE %s", [f"{prefix}%"])
    vacuum(table)


def _copy_frame(cursor, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    columns = ", ".join(frame.columns)
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def reference_events_insert(frame: pd.DataFrame) -> None:
    """Hand-written: COPY into a temporary table, one INSERT ... SELECT joining customers."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE ref_events (event_id text, customer_id text, type text, occurred_at timestamptz,"
            " sku text, category text) ON COMMIT DROP"
        )
        _copy_frame(cursor, "ref_events", frame)
        cursor.execute(
            "INSERT INTO customers_event (external_id, customer_id, type, occurred_at, sku, category, query, path,"
            " properties) SELECT e.event_id, c.id, e.type, e.occurred_at, e.sku, e.category, '', '', '{}'"
            " FROM ref_events e JOIN customers_customer c ON c.external_id = e.customer_id"
            " ON CONFLICT (external_id) DO NOTHING"
        )


def bench_event_ingestion(repeat: int = 3) -> Measurement:
    client = _bench_client()
    total = EVENTS_PER_REQUEST * EVENT_REQUESTS
    product, reference = [], []
    for run in range(repeat):
        customers = _customer_ids(total, seed=run)
        frame = _event_frame(f"bench-api-{run}", customers, seed=run)
        payloads = [
            json.dumps({"records": frame.iloc[i : i + EVENTS_PER_REQUEST].to_dict("records")})
            for i in range(0, total, EVENTS_PER_REQUEST)
        ]

        def post_all(payloads=payloads):
            for payload in payloads:
                response = client.post("/api/bulk/events/", data=payload, content_type="application/json")
                body = response.json()
                assert response.status_code == 200 and body["inserted"] == EVENTS_PER_REQUEST, body

        product += timed(post_all, 1)
        _delete_like("customers_event", "bench-api-")
        ref_frame = _event_frame(f"bench-ref-{run}", customers, seed=run)

        def reference_all(ref_frame=ref_frame):
            from django.db import transaction

            for i in range(0, total, EVENTS_PER_REQUEST):
                with transaction.atomic():
                    reference_events_insert(ref_frame.iloc[i : i + EVENTS_PER_REQUEST])

        reference += timed(reference_all, 1)
        _delete_like("customers_event", "bench-ref-")
    return Measurement(
        name=f"bulk events via REST ({EVENT_REQUESTS} × {EVENTS_PER_REQUEST:,})",
        target="≥ 20,000 events/s",
        product_seconds=product,
        reference_seconds=reference,
        items=total,
        unit="events",
        notes="reference: COPY + INSERT…SELECT per 10k batch, same rows",
    )


def _orders_csv(path: Path, count: int) -> None:
    rng = np.random.default_rng(7)
    customers = _customer_ids(count, seed=7)
    base = np.datetime64("2025-06-01T00:00:00")
    frame = pd.DataFrame(
        {
            "order_id": [f"BO{i:09d}" for i in range(count)],
            "customer_id": customers,
            "ordered_at": (base + rng.integers(0, 500 * 86400, size=count).astype("timedelta64[s]")).astype(str),
            "total": np.round(rng.gamma(2.0, 60.0, size=count), 2),
            "currency": rng.choice(np.array(["CNY", "USD", "EUR"]), size=count),
            "coupon_code": np.where(rng.random(count) < 0.2, "SAVE10", ""),
        }
    )
    frame.to_csv(path, index=False)


def reference_orders_import(path: Path) -> None:
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE ref_orders (order_id text, customer_id text, ordered_at timestamptz, total numeric,"
            " currency text, coupon_code text) ON COMMIT DROP"
        )
        with (
            path.open() as handle,
            cursor.cursor.copy("COPY ref_orders FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while data := handle.read(1 << 20):
                copy.write(data)
        cursor.execute(
            "INSERT INTO customers_order (external_id, customer_id, ordered_at, total, currency, coupon_code, status,"
            " attributes) SELECT o.order_id, c.id, o.ordered_at, o.total, o.currency, coalesce(o.coupon_code, ''),"
            " 'placed', '{}' FROM ref_orders o JOIN customers_customer c ON c.external_id = o.customer_id"
            " ON CONFLICT (external_id) DO NOTHING"
        )


def bench_orders_csv_import(repeat: int = 2) -> Measurement:
    from customers.services import csv_import_run

    product, reference = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        _orders_csv(path, CSV_ORDERS)
        for _ in range(repeat):

            def run_import():
                result = csv_import_run(kind="orders", path=path, report_path=Path(folder) / "errors.csv")
                assert result.error_count == 0, result.summary()

            product += timed(run_import, 1)
            _delete_like("customers_order", "BO")
            reference += timed(lambda: reference_orders_import(path), 1)
            _delete_like("customers_order", "BO")
    return Measurement(
        name=f"CSV import of {CSV_ORDERS:,} orders",
        target="≥ 50,000 rows/s",
        product_seconds=product,
        reference_seconds=reference,
        items=CSV_ORDERS,
        unit="rows",
        notes="reference: COPY file + INSERT…SELECT join customers",
    )


def bench_customer_list(repeat: int = 10) -> Measurement:
    client = _bench_client()
    product, reference = [], []
    for _ in range(repeat):
        for query, sql, params in LIST_QUERIES:

            def get_page(query=query):
                response = client.get(f"/customers/{query}")
                assert response.status_code == 200

            def run_sql(sql=sql, params=params):
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    cursor.fetchall()

            product += timed(get_page, 1)
            reference += timed(run_sql, 1)
    return Measurement(
        name=f"customer list page ({len(LIST_QUERIES)} filter sets)",
        target="p95 < 300 ms",
        product_seconds=product,
        reference_seconds=reference,
        notes=f"p95 {percentile(product, 95) * 1000:.0f} ms over all pages, incl. template rendering; "
        "reference: the same first pages in raw SQL",
    )


BENCHES = {"list": "bench_customer_list", "events": "bench_event_ingestion", "csv": "bench_orders_csv_import"}


def run(context: dict, only: list[str] | None = None) -> None:
    measurements = []
    for key, name in BENCHES.items():
        if only and key not in only:
            continue
        bench = globals()[name]
        print(f"running {bench.__name__}", flush=True)
        measurement = bench()
        print(
            f"  {measurement.name}: median {measurement.product_median * 1000:,.0f} ms, ratio {measurement.ratio:.2f}",
            flush=True,
        )
        measurements.append(measurement)
    path = write_results("foundation", measurements, context)
    print(f"wrote {path}")
