"""Funnel definitions, the API and the pages through the test client: saving validates the
steps (errors name the step and field), results are the hand computation's, filters come
from the query string, viewers read but do not edit, anonymous visitors are sent away."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AuditEntry
from reports.funnels.models import Funnel
from reports.funnels.schema import FunnelInvalid, Step, steps_parse, window_seconds
from reports.funnels.services import funnel_create, funnel_update
from segments.models import Segment, SegmentMembership
from tests.reports.test_funnel_report import SHOP_START, assert_matches, events, hand_funnel  # noqa: F401

pytestmark = pytest.mark.django_db

NOW = SHOP_START + dt.timedelta(days=15, hours=12)
STEPS = [{"event": "view"}, {"event": "add_to_cart"}, {"event": "purchase"}, {"event": "review"}]
PARSED = [Step("view"), Step("add_to_cart"), Step("purchase"), Step("review")]
# The default range is the last 30 days up to today (NOW's day), in UTC (the test time zone).
DEFAULT_START = dt.datetime.combine(NOW.date() - dt.timedelta(days=29), dt.time.min, tzinfo=dt.UTC)
DEFAULT_END = dt.datetime.combine(NOW.date() + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch, settings):
    settings.TIME_ZONE = "UTC"
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


@pytest.fixture
def funnel(marketer) -> Funnel:
    return funnel_create(name="Shop funnel", steps=STEPS, window_value=3, window_unit="days", user=marketer)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- validation ---------------------------------------------------------------------------


def _fields(raw) -> dict[str, str]:
    with pytest.raises(FunnelInvalid) as caught:
        steps_parse(raw)
    return {error.field: error.code.value for error in caught.value.errors}


def test_validation_names_the_step_and_field():
    assert _fields("view") == {"steps": "not_a_list"}
    assert _fields([{"event": "view"}]) == {"steps": "too_few_steps"}
    assert _fields([{"event": "view"}] * 9) == {"steps": "too_many_steps"}
    assert _fields([{"event": "view"}, {"event": "clik"}, {"sku": "A"}, "x", {"event": "view", "colour": "red"},
                    {"event": "view", "sku": 5, "path_prefix": "/" * 501}]) == {
        "steps[1].event": "unknown_event", "steps[2].event": "missing_event", "steps[3]": "not_an_object",
        "steps[4].colour": "unknown_filter", "steps[5].sku": "not_text", "steps[5].path_prefix": "too_long",
    }  # fmt: skip
    with pytest.raises(FunnelInvalid) as caught:
        steps_parse([{"event": "view"}, {"event": "clik"}])
    assert caught.value.errors[0].message.startswith("Step 2: “clik” is not an event type")


def test_steps_are_stored_trimmed_without_empty_filters():
    assert steps_parse([{"event": "view", "sku": " A1 ", "category": ""}, {"event": "purchase", "sku": None}]) == [
        Step("view", sku="A1"), Step("purchase")]  # fmt: skip
    assert Step("view", sku="A1").as_dict() == {"event": "view", "sku": "A1"}


@pytest.mark.parametrize(
    ("value", "unit", "field"),
    [
        (0, "days", "window_value"),
        (366, "days", "window_value"),
        (2, "weeks", "window_unit"),
        ("3", "days", "window_value"),
    ],
)
def test_window_validation(value, unit, field):
    with pytest.raises(FunnelInvalid) as caught:
        window_seconds(value, unit)
    assert caught.value.errors[0].field == field
    assert window_seconds(36, "hours") == 36 * 3600 and window_seconds(365, "days") == 365 * 86400


def test_services_validate_save_and_audit(marketer):
    with pytest.raises(FunnelInvalid) as caught:
        funnel_create(name="Bad", steps=[{"event": "view"}, {"event": "nope"}], window_value=0, user=marketer)
    assert {error.field for error in caught.value.errors} == {"steps[1].event", "window_value"}
    funnel = funnel_create(name="Good", steps=[{"event": "view", "sku": ""}, {"event": "purchase"}], user=marketer)
    assert funnel.steps == [{"event": "view"}, {"event": "purchase"}] and funnel.window_seconds == 7 * 86400
    funnel_update(funnel=funnel, window_value=12, window_unit="hours", user=marketer)
    funnel.refresh_from_db()
    assert funnel.window_seconds == 12 * 3600 and funnel.name == "Good"
    assert list(AuditEntry.objects.filter(target_type="funnel").values_list("action", flat=True).order_by("pk")) == [
        "funnel.create", "funnel.update"]  # fmt: skip


# --- API ----------------------------------------------------------------------------------


def test_api_crud(api_client, viewer_api):
    created = api_client.post("/api/reports/funnels/", {"name": "F", "steps": STEPS, "window_value": 2,
                                                         "window_unit": "days"}, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    funnel_id = created.json()["id"]
    assert viewer_api.get("/api/reports/funnels/").json()[0]["steps"] == STEPS
    patched = api_client.patch(f"/api/reports/funnels/{funnel_id}/", {"name": "G"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "G" and patched.json()["window_value"] == 2
    put = api_client.put(f"/api/reports/funnels/{funnel_id}/", {"name": "H", "steps": STEPS[:2]}, format="json")
    assert put.status_code == 200 and put.json()["steps"] == STEPS[:2] and put.json()["window_value"] == 7
    assert viewer_api.delete(f"/api/reports/funnels/{funnel_id}/").status_code == 403
    assert viewer_api.post("/api/reports/funnels/", {"name": "V", "steps": STEPS}, format="json").status_code == 403
    assert api_client.delete(f"/api/reports/funnels/{funnel_id}/").status_code == 204
    assert api_client.get(f"/api/reports/funnels/{funnel_id}/").status_code == 404


def test_api_bad_steps_answer_400_naming_the_step_and_field(api_client):
    response = api_client.post("/api/reports/funnels/", {"name": "F", "steps": [{"event": "view"},
                               {"event": "purchase", "sku": 3}]}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "steps[1].sku", "code": "not_text",
                                          "message": "Step 2: sku must be text."}]  # fmt: skip
    funnel = funnel_create(name="F", steps=STEPS)
    patched = api_client.patch(f"/api/reports/funnels/{funnel.pk}/", {"steps": [{"event": "view"}]}, format="json")
    assert patched.status_code == 400 and patched.json()["errors"][0]["field"] == "steps"
    assert api_client.post("/api/reports/funnels/", {"steps": STEPS}, format="json").status_code == 400  # no name


def test_api_result_is_the_hand_computation(viewer_api, events, funnel):  # noqa: F811
    response = viewer_api.get(f"/api/reports/funnels/{funnel.pk}/result/", {"start": "2025-05-03", "end": "2025-05-10"})
    assert response.status_code == 200
    body = response.json()
    start = dt.datetime(2025, 5, 3, tzinfo=dt.UTC)
    expected = hand_funnel(events, PARSED, dt.timedelta(days=3), start, start + dt.timedelta(days=8))
    assert [step["customers"] for step in body["steps"]] == [hand["customers"] for hand in expected]
    assert [step["drop_off"] for step in body["steps"]] == [hand["drop_off"] for hand in expected]
    assert body["steps"][1]["median_seconds"] == pytest.approx(expected[1]["times"][0])
    assert body["steps"][1]["p90_seconds"] == pytest.approx(expected[1]["times"][2])
    assert body["steps"][2]["conversion_from_previous"] == pytest.approx(expected[2]["from_previous"])
    assert body["entered"] == expected[0]["customers"] and body["converted"] == expected[3]["customers"]
    assert body["start"] == "2025-05-03" and body["end"] == "2025-05-10" and body["segment"] is None
    default = viewer_api.get(f"/api/reports/funnels/{funnel.pk}/result/").json()
    assert (default["start"], default["end"]) == (DEFAULT_START.date().isoformat(), NOW.date().isoformat())
    hand = hand_funnel(events, PARSED, dt.timedelta(days=3), DEFAULT_START, DEFAULT_END)
    assert [step["customers"] for step in default["steps"]] == [step["customers"] for step in hand]


def test_api_result_segment_default_override_and_all(viewer_api, events, funnel):  # noqa: F811
    segment = Segment.objects.create(name="Some", kind=Segment.Kind.STATIC)
    members = set(sorted({event.customer_id for event in events})[::3])
    for customer_id in members:
        SegmentMembership.objects.create(segment=segment, customer_id=customer_id, entered_at=SHOP_START)
    funnel.segment = segment
    funnel.save()
    url = f"/api/reports/funnels/{funnel.pk}/result/"
    window = dt.timedelta(days=3)
    own = viewer_api.get(url).json()
    assert own["segment"] == segment.pk
    expected = hand_funnel(events, PARSED, window, DEFAULT_START, DEFAULT_END, customers=members)
    assert [step["customers"] for step in own["steps"]] == [step["customers"] for step in expected]
    everyone = viewer_api.get(url, {"segment": ""}).json()
    assert everyone["segment"] is None
    expected = hand_funnel(events, PARSED, window, DEFAULT_START, DEFAULT_END)
    assert [step["customers"] for step in everyone["steps"]] == [step["customers"] for step in expected]


@pytest.mark.parametrize("query", [{"start": "2025-05-10", "end": "2025-05-01"}, {"segment": 999999},
                                   {"start": "May"}, {"start": "2020-01-01", "end": "2025-01-01"}])  # fmt: skip
def test_api_result_rejects_bad_parameters(viewer_api, funnel, query):
    assert viewer_api.get(f"/api/reports/funnels/{funnel.pk}/result/", query).status_code == 400


def test_api_needs_authentication(funnel):
    assert APIClient().get("/api/reports/funnels/").status_code in (401, 403)
    assert APIClient().get(f"/api/reports/funnels/{funnel.pk}/result/").status_code in (401, 403)


def test_schema_documents_the_funnel_endpoints(admin_user):
    client = APIClient()
    client.force_authenticate(user=admin_user)
    schema = client.get("/api/schema/", {"format": "json"})
    if schema.status_code == 404:
        pytest.skip("no schema route")
    paths = schema.json()["paths"]
    assert "/api/reports/funnels/{funnel_id}/result/" in paths and "/api/reports/funnels/" in paths


# --- pages --------------------------------------------------------------------------------


def _post_rows(rows: list[dict], **fields) -> dict:
    data = {"name": "Posted", "window_value": 2, "window_unit": "days", "segment": ""} | fields
    for name in ("event", "sku", "category", "query_contains", "path_prefix"):
        data[f"step_{name}"] = [row.get(name, "") for row in rows]
    return data


def test_create_from_the_page(client, marketer):
    client.force_login(marketer)
    page = client.get(reverse("reports:funnels"))
    assert page.status_code == 200 and page.content.decode().count('data-testid="funnel-step"') == 2
    row = client.get(reverse("reports:funnel-step-row"), headers={"HX-Request": "true"})
    assert row.status_code == 200 and 'name="step_event"' in row.content.decode()
    rows = [{"event": "view", "category": "Beauty"}, {}, {"event": "add_to_cart"}, {"event": "purchase"}]
    response = client.post(reverse("reports:funnels"), _post_rows(rows))
    funnel = Funnel.objects.get(name="Posted")
    assert response.status_code == 302 and response["Location"] == reverse("reports:funnel", args=[funnel.pk])
    assert funnel.steps == [{"event": "view", "category": "Beauty"}, {"event": "add_to_cart"}, {"event": "purchase"}]


def test_page_errors_name_the_step(client, marketer):
    client.force_login(marketer)
    rows = [{"event": "view"}, {"sku": "A"}]
    response = client.post(reverse("reports:funnels"), _post_rows(rows, window_value=400))
    html = response.content.decode()
    assert response.status_code == 400 and not Funnel.objects.exists()
    assert "Step 2: choose an event type." in html and "at most 365 days" in html
    assert html.count('data-testid="funnel-step"') == 2 and 'value="A"' in html  # the rows are kept


def test_edit_and_delete_from_the_page(client, marketer, funnel):
    client.force_login(marketer)
    page = client.get(reverse("reports:funnel-edit", args=[funnel.pk]))
    assert page.status_code == 200 and page.content.decode().count('data-testid="funnel-step"') == 4
    rows = [{"event": "view"}, {"event": "purchase", "sku": "SKU-1"}]
    response = client.post(reverse("reports:funnel-edit", args=[funnel.pk]), _post_rows(rows, name="Short"))
    assert response.status_code == 302
    funnel.refresh_from_db()
    assert funnel.name == "Short" and funnel.steps == [{"event": "view"}, {"event": "purchase", "sku": "SKU-1"}]
    assert client.post(reverse("reports:funnel-delete", args=[funnel.pk])).status_code == 302
    assert not Funnel.objects.exists()


def test_viewer_reads_but_does_not_edit(client, viewer, funnel):
    client.force_login(viewer)
    page = client.get(reverse("reports:funnels"))
    assert page.status_code == 200 and 'data-testid="funnel-form"' not in page.content.decode()
    assert client.post(reverse("reports:funnels"), _post_rows(STEPS)).status_code == 403
    assert client.get(reverse("reports:funnel-edit", args=[funnel.pk])).status_code == 403
    assert client.post(reverse("reports:funnel-delete", args=[funnel.pk])).status_code == 403


def test_result_page_table_chart_and_filters(client, viewer, events, funnel):  # noqa: F811
    client.force_login(viewer)
    response = client.get(reverse("reports:funnel", args=[funnel.pk]), {"start": "2025-05-03", "end": "2025-05-10"})
    assert response.status_code == 200
    html = response.content.decode()
    start = dt.datetime(2025, 5, 3, tzinfo=dt.UTC)
    expected = hand_funnel(events, PARSED, dt.timedelta(days=3), start, start + dt.timedelta(days=8))
    assert response.context["chart"]["customers"] == [step["customers"] for step in expected]
    assert response.context["chart"]["drop_off"] == [step["drop_off"] for step in expected]
    assert 'id="funnel-chart-data"' in html and "chart-4.6.1.umd.min.js" in html
    assert f"{expected[1]['from_previous'] * 100:.1f} %" in html
    assert reverse("reports:funnel-csv", args=[funnel.pk]) + "?start=2025-05-03&amp;end=2025-05-10" in html
    partial = client.get(reverse("reports:funnel", args=[funnel.pk]), {"start": "2025-05-03", "end": "2025-05-10"},
                         headers={"HX-Request": "true"})  # fmt: skip
    assert "<html" not in partial.content.decode() and 'data-testid="funnel-table"' in partial.content.decode()


def test_result_page_segment_filter(client, viewer, events, funnel):  # noqa: F811
    segment = Segment.objects.create(name="Few", kind=Segment.Kind.STATIC)
    member = events[0].customer_id
    SegmentMembership.objects.create(segment=segment, customer_id=member, entered_at=SHOP_START)
    client.force_login(viewer)
    response = client.get(reverse("reports:funnel", args=[funnel.pk]), {"segment": segment.pk})
    assert f'<option value="{segment.pk}" selected>' in response.content.decode()
    expected = hand_funnel(events, PARSED, dt.timedelta(days=3), DEFAULT_START, DEFAULT_END, customers={member})
    assert response.context["chart"]["customers"] == [step["customers"] for step in expected]


def test_csv_download_carries_the_numbers(client, viewer, events, funnel):  # noqa: F811
    client.force_login(viewer)
    rows = _csv(
        client.get(reverse("reports:funnel-csv", args=[funnel.pk]), {"start": "2025-05-03", "end": "2025-05-10"})
    )
    start = dt.datetime(2025, 5, 3, tzinfo=dt.UTC)
    expected = hand_funnel(events, PARSED, dt.timedelta(days=3), start, start + dt.timedelta(days=8))
    assert rows[0][:3] == ["step", "label", "event"] and len(rows) == 5
    assert [int(row[7]) for row in rows[1:]] == [step["customers"] for step in expected]
    assert [row[2] for row in rows[1:]] == ["view", "add_to_cart", "purchase", "review"]
    assert float(rows[2][12]) == pytest.approx(expected[1]["times"][0], abs=1e-5)
    assert rows[1][12] == ""  # no time before step 1


def test_pages_redirect_anonymous_visitors(client, funnel):
    for url in (reverse("reports:funnels"), reverse("reports:funnel", args=[funnel.pk]),
                reverse("reports:funnel-csv", args=[funnel.pk])):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
