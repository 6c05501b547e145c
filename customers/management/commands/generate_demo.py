"""``manage.py generate_demo``: realistic, reproducible shop data for demos and benchmarks."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.demo.generator import DEFAULT_CHUNK, demo_data_generate


class Command(BaseCommand):
    help = (
        "Generate simulated customers, products, orders, events and reviews. "
        "The same --seed and --end-date give identical data; see docs/demo-data.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, required=True, help="number of customers to create")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--days", type=int, default=180, help="days of behaviour events (default 180)")
        parser.add_argument(
            "--end-date",
            type=dt.date.fromisoformat,
            default=None,
            help="YYYY-MM-DD the simulation ends at (midnight UTC); default today",
        )
        parser.add_argument("--flush", action="store_true", help="delete existing customer data first")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=DEFAULT_CHUNK,
            help=f"customers simulated per chunk (default {DEFAULT_CHUNK:,}; part of the seed)",
        )
        indexes = parser.add_mutually_exclusive_group()
        indexes.add_argument(
            "--rebuild-indexes",
            dest="rebuild_indexes",
            action="store_true",
            default=None,
            help="PostgreSQL: drop indexes during the load, rebuild after (default from 100k)",
        )
        indexes.add_argument("--keep-indexes", dest="rebuild_indexes", action="store_false")

    def handle(self, *args, **options) -> None:
        if options["customers"] < 1:
            raise CommandError("--customers must be at least 1")
        if not 1 <= options["days"] <= 3 * 365:
            raise CommandError("--days must be between 1 and 1095")
        end = options["end_date"]
        if end is not None:
            end = dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC)

        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()  # visible while running, also when redirected to a file

        result = demo_data_generate(
            customers=options["customers"],
            seed=options["seed"],
            event_days=options["days"],
            end=end,
            flush=options["flush"],
            chunk_size=options["chunk_size"],
            rebuild_indexes=options["rebuild_indexes"],
            progress=progress,
        )
        self.stdout.write(
            self.style.SUCCESS(f"Demo data up to {result.end:%Y-%m-%d} written in {result.seconds:.1f}s:")
        )
        for table, count in result.counts.items():
            self.stdout.write(f"  {table:<12} {count:>12,}")
