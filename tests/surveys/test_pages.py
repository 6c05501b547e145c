"""The team's survey pages: list and create, the htmx builder (with and without htmx),
results, links, the profile panel; viewers read but cannot change."""

import pytest

from surveys.links import survey_token_read
from surveys.models import Choice, Question, Survey
from surveys.services import response_submit
from tests.factories import CustomerFactory
from tests.surveys.conftest import raw_answers

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_list_and_create(marketer_client, survey):
    html = marketer_client.get("/surveys/").content.decode()
    assert "How did we do?" in html and 'data-testid="new-survey-form"' in html
    created = marketer_client.post("/surveys/", {"title_en": "Returns", "title_zh": ""})
    survey_new = Survey.objects.get(title_en="Returns")
    assert created.status_code == 302 and created["Location"] == f"/surveys/{survey_new.pk}/edit/"
    assert marketer_client.post("/surveys/", {"title_en": " ", "title_zh": ""}).status_code == 400


def test_build_questions_with_htmx(marketer_client):
    survey = Survey.objects.create(title_en="Built")
    base = f"/surveys/{survey.pk}"
    listing = marketer_client.post(f"{base}/questions/", {"kind": "nps"}, **HTMX)
    assert 'data-testid="question-card"' in listing.content.decode() and "<html" not in listing.content.decode()
    marketer_client.post(f"{base}/questions/", {"kind": "multiple"}, **HTMX)
    nps, multiple = Question.objects.filter(survey=survey).order_by("position")
    assert multiple.choices.count() == 2  # starts with two options to fill in

    first, second = multiple.choices.order_by("position")
    card = marketer_client.post(
        f"{base}/questions/{multiple.pk}/choices/",
        {
            "text_en": "Colours?",
            "text_zh": "颜色？",
            "required": "on",
            f"choice-{first.pk}-en": "Red",
            f"choice-{first.pk}-zh": "红",
            f"choice-{second.pk}-en": "Blue",
            f"choice-{second.pk}-zh": "蓝",
        },
        **HTMX,
    )
    assert card.content.decode().count('data-testid="choice-row"') == 3
    multiple.refresh_from_db()
    assert (multiple.text_en, multiple.text_zh, multiple.required) == ("Colours?", "颜色？", True)
    third = multiple.choices.order_by("position").last()
    marketer_client.post(
        f"{base}/questions/{multiple.pk}/choices/{third.pk}/move/up/",
        {"text_en": "Colours?", f"choice-{third.pk}-en": "Green"},
        **HTMX,
    )
    assert list(multiple.choices.order_by("position").values_list("label_en", flat=True)) == ["Red", "Green", "Blue"]
    marketer_client.post(f"{base}/questions/{multiple.pk}/choices/{first.pk}/delete/", {"text_en": "Colours?"}, **HTMX)
    assert list(multiple.choices.order_by("position").values_list("label_en", flat=True)) == ["Green", "Blue"]

    marketer_client.post(f"{base}/questions/{multiple.pk}/move/up/", {"text_en": "Colours?"}, **HTMX)
    assert list(Question.objects.filter(survey=survey).order_by("position").values_list("pk", flat=True)) == [
        multiple.pk,
        nps.pk,
    ]
    saved = marketer_client.post(f"{base}/questions/{nps.pk}/", {"text_en": "Recommend?", "text_zh": "推荐？"}, **HTMX)
    assert 'value="Recommend?"' in saved.content.decode()
    nps.refresh_from_db()
    assert (nps.text_en, nps.required) == ("Recommend?", False)  # the unchecked box turns "required" off
    marketer_client.post(f"{base}/questions/{nps.pk}/delete/", **HTMX)
    assert list(Question.objects.filter(survey=survey).values_list("pk", flat=True)) == [multiple.pk]


def test_builder_works_without_htmx(marketer_client):
    survey = Survey.objects.create(title_en="Plain")
    added = marketer_client.post(f"/surveys/{survey.pk}/questions/", {"kind": "single"})
    assert added.status_code == 302 and added["Location"] == f"/surveys/{survey.pk}/edit/"
    question = Question.objects.get(survey=survey)
    marketer_client.post(f"/surveys/{question.survey_id}/questions/{question.pk}/choices/", {"text_en": "Size?"})
    assert Choice.objects.filter(question=question).count() == 3
    settings_saved = marketer_client.post(
        f"/surveys/{survey.pk}/edit/",
        {
            "title_en": "Plain survey",
            "title_zh": "普通",
            "thank_you_en": "Thank you!",
            "opens_at": "2026-01-01T09:00",
            "closes_at": "2025-01-01T09:00",
        },
    )
    assert (
        settings_saved.status_code == 400 and "The survey must close after it opens." in settings_saved.content.decode()
    )
    marketer_client.post(
        f"/surveys/{survey.pk}/edit/",
        {"title_en": "Plain survey", "title_zh": "普通", "thank_you_en": "Thank you!", "anonymous_enabled": "on"},
    )
    survey.refresh_from_db()
    assert (survey.title_en, survey.title_zh, survey.thank_you_en) == ("Plain survey", "普通", "Thank you!")


def test_viewer_reads_results_but_cannot_build(client, viewer, survey):
    client.force_login(viewer)
    assert client.get("/surveys/").status_code == 200
    assert 'data-testid="new-survey-form"' not in client.get("/surveys/").content.decode()
    assert client.get(f"/surveys/{survey.pk}/").status_code == 200
    assert client.get(f"/surveys/{survey.pk}/responses.csv").status_code == 200
    assert client.post("/surveys/", {"title_en": "Nope"}).status_code == 403
    assert client.get(f"/surveys/{survey.pk}/edit/").status_code == 403
    question = survey.questions.first()
    assert client.post(f"/surveys/{survey.pk}/questions/", {"kind": "nps"}).status_code == 403
    assert client.post(f"/surveys/{survey.pk}/questions/{question.pk}/delete/").status_code == 403
    assert client.get(f"/surveys/{survey.pk}/link/", {"customer": "x"}).status_code == 403
    assert client.post(f"/surveys/{survey.pk}/delete/").status_code == 403
    assert survey.questions.count() == 5 and Survey.objects.count() == 1


def test_personal_link_lookup(marketer_client, survey):
    customer = CustomerFactory(external_id="P-1")
    html = marketer_client.get(f"/surveys/{survey.pk}/link/", {"customer": "P-1"}, **HTMX).content.decode()
    link = html.split('data-testid="personal-link-url">')[1].split("<")[0]
    assert link.startswith("http://testserver/surveys/r/")
    assert survey_token_read(link.split("/surveys/r/")[1].rstrip("/")) == (survey.pk, customer.pk)
    assert marketer_client.get(f"/surveys/{survey.pk}/link/", {"customer": "none"}).status_code == 404


def test_responses_show_on_the_customers_profile(marketer_client, survey):
    customer = CustomerFactory(external_id="PR-1")
    before = marketer_client.get("/customers/PR-1/").content.decode()
    assert 'data-testid="customer-survey-responses"' not in before
    response_submit(
        survey=survey, raw=raw_answers(survey, nps=4, csat=2, text="Too slow"), channel="personal", customer=customer
    )
    html = marketer_client.get("/customers/PR-1/").content.decode()
    panel = html.split('data-testid="customer-survey-responses"')[1]
    assert "How did we do?" in panel
    assert '<dt>Would you recommend us?</dt><dd data-kind="nps">4' in panel
    assert '<dt>Delivery speed?</dt><dd data-kind="single">Fast' in panel
    assert "Too slow" in panel


def test_delete_survey(marketer_client, survey):
    assert marketer_client.post(f"/surveys/{survey.pk}/delete/").status_code == 302
    assert not Survey.objects.exists()
