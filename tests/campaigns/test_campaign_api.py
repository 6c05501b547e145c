"""The campaigns REST API through the test client: create, edit, launch and the other
moves, refusals as {field, code, message}, preview, progress, comparison, audit trail and
who may do what."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import Role
from campaigns.models import Campaign, CampaignEvent
from tests.campaigns.test_campaign_services import campaign_build, pool_make, segment_of, variants_two
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

Status = Campaign.Status


@pytest.fixture(autouse=True)
def _no_quiet_hours(db):
    from tests.campaigns.test_campaign_services import sending_policy_open

    sending_policy_open()


def client_for(make_user, role: Role) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=make_user(role))
    return client


def test_create_a_coupon_campaign_with_two_variants_and_a_holdout(api_client):
    segment = segment_of(CustomerFactory.create_batch(4, email_opt_in=True))
    pool = pool_make()
    response = api_client.post(
        "/api/campaigns/",
        {
            "name": "Spring coupon",
            "channel": "email",
            "audience_segment_ids": [segment.pk],
            "coupon_pool_id": pool.pk,
            "holdout_percent": 10,
            "schedule_kind": "at",
            "send_at": "2031-03-01T09:00:00",
            "time_zone": "Asia/Shanghai",
            "variants": variants_two(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["audience_segment_ids"] == [segment.pk]
    assert body["coupon_pool_id"] == pool.pk
    assert body["send_at"] == "2031-03-01T01:00:00Z"  # 09:00 in Shanghai
    assert [(v["key"], v["weight"]) for v in body["variants"]] == [("A", 1), ("B", 2)]
    assert Campaign.objects.get(pk=body["id"]).events.get().action == CampaignEvent.Action.CREATED


def test_a_refused_value_answers_field_code_and_message(api_client):
    response = api_client.post("/api/campaigns/", {"name": "X", "holdout_percent": 60}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": "holdout_percent", "code": "out_of_range", "message": "The holdout % must be between 0 and 50."}
        ]
    }


def test_list_with_status_filter_audience_and_sent_counts(api_client):
    segment = segment_of(CustomerFactory.create_batch(3, email_opt_in=True))
    draft = campaign_build(segment)
    sent = campaign_build(segment, name="Old")
    Campaign.objects.filter(pk=sent.pk).update(status=Status.SENT)
    rows = api_client.get("/api/campaigns/").json()
    assert {row["id"]: (row["status"], row["audience_size"]) for row in rows} == {
        draft.pk: ("draft", 3),
        sent.pk: ("sent", 3),
    }
    assert [row["id"] for row in api_client.get("/api/campaigns/?status=draft").json()] == [draft.pk]


def test_patch_changes_a_draft_and_refuses_a_launched_one(api_client):
    campaign = campaign_build(schedule_kind="at", send_at=timezone.now() + dt.timedelta(days=1))
    response = api_client.patch(f"/api/campaigns/{campaign.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
    assert api_client.post(f"/api/campaigns/{campaign.pk}/launch/").status_code == 200
    response = api_client.patch(f"/api/campaigns/{campaign.pk}/", {"name": "Again"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_editable"


def test_launch_lists_every_problem(api_client):
    campaign = campaign_build(audience_segment_ids=[], variants=[{"key": "A", "body_text": "{% if %}"}])
    response = api_client.post(f"/api/campaigns/{campaign.pk}/launch/")
    assert response.status_code == 400
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {
        ("audience_segments", "no_audience"),
        ("variants[0].subject", "required"),
        ("variants[0].body_text", "bad_template"),
    }
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


def test_launch_pause_resume_cancel_and_the_events(api_client):
    campaign = campaign_build(schedule_kind="recurring", recurrence={"minute": "0", "hour": "9"})
    assert api_client.post(f"/api/campaigns/{campaign.pk}/launch/").json()["status"] == "scheduled"
    assert api_client.post(f"/api/campaigns/{campaign.pk}/pause/").json()["status"] == "paused"
    refused = api_client.post(f"/api/campaigns/{campaign.pk}/pause/")
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "not_allowed"
    assert api_client.post(f"/api/campaigns/{campaign.pk}/resume/").json()["status"] == "scheduled"
    assert api_client.post(f"/api/campaigns/{campaign.pk}/cancel/").json()["status"] == "cancelled"
    events = api_client.get(f"/api/campaigns/{campaign.pk}/events/").json()
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("cancelled", "scheduled", "cancelled"),
        ("resumed", "paused", "scheduled"),
        ("paused", "scheduled", "paused"),
        ("scheduled", "draft", "scheduled"),
        ("created", "", "draft"),
    ]
    assert events[0]["actor"] == "marketer-user"


def test_duplicate(api_client):
    campaign = campaign_build()
    response = api_client.post(f"/api/campaigns/{campaign.pk}/duplicate/", {"name": "Again"}, format="json")
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["status"]) == ("Again", "draft")
    assert len(response.json()["variants"]) == 2


def test_preview_renders_the_variant_for_a_customer_by_id_or_email(api_client):
    customer = CustomerFactory(name="Lin Wei", email="lin@example.com", email_opt_in=True)
    campaign = campaign_build(segment_of([customer]), coupon_pool_id=pool_make().pk)
    response = api_client.post(
        f"/api/campaigns/{campaign.pk}/preview/", {"customer_id": customer.external_id, "variant": "A"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subject"] == "Hello Lin"
    assert body["text"].startswith("Hi Lin, your code is SPRING15.")
    assert body["to"] == "lin@example.com"
    by_email = api_client.post(
        f"/api/campaigns/{campaign.pk}/preview/", {"customer_id": "LIN@example.com", "variant": "B"}, format="json"
    )
    assert by_email.json()["subject"] == "A gift for you"
    missing = api_client.post(f"/api/campaigns/{campaign.pk}/preview/", {"customer_id": "nobody"}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "customer_id"


def test_progress_and_comparison_after_a_send(api_client, django_capture_on_commit_callbacks):
    customers = CustomerFactory.create_batch(30, email_opt_in=True)
    campaign = campaign_build(segment_of(customers), holdout_percent=50)  # none held out: a chance of 1 in 10^9
    before = api_client.get(f"/api/campaigns/{campaign.pk}/progress/").json()
    assert before == {"campaign_status": "draft", "progress": None}
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(f"/api/campaigns/{campaign.pk}/launch/").status_code == 200
    progress = api_client.get(f"/api/campaigns/{campaign.pk}/progress/").json()
    assert progress["campaign_status"] == "sent"
    counts = progress["progress"]
    assert (counts["total"], counts["percent"], counts["done"]) == (30, 100, True)
    assert counts["sent"] + counts["skipped"] == 30 and counts["skipped"] > 0
    assert counts["skipped_by_reason"] == {"holdout": counts["skipped"]}
    comparison = api_client.get(f"/api/campaigns/{campaign.pk}/comparison/").json()
    assert [v["key"] for v in comparison["variants"]] == ["A", "B"]
    assert sum(v["sent"] for v in comparison["variants"]) == counts["sent"]
    assert comparison["verdict"]["text"]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER])
def test_analysts_and_viewers_read_but_do_not_change(make_user, role):
    campaign = campaign_build()
    client = client_for(make_user, role)
    assert client.get("/api/campaigns/").status_code == 200
    assert client.get(f"/api/campaigns/{campaign.pk}/").status_code == 200
    assert client.get(f"/api/campaigns/{campaign.pk}/events/").status_code == 200
    assert client.post("/api/campaigns/", {"name": "x"}, format="json").status_code == 403
    assert client.patch(f"/api/campaigns/{campaign.pk}/", {"name": "x"}, format="json").status_code == 403
    for action in ("launch", "pause", "resume", "cancel", "duplicate"):
        assert client.post(f"/api/campaigns/{campaign.pk}/{action}/").status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


def test_admins_change(make_user):
    campaign = campaign_build()
    client = client_for(make_user, Role.ADMIN)
    assert client.post(f"/api/campaigns/{campaign.pk}/cancel/").json()["status"] == "cancelled"


def test_anonymous_is_refused(client):
    assert APIClient().get("/api/campaigns/").status_code in (401, 403)
