"""The survey definition the public pages and response_submit read from the process cache:
one query per request, and every change to the survey, its questions or its choices (by the
builder's services or by any other save, as the admin makes) is seen at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments.models import CustomerFeatures
from surveys.definitions import survey_definition
from surveys.links import survey_link
from surveys.models import Answer, Choice, Question, QuestionKind, Response
from surveys.services import (
    ChoiceInput,
    QuestionInput,
    choice_add,
    question_add,
    question_update,
    response_submit,
    survey_create,
    survey_features_write,
    survey_update,
)
from tests.factories import CustomerFactory
from tests.surveys.conftest import raw_answers

pytestmark = pytest.mark.django_db


def answer_fields(survey, **answers) -> dict[str, list[str]]:
    """The form fields of a post with these answers (tests.surveys.conftest.raw_answers)."""
    return {f"q{question}": values for question, values in raw_answers(survey, **answers).items()}


def test_a_survey_read_before_costs_one_query(survey):
    first = survey_definition(survey_id=survey.pk)
    with CaptureQueriesContext(connection) as queries:
        again = survey_definition(survey_id=survey.pk)
    assert again is first
    assert len(queries) == 1
    assert [q.kind for q in again.questions] == ["nps", "csat", "single", "multiple", "text"]


def test_the_personal_form_is_one_query_once_the_survey_is_cached(client, survey):
    link = survey_link(survey, CustomerFactory())
    assert client.get(link).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        page = client.get(link)
    assert page.status_code == 200
    assert len(queries) == 1  # the customer, their earlier response and the survey's version


def test_builder_changes_are_seen_at_once(survey):
    survey_definition(survey_id=survey.pk)
    question = question_add(survey=survey, kind=QuestionKind.SINGLE, text_en="Colour?")
    assert survey_definition(survey_id=survey.pk).questions[-1].text_en == "Colour?"

    question_update(question=question, text_en="Favourite colour?", text_zh="", required=False)
    last = survey_definition(survey_id=survey.pk).questions[-1]
    assert (last.text_en, last.required, len(last.choices)) == ("Favourite colour?", False, 2)

    choice_add(question=question, label_en="Red")
    assert [c.label_en for c in survey_definition(survey_id=survey.pk).questions[-1].choices][-1] == "Red"

    survey_update(survey=survey, title_en="Renamed")
    assert survey_definition(survey_id=survey.pk).title_en == "Renamed"


def test_saves_outside_the_services_are_seen_at_once(survey):
    """The admin saves and deletes questions and choices directly."""
    survey_definition(survey_id=survey.pk)
    question = Question.objects.get(survey=survey, kind=QuestionKind.NPS)
    question.text_en = "Edited in the admin"
    question.save()
    assert survey_definition(survey_id=survey.pk).questions[0].text_en == "Edited in the admin"

    choice = Choice.objects.filter(question__survey=survey, question__kind=QuestionKind.SINGLE).first()
    choice.delete()
    single = next(q for q in survey_definition(survey_id=survey.pk).questions if q.kind == QuestionKind.SINGLE)
    assert choice.pk not in [c.id for c in single.choices]


def test_the_form_shows_an_edited_question_although_its_questions_were_rendered_before(client, survey):
    link = survey_link(survey, CustomerFactory())
    assert "Would you recommend us?" in client.get(link).content.decode()
    question = Question.objects.get(survey=survey, kind=QuestionKind.NPS)
    question_update(question=question, text_en="Would you recommend our shop?", text_zh="", required=True)
    html = client.get(link).content.decode()
    assert "Would you recommend our shop?" in html and "Would you recommend us?" not in html


def test_an_answer_left_out_on_resubmission_falls_back_to_the_earlier_survey():
    """A replaced response that no longer answers NPS no longer decides the NPS group."""
    questions = [
        QuestionInput(kind=QuestionKind.NPS, text_en="Recommend?", required=False),
        QuestionInput(kind=QuestionKind.CSAT, text_en="Satisfied?"),
    ]
    first = survey_create(title_en="First", questions=questions)
    second = survey_create(title_en="Second", questions=questions)
    customer = CustomerFactory()

    def answer(survey, **values):
        ids = {q.kind: q.pk for q in survey.questions.all()}
        raw = {ids[kind]: [str(value)] for kind, value in values.items()}
        response_submit(survey=survey, raw=raw, channel="personal", customer=customer)

    def features():
        return CustomerFeatures.objects.filter(customer=customer).values_list("nps_group", "csat").get()

    answer(first, nps=10, csat=4)
    answer(second, nps=2, csat=1)
    assert features() == ("detractor", 1.0)
    answer(second, csat=5)  # NPS left out this time
    assert features() == ("promoter", 5.0)


def test_choice_inputs_of_a_new_survey_are_in_its_definition():
    survey = survey_create(
        title_en="Choices",
        questions=[QuestionInput(kind="single", text_en="Pick", choices=[ChoiceInput("A"), ChoiceInput("B")])],
    )
    [question] = survey_definition(survey_id=survey.pk).questions
    assert [c.label_en for c in question.choices] == ["A", "B"]


def test_a_personal_post_scores_its_text_with_the_active_model_without_a_query_for_it(client, survey):
    """The respondent query reads the active sentiment model's version too: a post with a
    text makes no query for it, and a model activated since is used at once."""
    from analytics.models import SentimentModel
    from analytics.pipelines import pipeline_dump
    from analytics.sentiment import services as sentiment
    from surveys.models import Answer
    from tests.analytics.test_sentiment_active_cache import ConstantPipeline
    from tests.surveys.conftest import question_ids, raw_answers

    text_id = question_ids(survey)["text"]
    fields = {f"q{qid}": values for qid, values in raw_answers(survey, text="fine").items()}
    happy, sad = (
        SentimentModel.objects.create(kind=SentimentModel.Kind.TRAINED, pipeline=pipeline_dump(ConstantPipeline(p)))
        for p in (0.95, 0.05)
    )
    sentiment._activate(happy)
    link = survey_link(survey, CustomerFactory())
    assert client.post(link, fields).status_code == 302  # the survey and the pipeline are read once
    with CaptureQueriesContext(connection) as queries:
        assert client.post(link, fields).status_code == 302
    reading_the_model = [q["sql"] for q in queries if SentimentModel._meta.db_table in q["sql"]]
    assert len(reading_the_model) == 1 and reading_the_model[0].startswith("SELECT s.updated_at")  # the respondent
    assert Answer.objects.get(question_id=text_id).sentiment_label == "positive"
    sentiment._activate(sad)
    assert client.post(link, fields).status_code == 302
    assert Answer.objects.get(question_id=text_id).sentiment_label == "negative"


def test_blank_forms_of_two_customers_differ_only_in_their_own_link(client, survey):
    """The blank form is rendered once per survey version and language, each customer's
    link put in afterwards: each page posts to its own link, and the answers land there."""
    first, second = CustomerFactory(), CustomerFactory()
    link_first, link_second = survey_link(survey, first), survey_link(survey, second)
    page_first = client.get(link_first).content.decode()
    page_second = client.get(link_second).content.decode()
    assert f'action="{link_first}"' in page_first and f'action="{link_second}"' in page_second
    assert link_first not in page_second
    assert page_first.replace(link_first, "LINK") == page_second.replace(link_second, "LINK")
    assert client.post(link_second, answer_fields(survey)).status_code == 302
    assert list(Response.objects.filter(survey=survey).values_list("customer_id", flat=True)) == [second.pk]


@pytest.mark.postgres
def test_a_first_personal_answer_is_stored_by_one_statement(client, survey):
    """On PostgreSQL the response, its answers, their choice links and the customer's survey
    features go in one statement; the second submit replaces them under the row lock."""
    customer = CustomerFactory()
    survey_features_write(customer_ids=[customer.pk])  # the feature row the scheduled refresh makes
    link = survey_link(survey, customer)
    client.get(link)
    fields = answer_fields(survey, nps=3, csat=4, multiple=(0, 2), text="Fast delivery")
    with CaptureQueriesContext(connection) as queries:
        assert client.post(link, fields).status_code == 302
    assert len(queries) == 2  # the respondent, then the one INSERT … WITH
    response = Response.objects.get(survey=survey, customer=customer)
    kinds = dict(response.answers.values_list("question__kind", "number"))
    assert (kinds["nps"], kinds["csat"]) == (3, 4)
    picked = Answer.objects.get(response=response, question__kind=QuestionKind.MULTIPLE).choices.count()
    assert picked == 2
    features = CustomerFeatures.objects.filter(customer=customer).values_list("nps_group", "csat").get()
    assert features == ("detractor", 4.0)
    assert Answer.objects.get(response=response, question__kind=QuestionKind.TEXT).sentiment_label == "positive"

    assert client.post(link, answer_fields(survey, nps=8)).status_code == 302
    assert Response.objects.filter(survey=survey, customer=customer).count() == 1
    assert Answer.objects.get(response=response, question__kind=QuestionKind.NPS).number == 8
    assert CustomerFeatures.objects.filter(customer=customer).values_list("nps_group", flat=True).get() == "passive"


@pytest.mark.postgres
def test_the_personal_links_statements_are_prepared_once_per_connection(client, survey):
    """surveys.prepared: the respondent query and the first-response insert are prepared on
    the connection the first time and run as prepared statements after that."""
    for customer in CustomerFactory.create_batch(3):
        link = survey_link(survey, customer)
        assert client.get(link).status_code == 200
        assert client.post(link, answer_fields(survey)).status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = [row[0] for row in cursor.fetchall()]
    assert sum(statement.startswith("SELECT s.updated_at") for statement in prepared) == 1
    assert sum(statement.startswith("WITH response AS (INSERT") for statement in prepared) == 1
    assert Response.objects.filter(survey=survey).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_database_connection_prepares_on_a_cursor_of_its_own(client, survey):
    """surveys.prepared keeps one preparing cursor per connection: when Django replaces the
    connection (CONN_MAX_AGE passed, PostgreSQL restarted), the next link runs on the new one."""
    first, second = CustomerFactory.create_batch(2)
    assert client.post(survey_link(survey, first), answer_fields(survey, nps=9)).status_code == 302
    connection.close()
    link = survey_link(survey, second)
    assert client.get(link).status_code == 200
    assert client.post(link, answer_fields(survey, nps=2)).status_code == 302
    stored = dict(
        Answer.objects.filter(response__survey=survey, question__kind=QuestionKind.NPS).values_list(
            "response__customer_id", "number"
        )
    )
    assert stored == {first.pk: 9, second.pk: 2}
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = [row[0] for row in cursor.fetchall()]
    assert sum(statement.startswith("WITH response AS (INSERT") for statement in prepared) == 1
