#!/usr/bin/env python
"""One command for the benchmark harness:

    .venv/bin/python bench/run.py [--customers 1000000] [--database bench] [--reuse] \
        [--suite foundation|segments|predictions|surveys|coupons|campaigns|retention|funnels|dashboard]

Creates (or reuses) a PostgreSQL database, migrates it, loads N customers with the demo
generator, then times each product operation next to a hand-written reference for the same
result in the same run and writes bench/results/<suite>.md and .json. See docs/benchmarks.md.
"""

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SUITES = [
    "foundation",
    "segments",
    "predictions",
    "surveys",
    "coupons",
    "campaigns",
    "retention",
    "funnels",
    "dashboard",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database", default="bench", help="PostgreSQL database name (created if missing)")
    parser.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--user", default=os.environ.get("PGUSER", "root"))
    parser.add_argument("--reuse", action="store_true", help="keep the loaded data if it has N customers")
    parser.add_argument("--suite", action="append", choices=SUITES, help="default: all suites")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only",
        action="append",
        help=(
            "run only these operations (foundation: list, events, csv; segments: refresh, rules, preview, kmeans; "
            "predictions: clv, churn; surveys: submit; coupons: generate; campaigns: send; retention: retention; "
            "funnels: funnel; dashboard: dashboard)"
        ),
    )
    return parser.parse_args()


def ensure_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(host=args.host, user=args.user, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{args.database}"')


def main() -> None:
    args = parse_args()
    ensure_database(args)
    os.environ["DATABASE_URL"] = f"postgres://{args.user}@{args.host}:5432/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.harness import machine_description

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer")
        have = cursor.fetchone()[0]
    context = machine_description() | {"customers": f"{args.customers:,}", "database": "PostgreSQL"}
    if not (args.reuse and have == args.customers):
        print(f"loading {args.customers:,} customers with the demo generator", flush=True)
        started = time.perf_counter()
        call_command("generate_demo", customers=args.customers, seed=args.seed, flush=True)
        context["generate_demo seconds"] = f"{time.perf_counter() - started:,.0f}"
    with connection.cursor() as cursor:
        # As autovacuum would leave a production database: statistics, visibility map, hint bits.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT (SELECT count(*) FROM customers_order), (SELECT count(*) FROM customers_event)")
        orders, events = cursor.fetchone()
    context |= {"orders": f"{orders:,}", "events": f"{events:,}"}
    with connection.cursor() as cursor:
        for setting in ("server_version", "shared_buffers", "max_wal_size", "work_mem"):
            cursor.execute(f"SHOW {setting}")
            context[setting] = cursor.fetchone()[0]

    for suite in args.suite or SUITES:
        module = importlib.import_module(f"bench.{suite}")
        # A suite none of whose operations --only names is skipped (its results stay as they are).
        if args.only and not set(args.only) & set(module.BENCHES):
            continue
        module.run(context, only=args.only)


if __name__ == "__main__":
    main()
