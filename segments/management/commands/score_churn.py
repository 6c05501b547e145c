"""python manage.py score_churn [--range-size 100000]"""

from django.core.management.base import BaseCommand, CommandError

from segments.churn_scores import SCORE_RANGE_SIZE, churn_score_all


class Command(BaseCommand):
    help = "Score every customer's churn risk with the active churn model (written range by range)."

    def add_arguments(self, parser):
        parser.add_argument("--range-size", type=int, default=SCORE_RANGE_SIZE)

    def handle(self, *args, range_size: int, **options):
        result = churn_score_all(range_size=range_size)
        if result.model_id is None:
            raise CommandError("no active churn model: run python manage.py train_churn first")
        self.stdout.write(
            f"model #{result.model_id}, as of {result.as_of:%Y-%m-%d %H:%M}: {result.ranges} ranges, "
            f"{result.changed} risks changed in {result.seconds} s"
        )
