"""The surveys REST API: build, list, link, submit, results, export; viewers only read."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from surveys.links import survey_token_read
from surveys.models import Choice, Question, Response, Survey
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NEW_SURVEY = {
    "title_en": "Checkout feedback",
    "title_zh": "结账反馈",
    "questions": [
        {"type": "nps", "text_en": "Recommend us?", "text_zh": "推荐我们吗？"},
        {
            "type": "single",
            "text_en": "Payment method?",
            "text_zh": "付款方式？",
            "choices": [{"label_en": "Card", "label_zh": "银行卡"}, {"label_en": "Alipay", "label_zh": "支付宝"}],
        },
        {"type": "text", "text_en": "Comments", "required": False},
    ],
}


@pytest.fixture
def viewer_client(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


def create(api_client) -> dict:
    created = api_client.post("/api/surveys/", NEW_SURVEY, format="json")
    assert created.status_code == 201, created.content
    return created.json()


def test_create_a_survey_with_questions_and_list_it(api_client):
    body = create(api_client)
    survey = Survey.objects.get(pk=body["id"])
    assert (survey.title_en, survey.title_zh) == ("Checkout feedback", "结账反馈")
    questions = list(survey.questions.order_by("position"))
    assert [(q.kind, q.text_en, q.required) for q in questions] == [
        ("nps", "Recommend us?", True),
        ("single", "Payment method?", True),
        ("text", "Comments", False),
    ]
    assert list(questions[1].choices.values_list("label_en", "label_zh")) == [("Card", "银行卡"), ("Alipay", "支付宝")]
    assert [q["type"] for q in body["questions"]] == ["nps", "single", "text"]
    assert body["anonymous_link"] == f"/surveys/a/{survey.public_token}/"

    listed = api_client.get("/api/surveys/").json()
    assert [row["id"] for row in listed] == [survey.pk]


def test_refusals_name_the_field(api_client):
    no_title = api_client.post("/api/surveys/", {"questions": []}, format="json")
    assert no_title.status_code == 400 and "title_en" in no_title.json()
    one_option = {**NEW_SURVEY, "questions": [{"type": "single", "text_en": "Pick", "choices": [{"label_en": "A"}]}]}
    refused = api_client.post("/api/surveys/", one_option, format="json")
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert (error["field"], error["code"]) == ("questions[0].choices", "choices_needed")
    assert error["message"] == "A choice question needs at least two options."
    dates = api_client.post(
        "/api/surveys/",
        {"title_en": "x", "opens_at": "2026-02-01T00:00:00Z", "closes_at": "2026-01-01T00:00:00Z"},
        format="json",
    )
    assert dates.status_code == 400 and dates.json()["errors"][0]["code"] == "closes_before_opens"
    assert Survey.objects.count() == 0


def test_replace_questions_keeps_those_with_an_id(api_client):
    body = create(api_client)
    nps, single, _text = body["questions"]
    replaced = api_client.put(
        f"/api/surveys/{body['id']}/questions/",
        {
            "questions": [
                {**single, "text_en": "How did you pay?", "choices": [single["choices"][1], {"label_en": "Cash"}]},
                nps,
            ]
        },
        format="json",
    )
    assert replaced.status_code == 200, replaced.content
    questions = list(Question.objects.filter(survey_id=body["id"]).order_by("position"))
    assert [(q.pk, q.text_en) for q in questions] == [(single["id"], "How did you pay?"), (nps["id"], "Recommend us?")]
    assert list(Choice.objects.filter(question_id=single["id"]).order_by("position").values_list("pk", "label_en")) == [
        (single["choices"][1]["id"], "Alipay"),
        (Choice.objects.get(label_en="Cash").pk, "Cash"),
    ]


def test_submit_results_and_export(api_client):
    body = create(api_client)
    nps, single, text = (q["id"] for q in body["questions"])
    card, alipay = (c["id"] for c in body["questions"][1]["choices"])
    CustomerFactory(external_id="K1")
    CustomerFactory(external_id="K2")
    url = f"/api/surveys/{body['id']}/responses/"
    first = api_client.post(
        url,
        {"customer": "K1", "answers": [{"question": nps, "value": 10}, {"question": single, "value": card}]},
        format="json",
    )
    assert first.status_code == 201 and first.json()["created"] is True
    again = api_client.post(
        url,
        {
            "customer": "K1",
            "answers": [
                {"question": nps, "value": 9},
                {"question": single, "value": alipay},
                {"question": text, "value": "Smooth"},
            ],
        },
        format="json",
    )
    assert again.status_code == 200 and again.json() == {"response_id": first.json()["response_id"], "created": False}
    api_client.post(
        url,
        {"customer": "K2", "answers": [{"question": nps, "value": 3}, {"question": single, "value": alipay}]},
        format="json",
    )
    bad = api_client.post(url, {"answers": [{"question": nps, "value": 11}]}, format="json")
    assert bad.status_code == 400
    assert {(e["field"], e["code"]) for e in bad.json()["errors"]} == {
        (str(nps), "out_of_range"),
        (str(single), "required"),
    }
    assert Response.objects.count() == 2

    results = api_client.get(f"/api/surveys/{body['id']}/results/").json()
    assert results["responses"] == 2
    nps_result = results["questions"][0]
    # 9 (promoter) and 3 (detractor): 50 % − 50 % = 0
    assert (nps_result["nps"]["promoters"], nps_result["nps"]["detractors"], nps_result["nps"]["nps"]) == (1, 1, 0.0)
    assert nps_result["rating_counts"] == {"3": 1, "9": 1}
    assert [(c["label"], c["count"]) for c in results["questions"][1]["choices"]] == [("Card", 0), ("Alipay", 2)]
    assert [t["text"] for t in results["questions"][2]["texts"]] == ["Smooth"]

    exported = api_client.get(f"/api/surveys/{body['id']}/responses.csv", HTTP_ACCEPT="text/csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["customer_id"], r["Q1 Recommend us?"], r["Q2 Payment method?"]) for r in rows] == [
        ("K1", "9", "Alipay"),
        ("K2", "3", "Alipay"),
    ]


def test_personal_link_for_a_customer(api_client):
    body = create(api_client)
    customer = CustomerFactory(external_id="L1")
    link = api_client.get(f"/api/surveys/{body['id']}/link/", {"customer": "L1"}).json()["link"]
    token = link.split("/surveys/r/")[1].rstrip("/")
    assert survey_token_read(token) == (body["id"], customer.pk)
    assert api_client.get(f"/api/surveys/{body['id']}/link/", {"customer": "nobody"}).status_code == 404


def test_closed_survey_refuses_api_responses(api_client):
    body = create(api_client)
    api_client.patch(f"/api/surveys/{body['id']}/", {"closes_at": "2020-01-01T00:00:00Z"}, format="json")
    refused = api_client.post(
        f"/api/surveys/{body['id']}/responses/",
        {"answers": [{"question": body["questions"][0]["id"], "value": 5}]},
        format="json",
    )
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "survey_closed"


def test_viewer_reads_but_cannot_edit(api_client, viewer_client):
    body = create(api_client)
    CustomerFactory(external_id="V1")
    assert viewer_client.get("/api/surveys/").status_code == 200
    assert viewer_client.get(f"/api/surveys/{body['id']}/results/").status_code == 200
    assert viewer_client.get(f"/api/surveys/{body['id']}/responses.csv").status_code == 200
    assert viewer_client.post("/api/surveys/", NEW_SURVEY, format="json").status_code == 403
    assert viewer_client.patch(f"/api/surveys/{body['id']}/", {"title_en": "x"}, format="json").status_code == 403
    assert (
        viewer_client.put(f"/api/surveys/{body['id']}/questions/", {"questions": []}, format="json").status_code == 403
    )
    assert viewer_client.delete(f"/api/surveys/{body['id']}/").status_code == 403
    assert viewer_client.get(f"/api/surveys/{body['id']}/link/", {"customer": "V1"}).status_code == 403
    assert (
        viewer_client.post(f"/api/surveys/{body['id']}/responses/", {"answers": []}, format="json").status_code == 403
    )
    assert Survey.objects.get().title_en == "Checkout feedback" and Survey.objects.get().questions.count() == 3


def test_anonymous_clients_get_nothing():
    assert APIClient().get("/api/surveys/").status_code in (401, 403)
