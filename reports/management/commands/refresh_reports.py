"""Rebuild the reports' pre-aggregated tables now, in this process (Celery beat does it on a
schedule; no worker needed here): the demo calls it after loading data, operators after a
large import."""

from django.core.management.base import BaseCommand

from reports.dashboard.services import dashboard_refresh
from reports.funnels.services import event_timelines_refresh
from reports.retention.refresh import retention_refresh


class Command(BaseCommand):
    help = (
        "Rebuild the retention tables, the dashboard's daily sales and snapshot, and (PostgreSQL) the "
        "funnels' event timelines (in full unless --incremental)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--incremental", action="store_true", help="only customers with new orders and the last few days of sales"
        )

    def handle(self, *args, incremental: bool = False, **options):
        retention = retention_refresh(full=not incremental)
        self.stdout.write(f"retention: {retention.mode}, {retention.customers:,} customers, {retention.rows:,} rows")
        dashboard = dashboard_refresh(full=not incremental)
        self.stdout.write(
            f"dashboard: {dashboard.sales.days} days of sales ({dashboard.sales.mode}, "
            f"{dashboard.sales_seconds:.1f} s), snapshot as of {dashboard.snapshot.as_of:%Y-%m-%d %H:%M} "
            f"({dashboard.snapshot_seconds:.1f} s)"
        )
        timelines = event_timelines_refresh(full=not incremental)
        if timelines is not None:
            self.stdout.write(f"event timelines: {timelines.mode}, {timelines.customers:,} customers")
