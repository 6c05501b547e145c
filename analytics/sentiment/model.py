"""Sentiment and aspects of review, survey and transcript texts, in Chinese and English.

Pure computation over lists of strings: no Django, so it is tested and benchmarked with
plain lists. Two scorers share one result type (``TextScore``):

* ``LexiconScorer``: the shipped word lists (``lexicons/``) with negation (不/没/not/never)
  and intensifiers (很/非常/very); the fallback when the shop has too few rated reviews.
* ``ModelScorer``: a scikit-learn pipeline (TF-IDF over words and character n-grams →
  logistic regression) trained on the shop's own rated reviews (``sentiment_train``).

Aspects (quality, logistics, service, price, packaging) are found by keyword in each clause;
an aspect's sentiment is the mean sentiment of the clauses that mention it (lexicon words where
the clause has some, else the model), so "物流很快，但是质量很差" gives logistics > 0, quality < 0.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np

POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"
LABELS = (NEGATIVE, NEUTRAL, POSITIVE)
BINARY_LABELS = (NEGATIVE, POSITIVE)  # what the model is trained and measured on
ASPECTS = ("quality", "logistics", "service", "price", "packaging")
LANGUAGES = ("en", "zh")

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
# A text is Chinese when at least this share of its letters are CJK ideographs.
CJK_SHARE = 0.2
# Lexicon: |score| below this is neutral (VADER uses 0.05 on a similar scale).
LEXICON_NEUTRAL = 0.05
# Model: score = 2·P(positive) − 1; |score| below this (P within 0.4..0.6) is neutral.
MODEL_NEUTRAL = 0.2
# Normalisation of the summed lexicon weights into −1..1: s / sqrt(s² + ALPHA).
LEXICON_ALPHA = 4.0
NEGATION_FACTOR = -0.6  # "not good" is less negative than "bad" is
NEGATION_WINDOW = 3  # a negator reaches this many tokens ahead
CONTRAST_WEIGHT = 1.5  # the clause after "but / 但是" counts more
MAX_TEXT_CHARS = 5000

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_EN_TOKEN = re.compile(r"[a-z]+(?:[-'][a-z]+)*|n't")
# Clauses end at punctuation; contrast words also start a new clause.
_CLAUSE_SPLIT = re.compile(r"[，,。.!！?？;；:：\n、~…]+")
_CONTRAST_EN = re.compile(r"\b(?:but|however|although|though|yet)\b", re.IGNORECASE)
_CONTRAST_ZH = re.compile(r"(?:但是|但|可是|不过|然而|却)")


@dataclass(frozen=True)
class TextScore:
    """Sentiment of one text: ``label`` positive/neutral/negative, ``score`` in −1..1,
    ``language`` en/zh, ``aspects`` aspect → sentiment in −1..1 (only aspects mentioned)."""

    label: str
    score: float
    language: str
    aspects: dict[str, float] = field(default_factory=dict)


# --- language and tokens ------------------------------------------------------------------


def language_detect(text: str) -> str:
    """ "zh" when CJK ideographs are at least CJK_SHARE of the letters, else "en"."""
    letters = len(_LETTER.findall(text or ""))
    if not letters:
        return "en"
    return "zh" if len(_CJK.findall(text)) / letters >= CJK_SHARE else "en"


@cache
def _jieba():
    import jieba  # imported on first use: loading its dictionary takes about a second

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _english_tokens(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    text = re.sub(r"(\w)n't\b", r"\1 n't", text)
    return _EN_TOKEN.findall(text)


def tokenize(text: str) -> list[str]:
    """Words of a text: jieba for Chinese runs, lower-case words for the rest. Module-level
    (not a lambda) so that a fitted pipeline that uses it can be pickled."""
    tokens: list[str] = []
    for run in re.split(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)", text or ""):
        if not run:
            continue
        if _CJK.match(run):
            tokens.extend(_jieba().lcut(run))
        else:
            tokens.extend(_english_tokens(run))
    return tokens


def word_features(text: str) -> list[str]:
    """Unigrams and bigrams of ``tokenize``: the word analyzer of the model."""
    tokens = tokenize(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def clauses_split(text: str) -> list[tuple[str, float]]:
    """Clauses of a text with their weight (CONTRAST_WEIGHT after but/但是, else 1)."""
    out: list[tuple[str, float]] = []
    for chunk in _CLAUSE_SPLIT.split(text or ""):
        pieces = _CONTRAST_ZH.split(chunk) if _CJK.search(chunk) else _CONTRAST_EN.split(chunk)
        for position, piece in enumerate(pieces):
            piece = piece.strip()
            if piece:
                out.append((piece, CONTRAST_WEIGHT if position > 0 else 1.0))
    return out


# --- lexicons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lexicon:
    """One language's word lists: polarity (word → signed weight), negators, intensifiers
    (word → multiplier), neutral words, and aspect keywords (aspect → keywords)."""

    language: str
    polarity: dict[str, float]
    negators: frozenset[str]
    intensifiers: dict[str, float]
    neutral: frozenset[str]
    aspects: dict[str, tuple[str, ...]]

    # Worked out once per lexicon (they are cached by lexicon_load), not once per clause:
    # on a survey post these two were most of the scoring time.
    @cached_property
    def known(self) -> frozenset[str]:
        """Every entry the longest match looks for."""
        return frozenset(self.polarity.keys() | self.negators | self.intensifiers.keys() | self.neutral)

    @cached_property
    def longest(self) -> int:
        """The longest entry, in words (English) or characters (Chinese)."""
        return max((len(w.split()) if self.language == "en" else len(w)) for w in self.known)


def _rows(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


@cache
def lexicon_load(language: str, directory: str | None = None) -> Lexicon:
    """The shipped lexicon of one language (cached)."""
    base = Path(directory) if directory else LEXICON_DIR
    polarity: dict[str, float] = {}
    negators: set[str] = set()
    intensifiers: dict[str, float] = {}
    neutral: set[str] = set()
    for kind, word, weight in _rows(base / f"{language}.tsv"):
        word = word.lower()
        if kind == "pos":
            polarity[word] = float(weight)
        elif kind == "neg":
            polarity[word] = -float(weight)
        elif kind == "negator":
            negators.add(word)
        elif kind == "intensifier":
            intensifiers[word] = float(weight)
        elif kind == "neutral":
            neutral.add(word)
        else:
            raise ValueError(f"{base / f'{language}.tsv'}: unknown kind {kind!r}")
    aspects: dict[str, list[str]] = {aspect: [] for aspect in ASPECTS}
    for aspect, lang, keyword in _rows(base / "aspects.tsv"):
        if lang == language:
            aspects[aspect].append(keyword.lower())
    return Lexicon(
        language=language,
        polarity=polarity,
        negators=frozenset(negators),
        intensifiers=intensifiers,
        neutral=frozenset(neutral),
        aspects={aspect: tuple(words) for aspect, words in aspects.items()},
    )


def _units(clause: str, lexicon: Lexicon) -> list[str]:
    """The clause cut into lexicon entries by longest match (other tokens kept as they are):
    over characters for Chinese, over word tokens for English."""
    known = lexicon.known
    longest = lexicon.longest
    if lexicon.language == "zh":
        items: list[str] = list(clause)
        joiner = ""
    else:
        items = _english_tokens(clause)
        joiner = " "
    units, i = [], 0
    while i < len(items):
        for size in range(min(longest, len(items) - i), 0, -1):
            candidate = joiner.join(items[i : i + size])
            if candidate in known:
                units.append(candidate)
                i += size
                break
        else:
            units.append(items[i])
            i += 1
    return units


def clause_lexicon_sum(clause: str, lexicon: Lexicon) -> float:
    """Summed polarity of a clause: each polar word's weight, times the intensifier just
    before it, flipped and damped (NEGATION_FACTOR) when a negator precedes it within
    NEGATION_WINDOW units."""
    units = _units(clause.lower(), lexicon)
    total = 0.0
    for i, unit in enumerate(units):
        weight = lexicon.polarity.get(unit)
        if weight is None:
            continue
        before = units[max(0, i - NEGATION_WINDOW) : i]
        for word in before:
            if word in lexicon.intensifiers:
                weight *= lexicon.intensifiers[word]
        if any(word in lexicon.negators for word in before):
            weight *= NEGATION_FACTOR
        total += weight
    return total


def lexicon_normalise(total: float) -> float:
    return total / math.sqrt(total * total + LEXICON_ALPHA)


def aspects_in(clause: str, lexicon: Lexicon) -> list[str]:
    """Aspects whose keywords occur in the clause (substring for Chinese, whole words or
    phrases for English)."""
    lowered = clause.lower()
    if lexicon.language == "zh":
        return [aspect for aspect, words in lexicon.aspects.items() if any(w in lowered for w in words)]
    padded = " " + " ".join(_english_tokens(lowered)) + " "
    return [aspect for aspect, words in lexicon.aspects.items() if any(f" {w} " in padded for w in words)]


def label_for(score: float, neutral_band: float) -> str:
    if score >= neutral_band:
        return POSITIVE
    if score <= -neutral_band:
        return NEGATIVE
    return NEUTRAL


# --- scorers ------------------------------------------------------------------------------


class LexiconScorer:
    """Rule-based sentiment from the shipped lexicons; needs no training."""

    kind = "lexicon"
    neutral_band = LEXICON_NEUTRAL

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory

    def lexicon(self, language: str) -> Lexicon:
        return lexicon_load(language, self.directory)

    def text_scores(self, texts: Sequence[str]) -> np.ndarray:
        """Score in −1..1 per text (weighted clause sums, normalised)."""
        scores = np.zeros(len(texts))
        for i, text in enumerate(texts):
            lexicon = self.lexicon(language_detect(text))
            total = sum(w * clause_lexicon_sum(c, lexicon) for c, w in clauses_split(text[:MAX_TEXT_CHARS]))
            scores[i] = lexicon_normalise(total)
        return scores

    def clause_scores(self, clauses: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        return np.array(
            [
                lexicon_normalise(clause_lexicon_sum(c, self.lexicon(lang)))
                for c, lang in zip(clauses, languages, strict=True)
            ]
        )

    def score(self, texts: Sequence[str]) -> list[TextScore]:
        return _texts_score(self, texts)


class ModelScorer:
    """Sentiment from a fitted pipeline whose classes are negative/positive; the lexicon
    still supplies the aspect keywords."""

    kind = "trained"
    neutral_band = MODEL_NEUTRAL

    def __init__(self, pipeline: Any, directory: str | None = None) -> None:
        self.pipeline = pipeline
        self.directory = directory
        classes = list(pipeline.classes_)
        self._positive = classes.index(POSITIVE)

    def lexicon(self, language: str) -> Lexicon:
        return lexicon_load(language, self.directory)

    def text_scores(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros(0)
        clipped = [(t or "")[:MAX_TEXT_CHARS] for t in texts]
        return 2.0 * self.pipeline.predict_proba(clipped)[:, self._positive] - 1.0

    def clause_scores(self, clauses: Sequence[str], languages: Sequence[str]) -> np.ndarray:
        """A clause is a few words: where the lexicon finds polar words in it, its reading
        is used; the model (trained on whole reviews) scores the clauses it has no word for."""
        sums = np.array([clause_lexicon_sum(c, self.lexicon(lang)) for c, lang in zip(clauses, languages, strict=True)])
        scores = self.text_scores(clauses)
        known = sums != 0
        scores[known] = [lexicon_normalise(total) for total in sums[known]]
        return scores

    def score(self, texts: Sequence[str]) -> list[TextScore]:
        return _texts_score(self, texts)


Scorer = LexiconScorer | ModelScorer


def _texts_score(scorer: Scorer, texts: Sequence[str]) -> list[TextScore]:
    """Whole-text scores in one vectorised call, then every aspect-bearing clause of every
    text in a second call (see ``clause_scores``); an aspect's sentiment is the mean of its clauses' scores."""
    texts = [t or "" for t in texts]
    languages = [language_detect(t) for t in texts]
    scores = scorer.text_scores(texts)
    owners: list[tuple[int, str]] = []
    clauses: list[str] = []
    clause_langs: list[str] = []
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        lexicon = scorer.lexicon(language)
        for clause, _weight in clauses_split(text[:MAX_TEXT_CHARS]):
            for aspect in aspects_in(clause, lexicon):
                owners.append((i, aspect))
                clauses.append(clause)
                clause_langs.append(language)
    clause_values = scorer.clause_scores(clauses, clause_langs) if clauses else np.zeros(0)
    sums: list[dict[str, list[float]]] = [{} for _ in texts]
    for (i, aspect), value in zip(owners, clause_values, strict=True):
        sums[i].setdefault(aspect, []).append(float(value))
    results = []
    for i, text in enumerate(texts):
        score = float(np.clip(scores[i], -1.0, 1.0)) if text.strip() else 0.0
        aspects = {a: round(float(np.mean(v)), 4) for a, v in sums[i].items()}
        results.append(TextScore(label=label_for(score, scorer.neutral_band), score=round(score, 4),
                                 language=languages[i], aspects=aspects))  # fmt: skip
    return results


# --- training and metrics -----------------------------------------------------------------


def rating_label(rating: int) -> str | None:
    """The training label of a star rating: ≥ 4 positive, ≤ 2 negative, 3 unused."""
    if rating >= 4:
        return POSITIVE
    if rating <= 2:
        return NEGATIVE
    return None


def pipeline_build(seed: int = 0):
    """TF-IDF over words (jieba for Chinese) and character 1–3-grams, then a balanced
    logistic regression: character n-grams carry 不好/not-good style negation and work
    for both languages without a stemmer."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        ("words", TfidfVectorizer(analyzer=word_features, sublinear_tf=True, min_df=1,
                                                  max_features=50_000)),
                        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True,
                                                  lowercase=True, min_df=2, max_features=100_000)),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced", random_state=seed)),
        ]
    )  # fmt: skip


@dataclass(frozen=True)
class Metrics:
    """Binary classification figures (labels negative/positive). ``confusion[i][j]`` counts
    texts whose true label is BINARY_LABELS[i] and predicted label BINARY_LABELS[j]."""

    accuracy: float
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    confusion: list[list[int]]
    support: dict[str, int]
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "confusion": self.confusion,
            "labels": list(BINARY_LABELS),
            "support": self.support,
            "count": self.count,
        }


def metrics_compute(truth: Sequence[str], predicted: Sequence[str]) -> Metrics:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix; a predicted
    "neutral" is counted as wrong (it is neither class)."""
    truth_arr = np.asarray(truth, dtype=object)
    pred_arr = np.asarray(predicted, dtype=object)
    confusion = [[int(np.sum((truth_arr == t) & (pred_arr == p))) for p in BINARY_LABELS] for t in BINARY_LABELS]
    precision, recall, f1, support = {}, {}, {}, {}
    for label in BINARY_LABELS:
        tp = int(np.sum((truth_arr == label) & (pred_arr == label)))
        predicted_n = int(np.sum(pred_arr == label))
        actual_n = int(np.sum(truth_arr == label))
        p = tp / predicted_n if predicted_n else 0.0
        r = tp / actual_n if actual_n else 0.0
        precision[label] = round(p, 4)
        recall[label] = round(r, 4)
        f1[label] = round(2 * p * r / (p + r), 4) if p + r else 0.0
        support[label] = actual_n
    count = len(truth_arr)
    accuracy = float(np.sum(truth_arr == pred_arr)) / count if count else 0.0
    return Metrics(accuracy=round(accuracy, 4), precision=precision, recall=recall, f1=f1,
                   confusion=confusion, support=support, count=count)  # fmt: skip


def binary_predictions(scores: np.ndarray) -> list[str]:
    """Measured labels: positive when score ≥ 0 (P(positive) ≥ 0.5), else negative. The
    neutral band is for display; accuracy is measured on the two trained classes."""
    return [POSITIVE if s >= 0 else NEGATIVE for s in scores]


def scorer_evaluate(scorer: Scorer, texts: Sequence[str], labels: Sequence[str]) -> Metrics:
    return metrics_compute(labels, binary_predictions(scorer.text_scores(list(texts))))


@dataclass
class TrainResult:
    scorer: ModelScorer
    held_out: Metrics
    lexicon_held_out: Metrics  # the fallback measured on the same held-out texts
    train_count: int
    test_count: int
    test_texts: list[str]
    test_labels: list[str]


Progress = Callable[[float, str], None]


def sentiment_train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    test_size: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
) -> TrainResult:
    """Fit the pipeline on a stratified (1 − test_size) share of the labelled texts and
    measure it, and the lexicon, on the rest. The stored model is the one fitted on the
    training share, so its figures describe exactly what is used."""
    from sklearn.model_selection import train_test_split

    texts = [(t or "")[:MAX_TEXT_CHARS] for t in texts]
    train_x, test_x, train_y, test_y = train_test_split(
        texts, list(labels), test_size=test_size, random_state=seed, stratify=list(labels)
    )
    if progress:
        progress(0.1, "split")
    pipeline = pipeline_build(seed).fit(train_x, train_y)
    if progress:
        progress(0.7, "fitted")
    scorer = ModelScorer(pipeline)
    held_out = scorer_evaluate(scorer, test_x, test_y)
    lexicon_held_out = scorer_evaluate(LexiconScorer(), test_x, test_y)
    if progress:
        progress(1.0, "measured")
    return TrainResult(scorer=scorer, held_out=held_out, lexicon_held_out=lexicon_held_out,
                       train_count=len(train_x), test_count=len(test_x),
                       test_texts=test_x, test_labels=test_y)  # fmt: skip
