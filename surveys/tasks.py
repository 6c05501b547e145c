"""Celery tasks of the surveys app: thin, idempotent callers of surveys.services."""

from celery import shared_task

from surveys.services import answers_sentiment_fill, survey_features_write


@shared_task(name="surveys.features_recompute")
def survey_features_recompute_task() -> int:
    """Rewrite every respondent's NPS group and CSAT rating in the feature table (one
    set-based UPDATE; e.g. after restoring data or erasing customers). Safe to run twice."""
    return survey_features_write()


@shared_task(name="surveys.answers_sentiment_fill")
def answers_sentiment_fill_task() -> int:
    """Score free-text answers stored without sentiment (only unscored ones are written)."""
    return answers_sentiment_fill()
