"""The retention API, page and CSV downloads through the test client: the numbers are the
hand computation's, filters come from the query string, viewers can read, anonymous
visitors are sent to the login page."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from segments.models import Segment, SegmentMembership
from tests.factories import CustomerFactory, OrderFactory
from tests.reports.conftest import NOW, hand_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(("period", "cohorts"), [("month", 12), ("week", 26)])
def test_api_returns_the_hand_computed_report(viewer_api, shop, period, cohorts):
    response = viewer_api.get("/api/reports/retention/", {"period": period})
    assert response.status_code == 200
    body = response.json()
    expected = hand_report(shop, period=period, cohorts=cohorts)
    assert body["period"] == period and body["segment"] is None and len(body["cohorts"]) == cohorts
    assert body["sizes"] == expected["sizes"] and body["repeat_customers"] == expected["repeat"]
    assert body["customers"] == sum(expected["sizes"])
    assert body["repurchase_rate"] == pytest.approx(expected["repurchase_rate"])
    for row, hand_row in zip(body["matrix"], expected["matrix"], strict=True):
        assert row == [None if hand is None else pytest.approx(hand) for hand in hand_row]
    assert [row["active"] for row in body["active"]] == expected["active"]
    assert [row["new"] for row in body["active"]] == expected["sizes"]
    assert all(row["returning"] == row["active"] - row["new"] for row in body["active"])


def test_api_segment_and_cohort_count(viewer_api, shop):
    segment = Segment.objects.create(name="Loyal", kind=Segment.Kind.STATIC)
    members = sorted({order.customer_id for order in shop})[1::3]
    for customer_id in members:
        SegmentMembership.objects.create(segment=segment, customer_id=customer_id, entered_at=NOW)
    body = viewer_api.get("/api/reports/retention/", {"segment": segment.pk, "cohorts": 8}).json()
    expected = hand_report(shop, period="month", cohorts=8, customers=set(members))
    assert body["segment"] == segment.pk and body["sizes"] == expected["sizes"]
    assert [row["active"] for row in body["active"]] == expected["active"]


@pytest.mark.parametrize("query", [{"period": "year"}, {"segment": 999999}, {"cohorts": 0}, {"cohorts": "x"}])
def test_api_rejects_bad_parameters(viewer_api, query):
    assert viewer_api.get("/api/reports/retention/", query).status_code == 400


def test_api_needs_authentication():
    assert APIClient().get("/api/reports/retention/").status_code in (401, 403)


def test_page_shows_heatmap_chart_data_and_repurchase_rate(client, viewer, shop):
    client.force_login(viewer)
    response = client.get(reverse("reports:retention"), {"period": "week"})
    assert response.status_code == 200
    html = response.content.decode()
    expected = hand_report(shop, period="week", cohorts=26)
    assert f"{expected['repurchase_rate'] * 100:.1f} %" in html
    assert 'id="retention-active-data"' in html and "chart-4.6.1.umd.min.js" in html
    assert "--shade: 1.000" in html  # period 0 of a non-empty cohort
    assert html.count('class="cell') == sum(
        1 for c, size in enumerate(expected["sizes"]) if size for share in expected["matrix"][c] if share is not None
    )
    context = response.context
    assert [row["size"] for row in context["heatmap"]] == expected["sizes"]
    assert [row["active"] for row in context["active"]] == expected["active"]
    assert reverse("reports:retention-csv", args=["matrix"]) + "?period=week" in html


def test_page_filters_by_segment_and_shows_it_selected(client, viewer, shop):
    segment = Segment.objects.create(name="Few", kind=Segment.Kind.STATIC)
    member = shop[0].customer_id
    SegmentMembership.objects.create(segment=segment, customer_id=member, entered_at=NOW)
    client.force_login(viewer)
    response = client.get(reverse("reports:retention"), {"segment": segment.pk})
    assert f'<option value="{segment.pk}" selected>' in response.content.decode()
    expected = hand_report(shop, period="month", cohorts=12, customers={member})
    assert [row["size"] for row in response.context["heatmap"]] == expected["sizes"]


def test_page_with_bad_filters_falls_back_to_the_defaults(client, viewer, shop):
    client.force_login(viewer)
    response = client.get(reverse("reports:retention"), {"period": "decade", "cohorts": "-3"})
    assert response.status_code == 200
    assert len(response.context["heatmap"]) == 12 and response.context["form"].errors
    assert 'class="error"' in response.content.decode()
    weekly = client.get(reverse("reports:retention"), {"period": "week", "cohorts": "0"})
    assert len(weekly.context["heatmap"]) == 26 and weekly.context["weekly"]


def test_page_and_downloads_redirect_anonymous_visitors(client):
    for url in (reverse("reports:index"), reverse("reports:retention"),
                reverse("reports:retention-csv", args=["matrix"])):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_index_lists_the_retention_report(client, viewer):
    client.force_login(viewer)
    assert reverse("reports:retention") in client.get(reverse("reports:index")).content.decode()


def test_csv_downloads_carry_the_numbers(client, viewer, shop):
    client.force_login(viewer)
    expected = hand_report(shop, period="month", cohorts=12)

    matrix = _csv(client.get(reverse("reports:retention-csv", args=["matrix"])))
    assert matrix[0][:3] == ["cohort", "customers", "period_0"] and len(matrix) == 13
    for row, size, hand_row in zip(matrix[1:], expected["sizes"], expected["matrix"], strict=True):
        assert int(row[1]) == size
        assert [None if cell == "" else pytest.approx(float(cell), abs=1e-6) for cell in row[2:]] == hand_row
    assert dt.date.fromisoformat(matrix[-1][0]) == dt.date(2025, 6, 1)

    active = _csv(client.get(reverse("reports:retention-csv", args=["active"])))
    assert active[0] == ["period", "active", "new", "returning"]
    assert [int(row[1]) for row in active[1:]] == expected["active"]

    repurchase = _csv(client.get(reverse("reports:retention-csv", args=["repurchase"])))
    assert [int(row[2]) for row in repurchase[1:-1]] == expected["repeat"]
    assert repurchase[-1][0] == "all" and float(repurchase[-1][3]) == pytest.approx(expected["repurchase_rate"])

    weekly = _csv(client.get(reverse("reports:retention-csv", args=["active"]), {"period": "week", "cohorts": 4}))
    assert len(weekly) == 5 and all(dt.date.fromisoformat(row[0]).weekday() == 0 for row in weekly[1:])
    assert client.get(reverse("reports:retention-csv", args=["other"])).status_code == 404


def test_rebuild_button_is_for_marketers_and_picks_up_new_orders(client, viewer, marketer, shop):
    """The page says when the figures were built; a marketer's "Rebuild now" rebuilds them
    (the task runs eagerly in tests); a viewer sees no button and may not post."""
    newcomer = CustomerFactory()
    OrderFactory(customer=newcomer, ordered_at=NOW - dt.timedelta(days=1))
    client.force_login(viewer)
    page = client.get(reverse("reports:retention")).content.decode()
    assert 'data-testid="refreshed-at"' in page and 'data-testid="retention-refresh"' not in page
    assert client.post(reverse("reports:retention-refresh")).status_code == 403
    expected = hand_report(shop, period="month", cohorts=12)
    assert client.get("/api/reports/retention/").json()["sizes"] == expected["sizes"]

    client.force_login(marketer)
    assert 'data-testid="retention-refresh"' in client.get(reverse("reports:retention")).content.decode()
    response = client.post(reverse("reports:retention-refresh"))
    assert response.status_code == 302 and response["Location"] == reverse("reports:retention")
    body = client.get("/api/reports/retention/").json()
    assert body["sizes"] == expected["sizes"][:-1] + [expected["sizes"][-1] + 1]
    assert body["refreshed_at"] is not None
