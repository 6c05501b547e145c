"""Retrain the sentiment model in this process (no Celery worker needed)."""

from django.core.management.base import BaseCommand, CommandParser

from analytics.sentiment.services import sentiment_train_run


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


class Command(BaseCommand):
    help = (
        "Train the sentiment model on the shop's rated reviews, measure it (held-out reviews and the "
        "external labelled sets), activate it if it is not worse, rescore reviews and transcripts and "
        "refresh customers' average sentiment."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Activate the new model even if it is worse.")

    def handle(self, *args, force: bool, **options) -> None:
        version = sentiment_train_run(force=force, inline=True)
        metrics = version.metrics
        if refusal := metrics.get("refusal"):
            self.stdout.write(self.style.WARNING(f"Not trained ({refusal['code']}): {metrics['counts']}; "
                                                 "the lexicon is used."))  # fmt: skip
        self.stdout.write(
            f"Model #{version.pk} ({version.kind}): held-out accuracy {_percent(version.held_out_accuracy)} "
            f"on {version.test_count} reviews; external sets {_percent(version.external_accuracy)}"
        )
        for name, figures in (metrics.get("external") or {}).get("sets", {}).items():
            self.stdout.write(f"  {name}: {_percent(figures['accuracy'])} of {figures['count']}")
        state = "active" if version.active else "not activated (the active model is better)"
        self.stdout.write(self.style.SUCCESS(f"Model #{version.pk} is {state}."))
