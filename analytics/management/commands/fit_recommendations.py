"""Fit the recommender in this process (no Celery worker needed)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from analytics.recommendations import model
from analytics.recommendations.services import DEFAULT_MIN_SUPPORT, DEFAULT_TEST_DAYS, recommendations_fit


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


class Command(BaseCommand):
    help = (
        "Evaluate item-based collaborative filtering against popularity on a time split, fit it on all data, "
        "mine the frequently-bought-together rules, store every customer's top products and refresh the "
        "customers' recommended category."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="Reference day (default: now).")
        parser.add_argument("--test-days", type=int, default=DEFAULT_TEST_DAYS, help="Days after the cutoff.")
        parser.add_argument("--neighbours", type=int, default=model.DEFAULT_NEIGHBOURS)
        parser.add_argument("--min-support", type=float, default=DEFAULT_MIN_SUPPORT)
        parser.add_argument("--no-features", action="store_true", help="Do not refresh the feature column.")

    def handle(self, *args, as_of, test_days: int, neighbours: int, min_support: float, no_features: bool,
               **options) -> None:  # fmt: skip
        reference = None
        if as_of is not None:
            reference = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min,
                                            tzinfo=timezone.get_current_timezone())  # fmt: skip
        run = recommendations_fit(as_of=reference, test_days=test_days, neighbours=neighbours,
                                  min_support=min_support, queue_features=not no_features, inline=True)  # fmt: skip
        for name, figures in run.figures.items():
            self.stdout.write(
                f"{name}: hit rate@{figures['k']} {_percent(figures['hit_rate'])}, "
                f"precision@{figures['k']} {_percent(figures['precision'])} over {figures['customers']} customers"
            )
        self.stdout.write(f"counts: {run.counts}")
        self.stdout.write(f"timings (s): {run.timings}")
        self.stdout.write(self.style.SUCCESS(f"Run #{run.pk} is active."))
