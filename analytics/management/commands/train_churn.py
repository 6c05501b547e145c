"""python manage.py train_churn [--horizon 90] [--no-score]"""

from django.core.management.base import BaseCommand, CommandError

from analytics.churn.selectors import churn_comparison_rows
from analytics.churn.services import MAX_HORIZON_DAYS, MIN_HORIZON_DAYS, churn_train_run
from analytics.models import ChurnModel
from jobs.queue import task_run_here


class Command(BaseCommand):
    help = "Train and compare the churn models on a time split, activate the best, then score every customer."

    def add_arguments(self, parser):
        parser.add_argument("--horizon", type=int, default=90, help="days without a purchase that count as churn")
        parser.add_argument("--no-score", action="store_true", help="train only; leave the customers' risks alone")

    def handle(self, *args, horizon: int, no_score: bool, **options):
        if not MIN_HORIZON_DAYS <= horizon <= MAX_HORIZON_DAYS:
            raise CommandError(f"--horizon must be between {MIN_HORIZON_DAYS} and {MAX_HORIZON_DAYS} days")
        version = ChurnModel.objects.create(horizon_days=horizon)
        version = churn_train_run(
            model_id=version.pk, score=False,
            progress=lambda share, message: self.stderr.write(f"{share:4.0%} {message}"),
        )  # fmt: skip
        if version.status != ChurnModel.Status.SUCCEEDED:
            raise CommandError(version.error)
        self.stdout.write(
            f"churn model #{version.pk}: trained as of {version.train_cutoff:%Y-%m-%d}, "
            f"tested as of {version.test_cutoff:%Y-%m-%d}, horizon {horizon} days"
        )
        for row in churn_comparison_rows(version):
            marker = "*" if row["chosen"] else " "
            self.stdout.write(f" {marker} {row['name']:<20} ROC AUC {row['roc_auc']:.3f}")
        if not no_score:
            changed = task_run_here("segments.churn_score")
            self.stdout.write(f"churn risk written: {changed} customers changed")
