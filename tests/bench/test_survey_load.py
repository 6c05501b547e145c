"""The pure parts of the survey submission benchmark: the load generator's reading of a
rendered response page (form, hidden fields, the CSRF cookie where there is one) and its answers, and the
hand-written reference's token check and validation. Behaviour only, no timings."""

import random

import pytest
from django.test import Client

from bench.survey_load import TEXTS, answers_pick, csrf_cookie, form_parse
from bench.survey_reference_wsgi import _answers, token_read
from surveys.links import survey_token
from surveys.models import QuestionKind, Response
from tests.factories import CustomerFactory
from tests.surveys.conftest import survey_build

pytestmark = pytest.mark.django_db


def _page(client: Client, path: str):
    page = client.get(path)
    assert page.status_code == 200
    return page, form_parse(page.content.decode())


def test_the_form_of_a_rendered_response_page_is_read_completely():
    survey = survey_build()
    customer = CustomerFactory()
    path = f"/surveys/r/{survey_token(survey.pk, customer.pk)}/"
    page, form = _page(Client(), path)
    questions = {q.kind: q for q in survey.questions.all()}
    assert form.action == path
    assert "csrfmiddlewaretoken" not in form.hidden  # the personal link is CSRF-exempt
    assert form.hidden["lang"] == "en"
    assert form.groups[f"q{questions[QuestionKind.NPS].pk}"] == [str(n) for n in range(11)]
    assert form.groups[f"q{questions[QuestionKind.CSAT].pk}"] == [str(n) for n in range(1, 6)]
    single = questions[QuestionKind.SINGLE]
    assert form.groups[f"q{single.pk}"] == [str(c.pk) for c in single.choices.all()]
    assert form.texts == [f"q{questions[QuestionKind.TEXT].pk}"]
    assert "csrftoken" not in page.cookies


def test_the_csrf_cookie_is_read_from_the_anonymous_form():
    survey = survey_build()
    page, form = _page(Client(), f"/surveys/a/{survey.public_token}/")
    assert form.hidden["csrfmiddlewaretoken"]
    assert form.hidden["nonce"]
    assert csrf_cookie([page.cookies["csrftoken"].OutputString()]) == page.cookies["csrftoken"].value
    assert csrf_cookie(["sessionid=x; Path=/", "csrftoken=abc; Path=/"]) == "abc"
    assert csrf_cookie(["sessionid=x; Path=/"]) is None


def test_answers_picked_from_the_page_are_accepted_with_csrf_checks_on():
    survey = survey_build()
    customer = CustomerFactory()
    path = f"/surveys/r/{survey_token(survey.pk, customer.pk)}/"
    _, form = _page(Client(), path)
    fields = answers_pick(form, random.Random(3), text_share=1.0)
    text_question = form.texts[0]
    assert fields[text_question] in TEXTS
    poster = Client(enforce_csrf_checks=True)  # a new client without cookies, as the load generator posts
    answered = poster.post(form.action, fields)
    assert answered.status_code == 302
    response = Response.objects.get(survey=survey, customer=customer)
    stored = {f"q{a.question_id}": a for a in response.answers.prefetch_related("choices")}
    for name in form.groups:
        answer = stored[name]
        value = str(answer.number) if answer.number is not None else str(answer.choices.get().pk)
        assert value == fields[name]
    assert stored[text_question].text == fields[text_question]


def test_an_anonymous_post_without_the_pages_csrf_cookie_is_refused():
    survey = survey_build()
    page, form = _page(Client(), f"/surveys/a/{survey.public_token}/")
    fields = answers_pick(form, random.Random(1))
    refused = Client(enforce_csrf_checks=True).post(form.action, fields)
    assert refused.status_code == 403
    poster = Client(enforce_csrf_checks=True)
    poster.cookies["csrftoken"] = csrf_cookie([page.cookies["csrftoken"].OutputString()])
    assert poster.post(form.action, fields).status_code == 302


def test_answers_pick_leaves_the_texts_empty_when_told_to():
    survey = survey_build()
    _, form = _page(Client(), f"/surveys/r/{survey_token(survey.pk, CustomerFactory().pk)}/")
    fields = answers_pick(form, random.Random(2), text_share=0.0)
    assert not set(form.texts) & set(fields)
    assert all(fields[name] in values for name, values in form.groups.items())


def test_the_reference_reads_the_products_tokens_and_refuses_tampered_ones(settings):
    token = survey_token(12, 34567)
    assert token_read(token, settings.SECRET_KEY) == (12, 34567)
    assert token_read(token, "another secret") is None
    assert token_read(token[:-1] + ("A" if token[-1] != "A" else "B"), settings.SECRET_KEY) is None
    assert token_read("garbage", settings.SECRET_KEY) is None


def test_the_reference_validates_like_the_form_asks():
    questions = [
        (1, "nps", True, frozenset()),
        (2, "csat", True, frozenset()),
        (3, "single", True, frozenset({7, 8})),
        (4, "text", False, frozenset()),
    ]
    good = {"q1": ["10"], "q2": ["1"], "q3": ["8"], "q4": ["很好"]}
    assert _answers(questions, good) == [(1, 10, "", []), (2, 1, "", []), (3, None, "", [8]), (4, None, "很好", [])]
    assert _answers(questions, good | {"q4": [""]})[-1] == (3, None, "", [8])
    assert _answers(questions, good | {"q1": ["11"]}) is None
    assert _answers(questions, good | {"q2": ["0"]}) is None
    assert _answers(questions, good | {"q3": ["9"]}) is None
    assert _answers(questions, good | {"q3": ["7", "8"]}) is None
    assert _answers(questions, {k: v for k, v in good.items() if k != "q2"}) is None
