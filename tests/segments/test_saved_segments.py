"""Saved segments: membership history on refresh, static snapshots and uploads, CSV export."""

import csv
import datetime as dt
import io

import pytest

from accounts.models import AuditEntry
from customers.models import Customer
from segments.models import Segment, SegmentMembership
from segments.rules.schema import RuleInvalid
from segments.services import segment_create, segment_refresh
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
CN_RULE = {
    "type": "group",
    "op": "and",
    "children": [{"type": "condition", "field": "profile.country", "operator": "equals", "value": "CN"}],
}
T0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def open_members(segment):
    return set(
        SegmentMembership.objects.filter(segment=segment, left_at__isnull=True).values_list(
            "customer__external_id", flat=True
        )
    )


def test_refresh_records_who_entered_and_left(marketer):
    for i, country in enumerate(["CN", "CN", "US", "DE"]):
        CustomerFactory(external_id=f"S{i}", country=country)
    segment = segment_create(name="China", rule=CN_RULE, user=marketer)
    first = segment_refresh(segment_id=segment.pk, now=T0)
    assert (first.size, first.entered, first.left) == (2, 2, 0)
    assert open_members(segment) == {"S0", "S1"}

    Customer.objects.filter(external_id="S0").update(country="US")
    Customer.objects.filter(external_id="S2").update(country="CN")
    second = segment_refresh(segment_id=segment.pk, now=T0 + dt.timedelta(days=1))
    assert (second.size, second.entered, second.left) == (2, 1, 1)
    assert open_members(segment) == {"S1", "S2"}
    stays = SegmentMembership.objects.filter(segment=segment, customer__external_id="S0").get()
    assert stays.entered_at == T0 and stays.left_at == T0 + dt.timedelta(days=1)

    again = segment_refresh(segment_id=segment.pk, now=T0 + dt.timedelta(days=2))
    assert (again.entered, again.left) == (0, 0)  # idempotent
    assert SegmentMembership.objects.filter(segment=segment).count() == 3
    assert AuditEntry.objects.filter(action="segment.create", target_id=str(segment.pk)).exists()


def test_api_save_refresh_freeze_and_export(api_client, django_capture_on_commit_callbacks):
    for i, country in enumerate(["CN", "US", "CN"]):
        CustomerFactory(external_id=f"A{i}", email=f"a{i}@example.com", country=country)
    with django_capture_on_commit_callbacks(execute=True):  # the first refresh runs after commit
        created = api_client.post("/api/segments/", {"name": "China", "rule": CN_RULE}, format="json")
    assert created.status_code == 201
    segment_id = created.json()["id"]
    detail = api_client.get(f"/api/segments/{segment_id}/").json()
    assert detail["size"] == 2 and [point["size"] for point in detail["size_history"]] == [2]

    frozen = api_client.post(f"/api/segments/{segment_id}/freeze/").json()
    assert frozen["kind"] == "static"
    Customer.objects.filter(external_id="A1").update(country="CN")
    refreshed = api_client.post(f"/api/segments/{segment_id}/refresh/").json()
    assert refreshed == {"size": 2, "entered": 0, "left": 0}  # a static snapshot does not move

    export = api_client.get(f"/api/segments/{segment_id}/members.csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert sorted((row["external_id"], row["email"]) for row in rows) == [
        ("A0", "a0@example.com"),
        ("A2", "a2@example.com"),
    ]


def test_invalid_rule_is_refused_with_the_bad_node(api_client):
    bad = {"type": "group", "op": "and", "children": []}
    response = api_client.post("/api/segments/", {"name": "Empty", "rule": bad}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "rule.children"
    assert not Segment.objects.exists()


def test_static_segment_from_uploaded_ids_and_emails(api_client):
    CustomerFactory(external_id="U1", email="one@example.com")
    CustomerFactory(external_id="U2", email="two@example.com")
    CustomerFactory(external_id="U3", email="three@example.com")
    response = api_client.post(
        "/api/segments/upload/",
        {"name": "VIP list", "identifiers": ["U1", "TWO@example.com", "nobody@example.com", "U9", "U1"]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["matched"] == 2 and body["unknown"] == ["U9", "nobody@example.com"]
    assert open_members(Segment.objects.get(pk=body["segment"]["id"])) == {"U1", "U2"}


def test_viewer_cannot_save_segments(viewer):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=viewer)
    assert client.post("/api/segments/", {"name": "x", "rule": CN_RULE}, format="json").status_code == 403
    assert client.get("/api/segments/").status_code == 200


def segment_node(segment_id, member=True):
    return {"type": "group", "op": "and", "children": [{"type": "segment", "segment_id": segment_id, "member": member}]}


def test_rules_over_other_segments_and_cycles_refused(marketer):
    from segments.rules.audience import rule_audience
    from segments.services import segment_update

    for i, country in enumerate(["CN", "CN", "US"]):
        CustomerFactory(external_id=f"G{i}", country=country)
    china = segment_create(name="China", rule=CN_RULE, user=marketer)
    segment_refresh(segment_id=china.pk, now=T0)
    assert set(rule_audience(segment_node(china.pk)).values_list("external_id", flat=True)) == {"G0", "G1"}
    assert set(rule_audience(segment_node(china.pk, member=False)).values_list("external_id", flat=True)) == {"G2"}

    outside = segment_create(name="Outside China", rule=segment_node(china.pk, member=False), user=marketer)
    with pytest.raises(RuleInvalid) as raised:
        segment_update(segment=china, rule=segment_node(outside.pk), user=marketer)
    assert [(e.path, e.code) for e in raised.value.errors] == [("rule", "cycle")]
    with pytest.raises(RuleInvalid):
        segment_update(segment=outside, rule=segment_node(outside.pk), user=marketer)
    with pytest.raises(RuleInvalid) as raised:
        rule_audience(segment_node(99999))
    assert [(e.path, e.code) for e in raised.value.errors] == [("rule.children[0].segment_id", "invalid_value")]
    assert Segment.objects.get(pk=china.pk).rule == CN_RULE
