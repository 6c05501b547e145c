"""The pure sentiment module: language, lexicon with negation and intensifiers, aspects
with their own sentiment, training and the metrics — checked against hand-written
expectations and independent counts, not against the module's own bookkeeping."""

import numpy as np
import pytest

from analytics.sentiment import model
from analytics.sentiment.model import LexiconScorer, language_detect, metrics_compute

lexicon = LexiconScorer()


def one(text):
    return lexicon.score([text])[0]


@pytest.mark.parametrize(
    ("text", "language"),
    [("物流很快", "zh"), ("Fast delivery", "en"), ("", "en"), ("iPhone 手机很好用", "zh"), ("OK 👍", "en"),
     ("The 质 box arrived very late and damaged", "en")],
)  # fmt: skip
def test_language_is_chinese_when_enough_letters_are_cjk(text, language):
    assert language_detect(text) == language


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("好", "positive"),
        ("不好", "negative"),
        ("质量很差", "negative"),
        ("不错", "positive"),  # a word of its own, not 不 + 错
        ("没有问题，很满意", "positive"),
        ("很不满意", "negative"),
        ("客服不理人", "negative"),
        ("good", "positive"),
        ("not good", "negative"),
        ("not bad", "positive"),
        ("I never had any problem with it", "positive"),
        ("It doesn't work and the seller was rude", "negative"),
        ("It's a phone.", "neutral"),
        ("这是一个杯子", "neutral"),
        ("", "neutral"),
    ],
)
def test_lexicon_labels_with_negation(text, label):
    assert one(text).label == label


def test_intensifiers_strengthen_and_softeners_weaken():
    assert one("很好").score > one("好").score > one("有点好").score > 0
    assert one("very bad").score < one("bad").score < one("a bit bad").score < 0


def test_negation_flips_and_damps_the_word():
    assert 0 < one("not bad").score < -one("bad").score
    assert one("不好").score < 0 < one("好").score


def test_aspects_carry_their_own_sentiment_in_chinese():
    scored = one("物流很快，但是质量很差")
    assert scored.language == "zh"
    assert set(scored.aspects) == {"logistics", "quality"}
    assert scored.aspects["logistics"] > 0 > scored.aspects["quality"]
    # The clause after 但是 weighs more: the whole text leans negative.
    assert scored.label == "negative"


def test_aspects_carry_their_own_sentiment_in_english():
    scored = one("Delivery was fast, but the packaging was damaged. Great value for money!")
    assert set(scored.aspects) == {"logistics", "packaging", "price"}
    assert scored.aspects["logistics"] > 0 and scored.aspects["price"] > 0 and scored.aspects["packaging"] < 0


def test_an_aspect_mentioned_twice_averages_its_clauses():
    both = one("客服很耐心。客服态度恶劣。")
    first, second = one("客服很耐心"), one("客服态度恶劣")
    assert both.aspects["service"] == pytest.approx((first.score + second.score) / 2, abs=1e-3)


def test_text_without_aspect_words_has_no_aspects():
    assert one("Love it!").aspects == {}


def test_metrics_match_a_hand_count():
    truth = ["positive"] * 6 + ["negative"] * 4
    predicted = ["positive", "positive", "positive", "positive", "negative", "neutral",
                 "negative", "negative", "negative", "positive"]  # fmt: skip
    m = metrics_compute(truth, predicted)
    # rows = truth (negative, positive), columns = predicted (negative, positive); neutral counts in neither
    assert m.confusion == [[3, 1], [1, 4]]
    assert m.accuracy == pytest.approx(7 / 10)
    assert m.precision["positive"] == pytest.approx(round(4 / 5, 4))
    assert m.recall["positive"] == pytest.approx(round(4 / 6, 4))
    assert m.precision["negative"] == pytest.approx(round(3 / 4, 4))
    assert m.recall["negative"] == pytest.approx(round(3 / 4, 4))
    p, r = 4 / 5, 4 / 6
    assert m.f1["positive"] == pytest.approx(round(2 * p * r / (p + r), 4))
    assert m.support == {"negative": 4, "positive": 6} and m.count == 10


def _generated_reviews(n: int, seed: int) -> tuple[list[str], list[str]]:
    """A small labelled set written here (not with the demo generator): positive and
    negative words in random filler, a few with the 'wrong' word to keep it imperfect."""
    rng = np.random.default_rng(seed)
    good = ["great", "excellent", "love", "fast", "好", "满意", "喜欢", "很快"]
    bad = ["awful", "broken", "slow", "refund", "差", "失望", "坏了", "太慢"]
    filler = ["the", "item", "box", "it", "was", "这个", "东西", "包裹", "then", "颜色"]
    texts, labels = [], []
    for i in range(n):
        positive = i % 2 == 0
        words = list(rng.choice(filler, 4)) + list(rng.choice(good if positive else bad, 2))
        if rng.random() < 0.1:
            words.append(str(rng.choice(bad if positive else good)))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append("positive" if positive else "negative")
    return texts, labels


def test_training_figures_equal_a_hand_count_of_the_held_out_predictions():
    texts, labels = _generated_reviews(400, seed=4)
    result = model.sentiment_train(texts, labels, test_size=0.25, seed=1)
    assert result.train_count == 300 and result.test_count == 100
    # stratified: the held-out quarter keeps the 50/50 balance
    assert result.test_labels.count("positive") == 50
    assert not set(result.test_texts) - set(texts)
    predicted = result.scorer.pipeline.predict(result.test_texts)  # sklearn's own labels, not our scores
    confusion = [[0, 0], [0, 0]]
    order = ["negative", "positive"]
    for truth, guess in zip(result.test_labels, predicted, strict=True):
        confusion[order.index(truth)][order.index(guess)] += 1
    assert result.held_out.confusion == confusion
    correct = confusion[0][0] + confusion[1][1]
    assert result.held_out.accuracy == pytest.approx(correct / 100)
    assert result.held_out.accuracy >= 0.8


def test_model_scores_agree_with_its_probabilities_and_labels():
    texts, labels = _generated_reviews(200, seed=9)
    result = model.sentiment_train(texts, labels, seed=0)
    scorer = result.scorer
    probe = ["great excellent love", "awful broken slow", "满意 喜欢", "差 失望"]
    scored = scorer.score(probe)
    p_positive = scorer.pipeline.predict_proba(probe)[:, list(scorer.pipeline.classes_).index("positive")]
    for s, p in zip(scored, p_positive, strict=True):
        assert s.score == pytest.approx(2 * p - 1, abs=1e-4)
        assert s.label == ("positive" if 2 * p - 1 >= 0.2 else "negative" if 2 * p - 1 <= -0.2 else "neutral")
    assert [s.label for s in scored] == ["positive", "negative", "positive", "negative"]


def test_rating_labels():
    assert [model.rating_label(r) for r in (1, 2, 3, 4, 5)] == ["negative", "negative", None, "positive", "positive"]


def test_shipped_lexicons_load_and_every_aspect_has_keywords_in_both_languages():
    for language in ("en", "zh"):
        lex = model.lexicon_load(language)
        assert lex.polarity and lex.negators and lex.intensifiers
        assert all(lex.aspects[aspect] for aspect in model.ASPECTS)
