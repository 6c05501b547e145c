"""Results (NPS, CSAT, choices per week, free text with sentiment) and the CSV export,
checked against hand computations on a few responses."""

import csv
import datetime as dt
import io

import pytest

from analytics.sentiment import services as sentiment_services
from surveys.models import Answer
from surveys.selectors import survey_responses_frame, survey_results
from surveys.services import answers_sentiment_fill, response_submit
from tests.factories import CustomerFactory
from tests.surveys.conftest import choice_ids, raw_answers

pytestmark = pytest.mark.django_db
MONDAY = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)  # a Monday

# (nps, csat, single choice index, multiple choice indexes, days after MONDAY)
ANSWERS = [
    (10, 5, 0, (0, 1), 0),
    (9, 4, 0, (0,), 2),
    (8, 4, 1, (), 6),
    (6, 2, 1, (2,), 7),
    (0, 1, 0, (0, 2), 9),
]


@pytest.fixture
def answered(survey):
    for i, (nps, csat, single, multiple, days) in enumerate(ANSWERS):
        response_submit(
            survey=survey,
            raw=raw_answers(survey, nps=nps, csat=csat, single=single, multiple=multiple),
            channel="personal",
            customer=CustomerFactory(external_id=f"A{i}"),
            now=MONDAY + dt.timedelta(days=days),
        )
    return survey


def by_kind(results):
    return {result.question.kind: result for result in results.questions}


def test_nps_and_csat(answered):
    results = by_kind(survey_results(survey=answered))
    nps = results["nps"].nps
    # promoters 10, 9 → 2 of 5; passives 8 → 1; detractors 6, 0 → 2
    assert (nps.promoters, nps.passives, nps.detractors) == (2, 1, 2)
    assert nps.nps == pytest.approx(100 * 2 / 5 - 100 * 2 / 5)
    csat = results["csat"].csat
    assert csat.mean == pytest.approx((5 + 4 + 4 + 2 + 1) / 5)
    assert csat.satisfied_percent == pytest.approx(100 * 3 / 5)
    assert results["csat"].rating_counts == {5: 1, 4: 2, 2: 1, 1: 1}


def test_choice_distributions_in_total_and_per_week(answered):
    results = by_kind(survey_results(survey=answered))
    single = results["single"]
    assert [(c.label, c.count) for c in single.choices] == [("Fast", 3), ("Slow", 2)]
    assert [c.percent for c in single.choices] == pytest.approx([60.0, 40.0])
    # week of June 1: days 0, 2, 6 · week of June 8: days 7, 9
    assert single.weeks == [dt.date(2026, 6, 1), dt.date(2026, 6, 8)]
    fast, slow = choice_ids(answered, "single")
    assert single.weekly == {fast: [2, 1], slow: [1, 1]}

    multiple = results["multiple"]
    assert multiple.answered == 4  # one response left it empty
    assert [(c.label, c.count) for c in multiple.choices] == [("Shoes", 3), ("Bags", 1), ("Books", 2)]
    assert [c.percent for c in multiple.choices] == pytest.approx([75.0, 25.0, 50.0])
    shoes, bags, books = choice_ids(answered, "multiple")
    assert multiple.weekly == {shoes: [2, 1], bags: [1, 0], books: [0, 2]}


def test_chinese_labels(answered):
    results = by_kind(survey_results(survey=answered, language="zh-hans"))
    assert results["nps"].text == "您会推荐我们吗？"
    assert [c.label for c in results["single"].choices] == ["快", "慢"]


def test_free_text_is_stored_and_listed_with_its_sentiment(survey, monkeypatch, marketer_client):
    calls = []

    def fake_texts_score(texts, active=None):
        calls.append(list(texts))
        return [
            sentiment_services.TextScore(label="negative", score=-0.75, language="en", aspects={"logistics": -0.9})
            for _ in texts
        ]

    monkeypatch.setattr(sentiment_services, "texts_score", fake_texts_score)
    response_submit(
        survey=survey,
        raw=raw_answers(survey, text="The parcel came late"),
        channel="personal",
        customer=CustomerFactory(external_id="T1"),
    )
    assert calls == [["The parcel came late"]]
    stored = Answer.objects.get(question__kind="text")
    assert (stored.sentiment_label, stored.sentiment_score) == ("negative", -0.75)
    texts = by_kind(survey_results(survey=survey))["text"].texts
    assert [(t.text, t.customer_external_id, t.sentiment_label) for t in texts] == [
        ("The parcel came late", "T1", "negative")
    ]
    html = marketer_client.get(f"/surveys/{survey.pk}/").content.decode()
    assert 'data-testid="sentiment">negative -0.75</span>' in html


def test_free_text_with_the_real_sentiment_model(survey):
    response_submit(
        survey=survey,
        raw=raw_answers(survey, text="Terrible quality, very disappointed"),
        channel="personal",
        customer=CustomerFactory(),
    )
    stored = Answer.objects.get(question__kind="text")
    expected = sentiment_services.texts_score(["Terrible quality, very disappointed"])[0]
    assert (stored.sentiment_label, stored.sentiment_score) == (expected.label, pytest.approx(expected.score))
    assert stored.sentiment_label in {"positive", "neutral", "negative"}


def test_csv_has_one_row_per_response_and_one_column_per_question(answered, marketer_client):
    response_submit(
        survey=answered,
        raw=raw_answers(answered, nps=5, text="Ok, 还行"),
        channel="anonymous",
        nonce="anon-1",
        now=MONDAY + dt.timedelta(days=10),
    )
    page = marketer_client.get(f"/surveys/{answered.pk}/responses.csv")
    assert page["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(page.content.decode("utf-8-sig"))))
    assert len(rows) == 6
    assert list(rows[0])[6:] == [
        "Q1 Would you recommend us?",
        "Q2 How satisfied are you?",
        "Q3 Delivery speed?",
        "Q4 What did you buy?",
        "Q5 Anything else?",
    ]
    first = rows[0]
    assert (first["customer_id"], first["Q1 Would you recommend us?"], first["Q2 How satisfied are you?"]) == (
        "A0",
        "10",
        "5",
    )
    assert (first["Q3 Delivery speed?"], first["Q4 What did you buy?"]) == ("Fast", "Shoes; Bags")
    assert rows[2]["Q4 What did you buy?"] == ""
    last = rows[-1]
    assert (last["customer_id"], last["channel"], last["Q5 Anything else?"]) == ("", "anonymous", "Ok, 还行")
    assert len(survey_responses_frame(survey=answered)) == 6


def test_results_page_shows_the_figures_and_chart_data(answered, marketer_client):
    html = marketer_client.get(f"/surveys/{answered.pk}/").content.decode()
    assert 'data-testid="response-count">5<' in html
    assert 'data-testid="nps">0.0<' in html
    assert 'data-testid="csat-mean">3.20<' in html
    assert '"type": "weekly"' in html and '"labels": ["2026-06-01", "2026-06-08"]' in html


def test_a_failing_scorer_loses_no_answer_and_the_texts_are_scored_later(survey, monkeypatch):
    def broken(texts, active=None):
        raise RuntimeError("model file missing")

    monkeypatch.setattr(sentiment_services, "texts_score", broken)
    response_submit(
        survey=survey, raw=raw_answers(survey, text="Love it"), channel="personal", customer=CustomerFactory()
    )
    stored = Answer.objects.get(question__kind="text")
    assert (stored.text, stored.sentiment_label, stored.sentiment_score) == ("Love it", "", None)

    monkeypatch.setattr(
        sentiment_services,
        "texts_score",
        lambda texts, active=None: [
            sentiment_services.TextScore(label="positive", score=0.9, language="en", aspects={}) for _ in texts
        ],
    )
    assert answers_sentiment_fill() == 1
    stored.refresh_from_db()
    assert (stored.sentiment_label, stored.sentiment_score) == ("positive", 0.9)
    assert answers_sentiment_fill() == 0
