"""Celery tasks of the analytics app: thin callers of analytics.sentiment.services."""

from celery import shared_task
from django.contrib.auth import get_user_model

from analytics.sentiment.services import features_sentiment_queue, sentiment_train_run, source_texts_score


@shared_task(name="analytics.sentiment_train")
def sentiment_train_task(job_id: str | None = None, user_id: int | None = None, force: bool = False) -> int:
    """Train, choose, rescore and refresh customers' sentiment (see sentiment_train_run).
    Running it twice records two versions; the second is activated only if not worse."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return sentiment_train_run(job_id=job_id, user=user, force=force).pk


@shared_task(name="analytics.sentiment_score_new")
def sentiment_score_new_task() -> int:
    """Score reviews and transcripts not scored yet (after an import); safe to run twice."""
    written = source_texts_score(unscored_only=True)
    if any(written.values()):
        features_sentiment_queue()
    return sum(written.values())


@shared_task(name="analytics.churn_train")
def churn_train_task(model_id: int) -> int | None:
    """Train and compare the churn models of a queued version; a finished one is left alone."""
    from analytics.churn.services import churn_train_run

    version = churn_train_run(model_id=model_id)
    return version.pk if version else None


@shared_task(name="analytics.recommendations_fit")
def recommendations_fit_task(run_id: int, job_id: str | None = None) -> int | None:
    """Fit a queued recommendation run; a run already fitted is left alone (safe twice)."""
    from analytics.recommendations.services import recommendations_fit_run

    run = recommendations_fit_run(run_id=run_id, job_id=job_id)
    return run.pk if run else None


@shared_task(name="analytics.behaviour_paths_compute")
def behaviour_paths_compute_task(gap_minutes: int = 30, path_steps: int = 4, user_id: int | None = None) -> int:
    """Compute the behaviour-sequence model and store it (running twice stores two copies)."""
    from analytics.sequences.services import behaviour_paths_compute

    return behaviour_paths_compute(gap_minutes=gap_minutes, path_steps=path_steps, user_id=user_id).pk
