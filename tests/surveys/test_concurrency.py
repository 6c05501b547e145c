"""Two submissions at the same moment, on two database connections (PostgreSQL): one
personalised link posted twice at once ends with one response, and so does one anonymous
form posted twice at once."""

import threading
import time

import pytest
from django.db import connection

from surveys import services as survey_services
from surveys.models import Answer, Response
from surveys.services import response_submit
from tests.factories import CustomerFactory
from tests.surveys.conftest import raw_answers, survey_build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_at_once(*calls) -> list:
    """Start every call on its own thread (own connection) behind one barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # reported to the test, not swallowed
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def slow_answer_writes(monkeypatch):
    """Hold the replacing transaction open after the upsert, so the second writer surely
    overlaps it. (A first submit is one statement on PostgreSQL: the loser of that race waits
    on the winner's insert inside the database, then replaces its answers here.)"""
    real = survey_services._answers_write

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(survey_services, "_answers_write", slow)


def test_two_concurrent_submits_of_one_personal_link_leave_one_response(slow_answer_writes):
    survey = survey_build()
    customer = CustomerFactory()
    outcomes = run_at_once(
        lambda: response_submit(survey=survey, raw=raw_answers(survey, nps=10), channel="personal", customer=customer),
        lambda: response_submit(survey=survey, raw=raw_answers(survey, nps=2), channel="personal", customer=customer),
    )
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert sorted(outcome.created for outcome in outcomes) == [False, True]
    assert Response.objects.filter(survey=survey, customer=customer).count() == 1
    response = Response.objects.get(survey=survey, customer=customer)
    numbers = list(Answer.objects.filter(response=response, question__kind="nps").values_list("number", flat=True))
    assert numbers in ([10], [2])  # one whole submission, the one that came second
    assert Answer.objects.filter(response=response).count() == 4  # nps, csat, single, multiple: no doubles


def test_the_same_anonymous_form_posted_twice_at_once_stores_one_response(slow_answer_writes):
    survey = survey_build()

    def submit():
        return response_submit(survey=survey, raw=raw_answers(survey), channel="anonymous", nonce="same-form")

    outcomes = run_at_once(submit, submit)
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert sorted(outcome.duplicate for outcome in outcomes) == [False, True]
    assert Response.objects.filter(survey=survey).count() == 1
    assert Answer.objects.filter(response__survey=survey).count() == 4
