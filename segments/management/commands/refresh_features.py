"""Refresh the customer feature table in this process (no Celery worker needed)."""

import os
import time

from django.core.management.base import BaseCommand, CommandParser

from segments.services import DEFAULT_RANGE_SIZE, features_refresh_full, features_refresh_incremental


class Command(BaseCommand):
    help = "Recompute the customer feature table (full by default) by customer-id range."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--incremental", action="store_true", help="Only customers with new data since the last run."
        )
        parser.add_argument("--range-size", type=int, default=DEFAULT_RANGE_SIZE, help="Customers per statement.")
        parser.add_argument(
            "--parallel",
            type=int,
            default=None,
            help="Ranges refreshed at once on PostgreSQL, one connection each (default: CPU count, at most 4).",
        )

    def handle(self, *args, incremental: bool, range_size: int, parallel: int | None, **options) -> None:
        if parallel is None:
            parallel = min(4, os.cpu_count() or 1)
        refresh_with = features_refresh_incremental if incremental else features_refresh_full
        started = time.monotonic()
        refresh = refresh_with(range_size=range_size, parallel=parallel)
        self.stdout.write(
            self.style.SUCCESS(
                f"{refresh.mode} refresh: {refresh.customers_refreshed} customers in "
                f"{time.monotonic() - started:.1f} s (as of {refresh.as_of:%Y-%m-%d %H:%M:%S})"
            )
        )
