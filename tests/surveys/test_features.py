"""Each response writes the customer's latest NPS group and CSAT rating into the feature
table, where segment rules find them; the full feature refresh leaves them alone."""

import datetime as dt
from decimal import Decimal

import pytest

from segments.models import CustomerFeatures
from segments.rules.fields import rule_fields
from segments.selectors import segment_preview
from segments.services import features_refresh_full, features_refresh_incremental
from surveys.models import QuestionKind
from surveys.services import QuestionInput, response_submit, survey_create, survey_features_write
from surveys.tasks import survey_features_recompute_task
from tests.factories import CustomerFactory, OrderFactory
from tests.surveys.conftest import raw_answers

pytestmark = pytest.mark.django_db
AS_OF = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def answer(survey, customer, **scores):
    return response_submit(survey=survey, raw=raw_answers(survey, **scores), channel="personal", customer=customer)


def features_of(customer) -> tuple:
    return CustomerFeatures.objects.filter(customer=customer).values_list("nps_group", "csat").get()


def rule(field: str, operator: str, value):
    return {
        "type": "group",
        "op": "and",
        "children": [{"type": "condition", "field": field, "operator": operator, "value": value}],
    }


def test_nps_group_and_csat_are_rule_fields_with_choices():
    fields = rule_fields()
    assert fields["features.nps_group"].choices == ("promoter", "passive", "detractor")
    assert fields["features.csat"].kind == "number"


def test_each_answer_writes_the_customers_group_and_rating(survey):
    features_refresh_full(as_of=AS_OF)
    promoter, passive, detractor = CustomerFactory(), CustomerFactory(), CustomerFactory()
    answer(survey, promoter, nps=9, csat=5)
    answer(survey, passive, nps=8, csat=3)
    answer(survey, detractor, nps=6, csat=2)
    assert features_of(promoter) == ("promoter", 5.0)
    assert features_of(passive) == ("passive", 3.0)
    assert features_of(detractor) == ("detractor", 2.0)

    answer(survey, promoter, nps=0, csat=1)  # the customer changes their answers
    assert features_of(promoter) == ("detractor", 1.0)


def test_a_rule_on_the_nps_group_finds_the_detractors(survey):
    customers = [CustomerFactory(external_id=f"S{i}") for i in range(5)]
    for customer, score in zip(customers, [10, 6, 7, 0, 9], strict=True):
        answer(survey, customer, nps=score, csat=1 + score // 3)
    preview = segment_preview(rule=rule("features.nps_group", "equals", "detractor"), now=AS_OF)
    assert preview.size == 2
    assert {row["external_id"] for row in preview.sample} == {"S1", "S3"}
    # csat = 1 + score // 3: 4, 3, 3, 1, 4 → at least 4 for S0 and S4
    satisfied = segment_preview(rule=rule("features.csat", "gte", 4), now=AS_OF)
    assert {row["external_id"] for row in satisfied.sample} == {"S0", "S4"}


def test_the_latest_survey_decides(survey):
    customer = CustomerFactory()
    answer(survey, customer, nps=10, csat=5)
    later = survey_create(title_en="Later", questions=[QuestionInput(kind=QuestionKind.NPS, text_en="Again?")])
    response_submit(survey=later, raw={later.questions.get().pk: ["3"]}, channel="personal", customer=customer)
    assert features_of(customer) == ("detractor", 5.0)  # the later survey asked no CSAT: the last rating stays


def test_a_customer_without_a_feature_row_gets_a_complete_one(survey):
    customer = CustomerFactory()
    OrderFactory(customer=customer, total=Decimal("80.00"), ordered_at=AS_OF - dt.timedelta(days=10))
    OrderFactory(customer=customer, total=Decimal("40.00"), ordered_at=AS_OF - dt.timedelta(days=50))
    other = CustomerFactory()
    features_refresh_full(as_of=AS_OF)
    CustomerFeatures.objects.filter(customer=customer).delete()

    answer(survey, customer, nps=7, csat=4)
    row = CustomerFeatures.objects.get(customer=customer)
    assert (row.nps_group, row.csat) == ("passive", 4.0)
    # the same figures the refresh computes, as of the last refresh
    assert (row.frequency, row.monetary, row.recency_days, row.as_of) == (2, Decimal("120.00"), 10, AS_OF)
    assert CustomerFeatures.objects.filter(customer=other).values_list("nps_group", flat=True).get() is None


def test_anonymous_answers_write_no_features(survey):
    response_submit(survey=survey, raw=raw_answers(survey), channel="anonymous", nonce="n-1")
    assert not CustomerFeatures.objects.filter(nps_group__isnull=False).exists()


def test_feature_refreshes_leave_the_survey_columns_alone(survey):
    customer = CustomerFactory()
    OrderFactory(customer=customer, total=Decimal("30.00"), ordered_at=AS_OF - dt.timedelta(days=3))
    answer(survey, customer, nps=3, csat=2)
    features_refresh_full(as_of=AS_OF)
    assert features_of(customer) == ("detractor", 2.0)
    OrderFactory(customer=customer, total=Decimal("30.00"), ordered_at=AS_OF - dt.timedelta(days=1))
    features_refresh_incremental(as_of=AS_OF)
    assert features_of(customer) == ("detractor", 2.0)
    assert CustomerFeatures.objects.get(customer=customer).frequency == 2


def test_the_batch_recomputation_matches_the_answers_and_clears_stale_values(survey):
    first, second, stale = CustomerFactory(), CustomerFactory(), CustomerFactory()
    answer(survey, first, nps=9, csat=4)
    answer(survey, second, nps=5, csat=2)
    CustomerFeatures.objects.filter(customer=first).update(nps_group=None, csat=None)  # e.g. restored from backup
    features_refresh_full(as_of=AS_OF)
    CustomerFeatures.objects.filter(customer=stale).update(nps_group="promoter", csat=5)  # its answers were erased
    CustomerFeatures.objects.filter(customer=second).delete()

    updated = survey_features_write()
    assert updated == 3
    assert features_of(first) == ("promoter", 4.0)
    assert features_of(second) == ("detractor", 2.0)
    assert features_of(stale) == (None, None)


def test_the_recompute_task_runs_the_batch_update(survey):
    customer = CustomerFactory()
    answer(survey, customer, nps=8, csat=3)
    CustomerFeatures.objects.filter(customer=customer).update(nps_group=None, csat=None)
    assert survey_features_recompute_task.delay().get() == 1
    assert features_of(customer) == ("passive", 3.0)
