"""The per-process cache of the active sentiment scorer: keyed by the active version as a
caller read it (``active_model_join`` in a query it makes anyway), so scoring needs no query
while the version is unchanged, and the first call after another model becomes active uses
the new one."""

import numpy as np
import pytest
from django.db import connection

from analytics.models import SentimentModel
from analytics.pipelines import pipeline_dump
from analytics.sentiment import services
from analytics.sentiment.model import LexiconScorer, ModelScorer
from analytics.sentiment.services import ActiveModel, active_model_join, scorer_of, texts_score

pytestmark = pytest.mark.django_db


class ConstantPipeline:
    """A stand-in for a fitted pipeline: the same probability of "positive" for every text
    (module level, so it pickles like the real one)."""

    classes_ = np.array(["negative", "positive"])

    def __init__(self, positive: float) -> None:
        self.positive = positive

    def predict_proba(self, texts):
        return np.array([[1.0 - self.positive, self.positive] for _ in texts])


def _trained(positive: float) -> SentimentModel:
    return SentimentModel.objects.create(
        kind=SentimentModel.Kind.TRAINED, pipeline=pipeline_dump(ConstantPipeline(positive))
    )


def _active_read() -> ActiveModel:
    """What a caller's query reads (here alone, with a one-row table to join to)."""
    columns, join = active_model_join("m")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM (SELECT 1 AS one) x {join}")
        return ActiveModel.from_row(*cursor.fetchone())


@pytest.fixture(autouse=True)
def _empty_scorer_cache():
    services._cached.clear()
    yield
    services._cached.clear()


def test_nothing_recorded_or_a_lexicon_version_scores_with_the_lexicon(django_assert_num_queries):
    assert _active_read() == ActiveModel(None)
    with django_assert_num_queries(0):
        assert isinstance(scorer_of(ActiveModel(None)), LexiconScorer)
    lexicon = SentimentModel.objects.create(kind=SentimentModel.Kind.LEXICON)
    services._activate(lexicon)
    active = _active_read()
    assert (active.id, active.kind) == (lexicon.pk, "lexicon")
    with django_assert_num_queries(0):
        assert texts_score(["很好"], active=active) == LexiconScorer().score(["很好"])


def test_the_cached_scorer_follows_the_active_version(django_assert_num_queries):
    happy, sad = _trained(0.95), _trained(0.05)
    services._activate(happy)
    active = _active_read()
    assert active.id == happy.pk and active.trained_at is not None
    with django_assert_num_queries(1):  # the pipeline, once per process and version
        (first,) = texts_score(["anything"], active=active)
    with django_assert_num_queries(0):
        (again,) = texts_score(["anything"], active=active)
        scorer = scorer_of(active)
    assert first.label == again.label == "positive"
    assert isinstance(scorer, ModelScorer) and scorer is scorer_of(active)

    services._activate(sad)  # another model becomes active (in any process)
    switched = _active_read()
    assert switched.id == sad.pk
    (now,) = texts_score(["anything"], active=switched)
    assert now.label == "negative"
    # scorer_active (one query for the row) shares the same per-process pipeline
    with django_assert_num_queries(1):
        shared, version = services.scorer_active()
    assert version.pk == sad.pk and shared is scorer_of(switched)


def test_a_version_with_the_same_id_but_another_training_time_is_loaded_again():
    model = _trained(0.95)
    services._activate(model)
    active = _active_read()
    assert texts_score(["x"], active=active)[0].label == "positive"
    # a database reset can hand the same id to another model: the training time tells them apart
    SentimentModel.objects.filter(pk=model.pk).update(pipeline=pipeline_dump(ConstantPipeline(0.05)))
    assert texts_score(["x"], active=active)[0].label == "positive"  # same version: cached
    later = ActiveModel(model.pk, "trained", active.trained_at.replace(year=active.trained_at.year + 1))
    assert texts_score(["x"], active=later)[0].label == "negative"


def test_a_version_without_a_pipeline_falls_back_to_the_lexicon():
    broken = SentimentModel.objects.create(kind=SentimentModel.Kind.TRAINED)
    services._activate(broken)
    assert isinstance(scorer_of(_active_read()), LexiconScorer)
