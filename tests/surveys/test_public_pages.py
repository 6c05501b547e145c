"""The public response pages: personalised and anonymous links, validation, one response
per customer, double posts, the rate limit and closed surveys."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from surveys.links import survey_link, survey_token
from surveys.models import Answer, Response
from tests.factories import CustomerFactory
from tests.surveys.conftest import choice_ids, question_ids, raw_answers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def form_data(raw: dict[int, list[str]], **extra) -> dict:
    return {**{f"q{question_id}": values for question_id, values in raw.items()}, **extra}


def nonce_of(page) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', page.content.decode()).group(1)


def test_personal_link_shows_the_survey_without_login(client, survey):
    customer = CustomerFactory()
    page = client.get(survey_link(survey, customer))
    assert page.status_code == 200
    html = page.content.decode()
    assert "How did we do?" in html and "Would you recommend us?" in html
    assert 'name="nonce"' not in html  # personalised forms need no nonce: the customer is the key
    assert "<script" not in html  # works without JavaScript


def test_personal_link_needs_no_csrf_cookie_but_the_anonymous_link_does(survey):
    """The personal link's signed token is the credential (docs/surveys.md, "CSRF"): its
    form carries no CSRF token and sets no cookie, and a post from anywhere with the token
    is accepted; the anonymous form keeps Django's CSRF check."""
    customer = CustomerFactory()
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(survey_link(survey, customer))
    assert "csrfmiddlewaretoken" not in page.content.decode()
    assert "csrftoken" not in page.cookies
    posted = Client(enforce_csrf_checks=True).post(survey_link(survey, customer), form_data(raw_answers(survey)))
    assert posted.status_code == 302
    assert Response.objects.filter(survey=survey, customer=customer).count() == 1
    link = survey_link(survey, customer)
    tampered = link[:-2] + ("A" if link[-2] != "A" else "B") + "/"
    assert Client(enforce_csrf_checks=True).post(tampered, {}).status_code == 404  # still the token's check

    anonymous = f"/surveys/a/{survey.public_token}/"
    page = browser.get(anonymous)
    assert "csrfmiddlewaretoken" in page.content.decode()
    fields = form_data(raw_answers(survey), nonce=nonce_of(page))
    assert Client(enforce_csrf_checks=True).post(anonymous, fields).status_code == 403
    assert Response.objects.filter(survey=survey, customer=None).count() == 0


def test_second_submit_of_a_personal_link_updates_the_response(client, survey):
    customer = CustomerFactory()
    link = survey_link(survey, customer)
    first = client.post(link, form_data(raw_answers(survey, nps=10, csat=5, text="Great")))
    assert first.status_code == 302
    assert client.get(first["Location"]).content.decode().count("Thanks a lot!") == 1
    response = Response.objects.get(survey=survey, customer=customer)

    again = client.get(link).content.decode()
    assert 'data-testid="answered-before"' in again
    assert re.search(rf'name="q{question_ids(survey)["nps"]}" value="10" checked', again)

    client.post(link, form_data(raw_answers(survey, nps=2, csat=1, single=1, multiple=(1, 2))))
    assert Response.objects.filter(survey=survey, customer=customer).count() == 1
    updated = Response.objects.get(survey=survey, customer=customer)
    assert updated.pk == response.pk
    assert updated.submitted_at == response.submitted_at and updated.updated_at > response.updated_at
    numbers = dict(
        Answer.objects.filter(response=updated, number__isnull=False).values_list("question__kind", "number")
    )
    assert numbers == {"nps": 2, "csat": 1}
    multiple = Answer.objects.get(response=updated, question__kind="multiple")
    assert sorted(multiple.choices.values_list("pk", flat=True)) == choice_ids(survey, "multiple")[1:]
    assert not Answer.objects.filter(response=updated, question__kind="text").exists()  # the old text is replaced


def test_tampered_or_unknown_tokens_are_404(client, survey):
    customer = CustomerFactory()
    token = survey_token(survey.pk, customer.pk)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/surveys/r/{tampered}/").status_code == 404
    assert client.post(f"/surveys/r/{tampered}/", {}).status_code == 404
    other_survey_same_signature = token.replace(
        token.split(":")[0], survey_token(survey.pk + 1, customer.pk).split(":")[0]
    )
    assert client.get(f"/surveys/r/{other_survey_same_signature}/").status_code == 404
    assert client.get("/surveys/r/not-a-token/").status_code == 404
    assert client.get(f"/surveys/r/{survey_token(survey.pk, customer.pk + 999)}/").status_code == 404
    assert client.get("/surveys/a/no-such-survey/").status_code == 404
    assert Response.objects.count() == 0


def test_validation_errors_are_shown_next_to_their_question(client, survey):
    ids = question_ids(survey)
    link = survey_link(survey, CustomerFactory())
    page = client.post(link, {f"q{ids['nps']}": "12", f"q{ids['single']}": "999999"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "3 answers need your attention." in html
    for kind, message in [
        ("nps", "Choose a number from 0 to 10."),
        ("csat", "Please answer this question."),
        ("single", "Choose one of the options shown."),
    ]:
        fieldset = re.search(rf'<fieldset[^>]*id="question-{ids[kind]}".*?</fieldset>', html, re.S).group(0)
        assert 'aria-invalid="true"' in fieldset
        assert message in fieldset
    text_fieldset = re.search(rf'<fieldset[^>]*id="question-{ids["text"]}".*?</fieldset>', html, re.S).group(0)
    assert "field-error" not in text_fieldset
    assert Response.objects.count() == 0


def test_anonymous_double_post_makes_one_response(client, survey):
    url = f"/surveys/a/{survey.public_token}/"
    nonce = nonce_of(client.get(url))
    data = form_data(raw_answers(survey, nps=7), nonce=nonce)
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the double click: same thank-you page
    assert Response.objects.filter(survey=survey).count() == 1
    assert Response.objects.get().customer is None

    client.post(url, form_data(raw_answers(survey, nps=8), nonce=nonce_of(client.get(url))))
    assert Response.objects.filter(survey=survey).count() == 2


def test_anonymous_post_without_a_genuine_nonce_is_refused(client, survey):
    url = f"/surveys/a/{survey.public_token}/"
    page = client.post(url, form_data(raw_answers(survey), nonce="made-up"))
    assert page.status_code == 400
    assert "This form has expired" in page.content.decode()
    assert Response.objects.count() == 0


def test_anonymous_posts_are_rate_limited_per_address(client, survey, settings):
    settings.PRECIS_SURVEY_ANONYMOUS_POSTS_PER_HOUR = 3
    url = f"/surveys/a/{survey.public_token}/"
    statuses = [
        client.post(
            url, form_data(raw_answers(survey), nonce=nonce_of(client.get(url))), REMOTE_ADDR="203.0.113.7"
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert Response.objects.count() == 3
    refused = client.post(
        url, form_data(raw_answers(survey), nonce=nonce_of(client.get(url))), REMOTE_ADDR="203.0.113.7"
    )
    assert refused.status_code == 429
    assert "Too many answers were sent from your network" in refused.content.decode()
    other = client.post(
        url, form_data(raw_answers(survey), nonce=nonce_of(client.get(url))), REMOTE_ADDR="198.51.100.2"
    )
    assert other.status_code == 302
    assert Response.objects.count() == 4


def test_closed_and_not_yet_open_surveys_show_a_clear_page(client, survey):
    customer = CustomerFactory()
    link = survey_link(survey, customer)
    survey.closes_at = timezone.now() - dt.timedelta(minutes=1)
    survey.save()
    closed = client.get(link)
    assert closed.status_code == 200
    assert (
        'data-testid="survey-closed"' in closed.content.decode() and "This survey is closed." in closed.content.decode()
    )
    assert client.post(link, form_data(raw_answers(survey))).status_code == 409
    anonymous = client.get(f"/surveys/a/{survey.public_token}/").content.decode()
    assert "This survey is closed." in anonymous

    survey.closes_at = None
    survey.opens_at = timezone.now() + dt.timedelta(days=1)
    survey.save()
    assert "This survey is not open yet." in client.get(link).content.decode()
    assert Response.objects.count() == 0


def test_the_page_speaks_the_customers_language_and_falls_back_to_the_other(client, survey):
    customer = CustomerFactory(attributes={"language": "zh-CN"})
    question = survey.questions.get(kind="csat")
    question.text_zh = ""  # not translated: the English text stands in
    question.save()
    html = client.get(survey_link(survey, customer)).content.decode()
    assert "您的体验如何？" in html and "您会推荐我们吗？" in html
    assert "How satisfied are you?" in html
    english = client.get(survey_link(survey, customer) + "?lang=en").content.decode()
    assert "Would you recommend us?" in english


def test_browser_language_decides_for_the_anonymous_link(client, survey):
    html = client.get(f"/surveys/a/{survey.public_token}/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "您会推荐我们吗？" in html


def test_anonymous_link_can_be_switched_off(client, survey):
    survey.anonymous_enabled = False
    survey.save()
    assert client.get(f"/surveys/a/{survey.public_token}/").status_code == 404


def test_a_personal_link_without_its_last_slash_is_redirected_to_the_form(client, survey):
    """The personal link skips most middleware (surveys.middleware), but not for addresses
    it cannot resolve: CommonMiddleware still adds a missing trailing slash."""
    link = survey_link(survey, CustomerFactory())
    response = client.get(link.rstrip("/"))
    assert (response.status_code, response.headers["Location"]) == (301, link)
    page = client.get(link)
    assert page.status_code == 200 and page.headers["Vary"] == "Accept-Language"
    assert page.headers["X-Frame-Options"] == "DENY"
