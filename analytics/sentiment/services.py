"""Sentiment services: score texts with the active scorer, train and choose a model, and
store the scores of reviews, transcripts and survey answers.

``texts_score`` is the entry point other apps use (surveys scores free-text answers with
it). It uses the active trained model when there is one, else the shipped lexicon.

Choosing a model: ``sentiment_model_train`` fits a pipeline on the shop's rated reviews
(≥ 4 stars positive, ≤ 2 negative, 3 unused), measures it on a stratified held-out fifth
and on the external labelled sets in ``datasets/`` (never used for training or tuning), and
activates it when its held-out accuracy is at least the lexicon's on the same texts and at
least the recorded held-out accuracy of the model it replaces (or when forced). With fewer
than MIN_REVIEWS_PER_CLASS reviews of either kind no model is fitted: a lexicon version
is recorded with the lexicon's figures, and the lexicon stays in use.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analytics.models import ASPECT_COLUMNS, ScoredText, SentimentModel, SourceKind
from analytics.pipelines import pipeline_dump, pipeline_load
from analytics.sentiment import model
from analytics.sentiment.errors import SentimentError
from analytics.sentiment.errors import SentimentErrorCode as Code
from analytics.sentiment.model import LexiconScorer, ModelScorer, Scorer, TextScore
from customers.models import Review, Transcript
from jobs.models import Job
from jobs.queue import task_run_here, task_send
from jobs.services import job_create, job_fail, job_progress, job_start, job_succeed

__all__ = [
    "ActiveModel",
    "TextItem",
    "TextScore",
    "active_model_join",
    "scored_texts_store",
    "scorer_active",
    "scorer_of",
    "texts_score",
]

logger = logging.getLogger(__name__)

MAX_TEXTS_PER_CALL = 1_000
MIN_REVIEWS_PER_CLASS = 50
SCORE_CHUNK = 5_000
TRAIN_JOB_KIND = "sentiment_train"
FEATURES_TASK = "segments.features_sentiment_update"
DATASET_DIR = Path(__file__).resolve().parent / "datasets"

_cache_lock = threading.Lock()
_cached: dict[tuple[int, dt.datetime], ModelScorer] = {}


# --- scoring texts --------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveModel:
    """Which sentiment model is active, read by a caller inside a query it makes anyway
    (``active_model_join``), so that scoring needs no query of its own: a personal survey
    link reads it with the respondent. ``id`` None: no version recorded (the lexicon)."""

    id: int | None
    kind: str = ""
    trained_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, model_id: int | None, kind: str | None, trained_at: object) -> ActiveModel:
        """From the three columns of ``active_model_join`` (a raw cursor's values: SQLite
        hands the time over as text or a naive UTC datetime)."""
        if model_id is None:
            return cls(None)
        if isinstance(trained_at, str):
            trained_at = dt.datetime.fromisoformat(trained_at)
        return cls(model_id, kind or "", trained_at if isinstance(trained_at, dt.datetime) else None)


def active_model_join(alias: str = "sm") -> tuple[str, str]:
    """(columns, join) to add to a hand-written query to read the active model alongside:
    ``SELECT …, <columns> FROM … <join> WHERE …`` — at most one row joins (one model is
    active, a partial unique index), none when nothing is recorded. Build the result with
    ``ActiveModel.from_row(*those three values)``."""
    table = SentimentModel._meta.db_table
    return f"{alias}.id, {alias}.kind, {alias}.trained_at", f"LEFT JOIN {table} {alias} ON {alias}.active"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if timezone.is_naive(moment) else moment.astimezone(dt.UTC)


def _model_scorer(model_id: int, trained_at: dt.datetime) -> ModelScorer | None:
    """The trained pipeline of a version, unpickled once per process and version (a new
    active version replaces it); None when the row has no pipeline (or is gone)."""
    key = (model_id, _utc(trained_at))  # a pk alone can come back after a database reset
    with _cache_lock:
        scorer = _cached.get(key)
        if scorer is None:
            blob = SentimentModel.objects.filter(pk=model_id).values_list("pipeline", flat=True).first()
            if not blob:
                return None
            _cached.clear()
            scorer = _cached[key] = ModelScorer(pipeline_load(blob))
    return scorer


def scorer_of(active: ActiveModel) -> Scorer:
    """The scorer of the active model the caller read (``ActiveModel``): the process's
    cached pipeline of that version, or the lexicon. No query while the version is
    unchanged; the first call after another model becomes active loads the new pipeline."""
    if active.id is None or active.kind != SentimentModel.Kind.TRAINED or active.trained_at is None:
        return LexiconScorer()
    return _model_scorer(active.id, active.trained_at) or LexiconScorer()


def scorer_active() -> tuple[Scorer, SentimentModel | None]:
    """The scorer in use and its version row (None: nothing trained or recorded yet, the
    lexicon). One query for the active row; a trained pipeline is unpickled once per
    process and version (``scorer_of`` skips even that query when the caller read the
    active version itself)."""
    version = SentimentModel.objects.filter(active=True).defer("pipeline").first()
    if version is None or version.kind != SentimentModel.Kind.TRAINED:
        return LexiconScorer(), version
    scorer = _model_scorer(version.pk, version.trained_at)
    return (scorer or LexiconScorer()), version


def texts_score(texts: list[str], *, active: ActiveModel | None = None) -> list[TextScore]:
    """Label (positive/neutral/negative), score (−1..1), language and per-aspect sentiment
    of each text, in order, with the active model (or the lexicon). Any number of texts;
    the REST API limits a call to MAX_TEXTS_PER_CALL. ``active``: the active model as the
    caller read it (``active_model_join``), which saves the query for it."""
    scorer = scorer_of(active) if active is not None else scorer_active()[0]
    return scorer.score(list(texts))


# --- storing scores ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TextItem:
    """A text to score and store, with what per-product / per-category reports group by."""

    source_id: int
    text: str
    created_at: dt.datetime
    customer_id: int | None = None
    sku: str = ""
    category: str = ""


def scored_texts_store(*, source: str, items: Sequence[TextItem], scorer: Scorer | None = None,
                       version: SentimentModel | None = None) -> int:  # fmt: skip
    """Score the texts in one vectorised call and upsert one ScoredText row per item
    (INSERT … ON CONFLICT (source, source_id) DO UPDATE), so storing twice is safe.
    Returns the number of rows written."""
    if source not in SourceKind.values:
        raise SentimentError(Code.UNKNOWN_SOURCE, field="source", source=source)
    if not items:
        return 0
    if scorer is None:
        scorer, version = scorer_active()
    results = scorer.score([item.text for item in items])
    now = timezone.now()
    model_id = version.pk if version is not None else None
    rows = [
        ScoredText(
            source=source, source_id=item.source_id, customer_id=item.customer_id, sku=item.sku[:64],
            category=item.category[:100], created_at=item.created_at, language=result.language,
            label=result.label, score=result.score, model_id=model_id, scored_at=now,
            **{column: result.aspects.get(aspect) for aspect, column in ASPECT_COLUMNS.items()},
        )
        for item, result in zip(items, results, strict=True)
    ]  # fmt: skip
    ScoredText.objects.bulk_create(
        rows,
        batch_size=1_000,
        update_conflicts=True,
        unique_fields=["source", "source_id"],
        update_fields=["customer", "sku", "category", "created_at", "language", "label", "score", "model",
                       "scored_at", *ASPECT_COLUMNS.values()],
    )  # fmt: skip
    return len(rows)


def _review_items(after: int, limit: int, unscored_only: bool) -> list[TextItem]:
    reviews = Review.objects.filter(pk__gt=after).exclude(text="")
    if unscored_only:
        scored = ScoredText.objects.filter(source=SourceKind.REVIEW, source_id=OuterRef("pk"))
        reviews = reviews.filter(~Exists(scored))
    rows = reviews.order_by("pk").values_list("pk", "text", "created_at", "customer_id", "sku", "product__category")
    return [
        TextItem(source_id=pk, text=text, created_at=at, customer_id=customer, sku=sku or "", category=category or "")
        for pk, text, at, customer, sku, category in rows[:limit]
    ]


def _transcript_items(after: int, limit: int, unscored_only: bool) -> list[TextItem]:
    transcripts = Transcript.objects.filter(pk__gt=after).exclude(text="")
    if unscored_only:
        scored = ScoredText.objects.filter(source=SourceKind.TRANSCRIPT, source_id=OuterRef("pk"))
        transcripts = transcripts.filter(~Exists(scored))
    rows = transcripts.order_by("pk").values_list("pk", "text", "occurred_at", "customer_id")
    return [TextItem(source_id=pk, text=text, created_at=at, customer_id=customer)
            for pk, text, at, customer in rows[:limit]]  # fmt: skip


SOURCE_LOADERS = {SourceKind.REVIEW: _review_items, SourceKind.TRANSCRIPT: _transcript_items}


def source_texts_score(*, unscored_only: bool = True, chunk_size: int = SCORE_CHUNK,
                       progress: model.Progress | None = None) -> dict[str, int]:  # fmt: skip
    """Score the reviews and transcripts not scored yet (or all of them, after a new model
    is activated) in id-ordered chunks: one query, one vectorised scoring call and one bulk
    upsert per chunk. Returns rows written per source. Safe to run twice."""
    scorer, version = scorer_active()
    written: dict[str, int] = {}
    for position, (source, loader) in enumerate(SOURCE_LOADERS.items()):
        after, total = 0, 0
        while True:
            items = loader(after, chunk_size, unscored_only)
            if not items:
                break
            with transaction.atomic():
                total += scored_texts_store(source=source, items=items, scorer=scorer, version=version)
            after = items[-1].source_id
            if progress:
                progress((position + 0.5) / len(SOURCE_LOADERS), _("%(count)d texts scored") % {"count": total})
        written[str(source)] = total
    return written


def features_sentiment_queue(*, inline: bool = False) -> None:
    """Ask segments to refresh customers' average sentiment. By task name: analytics must
    not import segments (segments depends on analytics, not the other way). ``inline``
    runs the task in this process (the management command needs no worker)."""
    if inline:
        task_run_here(FEATURES_TASK)
    else:
        task_send(FEATURES_TASK)


# --- training -------------------------------------------------------------------------------------


def rated_reviews() -> tuple[list[str], list[str]]:
    """Texts and labels of the reviews usable for training (rated 1–2 or 4–5, with text)."""
    rows = Review.objects.exclude(text="").filter(rating__isnull=False).exclude(rating=3)
    texts, labels = [], []
    for text, rating in rows.order_by("pk").values_list("text", "rating").iterator(chunk_size=10_000):
        texts.append(text)
        labels.append(model.rating_label(rating))
    return texts, labels


def external_sets(directory: Path = DATASET_DIR) -> dict[str, tuple[list[str], list[str]]]:
    """The labelled sets not generated by Precis (see datasets/README.md): name → (texts,
    labels). Used only to measure, never to train or tune."""
    sets: dict[str, tuple[list[str], list[str]]] = {}
    for path in sorted(directory.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = [
                (row["text"], row["label"]) for row in csv.DictReader(handle) if row["label"] in model.BINARY_LABELS
            ]
        sets[path.stem] = ([t for t, _label in rows], [label for _t, label in rows])
    return sets


def external_evaluate(scorer: Scorer) -> dict:
    """Figures per external set and over all of them together."""
    per_set, all_texts, all_labels = {}, [], []
    for name, (texts, labels) in external_sets().items():
        per_set[name] = model.scorer_evaluate(scorer, texts, labels).as_dict()
        all_texts += texts
        all_labels += labels
    overall = model.scorer_evaluate(scorer, all_texts, all_labels).as_dict() if all_texts else None
    return {"sets": per_set, "overall": overall}


def _activate(version: SentimentModel) -> None:
    with transaction.atomic():
        SentimentModel.objects.filter(active=True).exclude(pk=version.pk).update(active=False)
        SentimentModel.objects.filter(pk=version.pk).update(active=True)
    version.active = True


def _should_activate(*, accuracy: float, lexicon_accuracy: float, force: bool) -> bool:
    if force:
        return True
    if accuracy < lexicon_accuracy:
        return False
    current = SentimentModel.objects.filter(active=True).defer("pipeline").first()
    if current is None or current.kind != SentimentModel.Kind.TRAINED:
        return True
    return accuracy >= (current.held_out_accuracy or 0.0)


def sentiment_model_train(*, user=None, force: bool = False, seed: int = 0, job_id: str | None = None,
                          progress: model.Progress | None = None) -> SentimentModel:  # fmt: skip
    """Train, measure and record a version; activate it if it is better (see module doc).
    With too few rated reviews a lexicon version is recorded instead (its ``metrics``
    carry the refusal) and activated only when no trained model is active."""
    texts, labels = rated_reviews()
    positive, negative = labels.count(model.POSITIVE), labels.count(model.NEGATIVE)
    counts = {"positive": positive, "negative": negative}
    if min(positive, negative) < MIN_REVIEWS_PER_CLASS:
        refusal = SentimentError(Code.TOO_FEW_REVIEWS, needed=MIN_REVIEWS_PER_CLASS, positive=positive,
                                 negative=negative)  # fmt: skip
        lexicon = LexiconScorer()
        own = model.scorer_evaluate(lexicon, texts, labels).as_dict() if texts else None
        external = external_evaluate(lexicon)
        version = SentimentModel.objects.create(
            kind=SentimentModel.Kind.LEXICON, trained_by=user, rated_reviews=len(texts), test_count=len(texts),
            held_out_accuracy=own["accuracy"] if own else None,
            external_accuracy=external["overall"]["accuracy"] if external["overall"] else None,
            metrics={"held_out": own, "external": external, "counts": counts, "refusal": refusal.as_dict()},
            job_id=job_id,
        )  # fmt: skip
        current = SentimentModel.objects.filter(active=True).first()
        if current is None or current.kind == SentimentModel.Kind.LEXICON:
            _activate(version)
        return version
    result = model.sentiment_train(texts, labels, seed=seed, progress=progress)
    external = external_evaluate(result.scorer)
    lexicon_external = external_evaluate(LexiconScorer())
    version = SentimentModel.objects.create(
        kind=SentimentModel.Kind.TRAINED, trained_by=user, rated_reviews=len(texts),
        train_count=result.train_count, test_count=result.test_count,
        held_out_accuracy=result.held_out.accuracy,
        external_accuracy=external["overall"]["accuracy"] if external["overall"] else None,
        metrics={"held_out": result.held_out.as_dict(), "external": external, "counts": counts,
                 "lexicon": {"held_out": result.lexicon_held_out.as_dict(), "external": lexicon_external},
                 "seed": seed},
        pipeline=pipeline_dump(result.scorer.pipeline), job_id=job_id,
    )  # fmt: skip
    if _should_activate(accuracy=result.held_out.accuracy, lexicon_accuracy=result.lexicon_held_out.accuracy,
                        force=force):  # fmt: skip
        _activate(version)
    return version


def sentiment_train_start(*, user=None, force: bool = False) -> Job:
    """Create the job and queue training once it is committed; the page polls the job."""
    with transaction.atomic():
        job = job_create(kind=TRAIN_JOB_KIND, title=_("Sentiment model: train and rescore"),
                         params={"force": force}, user=user)  # fmt: skip
        from analytics.tasks import sentiment_train_task  # the tasks module imports this one

        user_id = getattr(user, "pk", None)
        transaction.on_commit(lambda: sentiment_train_task.delay(str(job.pk), user_id=user_id, force=force))
    return job


def sentiment_train_run(*, job_id: str | None = None, user=None, force: bool = False,
                        inline: bool = False) -> SentimentModel:  # fmt: skip
    """The whole flow a worker (or ``train_sentiment``) runs: train, choose, rescore every
    text when the new version became active (else score only the unscored), then queue the
    customers' average sentiment refresh. Job progress: 0–60 training, 60–95 scoring."""

    steps = {  # the pure module names its steps; the job shows them in the starter's language
        "split": _("reviews split into training and held-out"),
        "fitted": _("model fitted"),
        "measured": _("model measured on the held-out reviews"),
    }

    def progress(share: float, step: str) -> None:
        if job_id is not None:
            job_progress(job_id=job_id, done=int(60 * share), message=steps.get(step, step))

    if job_id is not None:
        job_start(job_id=job_id, total=100)
    try:
        version = sentiment_model_train(user=user, force=force, job_id=job_id, progress=progress)
        version.refresh_from_db()

        def scoring(share: float, message: str) -> None:
            if job_id is not None:
                job_progress(job_id=job_id, done=60 + int(35 * share), message=message)

        written = source_texts_score(unscored_only=not version.active, progress=scoring)
        features_sentiment_queue(inline=inline)
    except Exception as error:
        if job_id is not None:
            job_fail(job_id=job_id, message=str(error))
        raise
    if job_id is not None:
        job_succeed(
            job_id=job_id,
            result={"model_id": version.pk, "summary": {
                gettext_noop("model"): f"#{version.pk} {version.kind}",
                gettext_noop("held-out accuracy"): _percent(version.held_out_accuracy),
                gettext_noop("external accuracy"): _percent(version.external_accuracy),
                gettext_noop("activated"): version.active,
                gettext_noop("reviews scored"): written.get(SourceKind.REVIEW.value, 0),
                gettext_noop("transcripts scored"): written.get(SourceKind.TRANSCRIPT.value, 0)}},
            message=_("Model #%(model)d: held-out accuracy %(accuracy)s, %(count)d texts scored")
            % {"model": version.pk, "accuracy": _percent(version.held_out_accuracy), "count": sum(written.values())},
        )  # fmt: skip
    return version


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
