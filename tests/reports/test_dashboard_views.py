"""The dashboard page, its CSV downloads and the API through the test client, against the
hand computation; permissions; the page before the first refresh; the refresh task and
command."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from reports.dashboard.models import DashboardSnapshot
from reports.dashboard.tasks import dashboard_refresh_full_task, dashboard_refresh_task
from reports.dashboard.views import CSV_TABLES
from tests.reports.test_dashboard_data import NOW, hand_figures, shop_build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def shop(db):
    shop = shop_build()
    dashboard_refresh_full_task.delay()
    return shop


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_api_returns_every_hand_computed_figure(viewer_api, shop):
    response = viewer_api.get("/api/reports/dashboard/")
    assert response.status_code == 200
    body = response.json()
    expected = hand_figures(shop)
    assert body["today"] == expected["today"].isoformat() and body["as_of"] is not None
    assert body["customers"] == expected["customers"] and body["active_customers"] == expected["active_customers"]
    assert (body["buyers"], body["repeat_buyers"]) == (expected["buyers"], expected["repeat_buyers"])
    assert body["repurchase_rate"] == pytest.approx(expected["repurchase_rate"])
    revenue = body["revenue"]
    assert Decimal(revenue["current_revenue"]) == expected["current_revenue"]
    assert Decimal(revenue["previous_revenue"]) == expected["previous_revenue"]
    assert (revenue["current_orders"], revenue["previous_orders"]) == (expected["current_orders"],
                                                                       expected["previous_orders"])  # fmt: skip
    assert revenue["change"] == pytest.approx(expected["change"])
    assert [(row["day"], row["orders"], Decimal(row["revenue"]), row["new_buyers"]) for row in body["daily"]] == [
        (day.isoformat(), hand["orders"], hand["revenue"], hand["new_buyers"]) for day, hand in expected["chart"]
    ]
    assert [row["customers"] for row in body["churn_risk"]] == expected["histogram"]
    assert [row["id"] for row in body["segments"]] == expected["segments"]
    assert all(row["share"] == pytest.approx(row["size"] / expected["customers"]) for row in body["segments"])
    assert [(row["id"], row["sent"], Decimal(row["revenue"])) for row in body["campaigns"]] == [
        (hand["id"], hand["sent"], hand["revenue"]) for hand in expected["campaigns"]
    ]
    assert [row["nps"] for row in body["nps"]] == [pytest.approx(hand["nps"]) for hand in expected["nps"]]
    assert [row["reviews"] for row in body["sentiment"]] == [hand["reviews"] for hand in expected["sentiment"]]


def test_api_before_the_first_refresh_has_nulls(viewer_api):
    body = viewer_api.get("/api/reports/dashboard/").json()
    assert body["as_of"] is None and body["customers"] is None and body["repurchase_rate"] is None
    assert len(body["daily"]) == 90 and body["campaigns"] == []


def test_api_needs_authentication():
    assert APIClient().get("/api/reports/dashboard/").status_code in (401, 403)


def test_page_shows_figures_charts_and_report_links(client, viewer, shop):
    client.force_login(viewer)
    response = client.get(reverse("reports:index"))
    assert response.status_code == 200
    html = response.content.decode()
    expected = hand_figures(shop)
    assert f"{expected['repurchase_rate'] * 100:.1f} %" in html
    for canvas in ("sales", "churn", "segments", "campaigns", "trend"):
        assert f'id="dashboard-{canvas}-chart"' in html
    assert 'id="dashboard-chart-data"' in html and "chart-4.6.1.umd.min.js" in html
    assert reverse("reports:retention") in html
    for table in CSV_TABLES:
        assert reverse("reports:dashboard-csv", args=[table]) in html
    chart = response.context["chart"]
    assert chart["sales"]["orders"] == [hand["orders"] for _, hand in expected["chart"]]
    assert chart["churn"]["customers"] == expected["histogram"]
    assert "not-computed" not in html


def test_page_before_the_first_refresh_says_so(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("reports:index")).content.decode()
    assert 'data-testid="not-computed"' in html and 'id="dashboard-churn-chart"' not in html


def test_page_needs_login(client):
    response = client.get(reverse("reports:index"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("table", CSV_TABLES)
def test_every_csv_download(client, viewer, shop, table):
    client.force_login(viewer)
    rows = _csv(client.get(reverse("reports:dashboard-csv", args=[table])))
    expected = hand_figures(shop)
    header, body = rows[0], rows[1:]
    if table == "figures":
        values = {row[0]: row[1] for row in body}
        assert int(values["customers"]) == expected["customers"]
        assert int(values["active_customers"]) == expected["active_customers"]
        assert float(values["repurchase_rate"]) == pytest.approx(expected["repurchase_rate"], abs=1e-6)
        assert Decimal(values["revenue_last_30_days"]) == expected["current_revenue"]
        assert Decimal(values["revenue_previous_30_days"]) == expected["previous_revenue"]
    elif table == "sales":
        assert header == ["day", "orders", "revenue", "buyers", "new_buyers"]
        assert [[row[0], int(row[1]), Decimal(row[2]), int(row[3]), int(row[4])] for row in body] == [
            [day.isoformat(), h["orders"], h["revenue"], h["buyers"], h["new_buyers"]] for day, h in expected["chart"]
        ]
    elif table == "churn-risk":
        assert [int(row[2]) for row in body] == expected["histogram"] and body[0][:2] == ["0.00", "0.10"]
    elif table == "segments":
        assert [int(row[0]) for row in body] == expected["segments"]
    elif table == "campaigns":
        assert [(int(row[0]), int(row[4]), Decimal(row[6]), Decimal(row[7])) for row in body] == [
            (h["id"], h["sent"], h["revenue"], h["cost"].quantize(Decimal("0.01"))) for h in expected["campaigns"]
        ]
        assert [row[8] == "" for row in body] == [h["roi"] is None for h in expected["campaigns"]]
    elif table == "nps":
        assert [int(row[1]) for row in body] == [h["responses"] for h in expected["nps"]]
        assert [float(row[5]) if row[5] else None for row in body] == [
            None if h["nps"] is None else pytest.approx(h["nps"], abs=1e-4) for h in expected["nps"]
        ]
    else:
        assert [int(row[1]) for row in body] == [h["reviews"] for h in expected["sentiment"]]
        assert [int(row[3]) for row in body] == [h["positive"] for h in expected["sentiment"]]


def test_unknown_csv_is_not_found(client, viewer):
    client.force_login(viewer)
    assert client.get("/reports/dashboard/nothing.csv").status_code == 404


def test_periodic_task_and_command_add_snapshots(shop):
    before = DashboardSnapshot.objects.count()
    dashboard_refresh_task.delay()
    out = io.StringIO()
    call_command("refresh_reports", stdout=out)
    assert "dashboard: " in out.getvalue() and "retention: full" in out.getvalue()
    assert DashboardSnapshot.objects.count() == before + 2
