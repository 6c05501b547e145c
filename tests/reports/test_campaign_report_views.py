"""The campaign report pages, CSV downloads and API through the test client: the numbers
are the hand computation's (see test_campaign_report.py), viewers can read, anonymous
visitors are sent to the login page (or refused by the API)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.campaigns.experiments.factories import campaign_create
from tests.reports.test_campaign_report import FIXED_COST, PER_MESSAGE, campaign_build, converters, welch

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign_data(db):
    return campaign_build()


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_report_page_shows_table_verdict_and_chart_data(client, viewer, campaign_data):
    campaign, hand = campaign_data
    client.force_login(viewer)
    response = client.get(reverse("reports:campaign", args=[campaign.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    b_difference, b_low, b_high = welch(hand["holdout"].revenue, hand["B"].revenue)
    assert f"Variant B earned {b_difference:,.2f} more per recipient than the holdout" in html
    assert f"{sum(hand['B'].revenue):,.2f}" in html  # B's revenue
    for canvas in ("campaign-rates-chart", "campaign-lift-revenue-chart", "campaign-lift-conversion-chart",
                   "campaign-cumulative-chart"):  # fmt: skip
        assert f'id="{canvas}"' in html
    chart = json.loads(html.split('id="campaign-report-data" type="application/json">')[1].split("</script>")[0])
    assert chart["rates"]["series"][0]["data"][:2] == [pytest.approx(90 / 300), pytest.approx(112 / 320)]
    assert chart["lift"]["revenue"][2] == [pytest.approx(b_low), pytest.approx(b_high)]
    assert chart["lift"]["revenue_point"][2] == pytest.approx(b_difference)
    assert len(chart["cumulative"]["labels"]) == 10
    for table in ("groups", "rates", "lift", "cumulative"):
        assert reverse("reports:campaign-csv", args=[campaign.pk, table]) in html


def test_groups_csv_has_every_figure(client, viewer, campaign_data):
    campaign, hand = campaign_data
    client.force_login(viewer)
    rows = _csv(client.get(reverse("reports:campaign-csv", args=[campaign.pk, "groups"])))
    assert [row["group"] for row in rows] == ["Variant A", "Variant B", "Holdout (got nothing)", "Campaign total"]
    b = rows[1]
    cost = PER_MESSAGE * 320 + FIXED_COST * 320 / 620
    revenue = sum(hand["B"].revenue)
    assert (int(b["audience"]), int(b["sent"]), int(b["delivered"])) == (320, 320, 320)
    assert float(b["open_rate"]) == pytest.approx(112 / 320) and float(b["click_rate"]) == pytest.approx(48 / 320)
    assert float(b["conversion_rate"]) == pytest.approx(converters(hand["B"]) / 320)
    assert float(b["revenue"]) == pytest.approx(revenue)
    assert float(b["revenue_per_recipient"]) == pytest.approx(revenue / 320)
    assert float(b["cost"]) == pytest.approx(cost) and float(b["roi"]) == pytest.approx((revenue - cost) / cost)
    assert (int(b["redemptions"]), int(b["unsubscribes"])) == (4, 2)
    assert rows[2]["roi"] == "" and int(rows[2]["audience"]) == 70
    assert int(rows[3]["redemptions"]) == 7


def test_lift_and_cumulative_csv(client, viewer, campaign_data):
    campaign, hand = campaign_data
    client.force_login(viewer)
    lift = _csv(client.get(reverse("reports:campaign-csv", args=[campaign.pk, "lift"])))
    assert [row["arm"] for row in lift] == ["All recipients", "Variant A", "Variant B"]
    difference, low, high = welch(hand["holdout"].revenue, hand["A"].revenue + hand["B"].revenue)
    assert float(lift[0]["incremental_revenue"]) == pytest.approx(difference * 620)
    assert (float(lift[0]["incremental_revenue_low"]), float(lift[0]["incremental_revenue_high"])) == pytest.approx(
        (low * 620, high * 620)
    )
    cumulative = _csv(client.get(reverse("reports:campaign-csv", args=[campaign.pk, "cumulative"])))
    last_b = [row for row in cumulative if row["group"] == "Variant B"][-1]
    assert int(last_b["cumulative_conversions"]) == len(hand["B"].orders)
    assert float(last_b["cumulative_revenue"]) == pytest.approx(sum(hand["B"].revenue))
    rates = _csv(client.get(reverse("reports:campaign-csv", args=[campaign.pk, "rates"])))
    assert float(rates[0]["click_rate"]) == pytest.approx(30 / 300)
    assert client.get(reverse("reports:campaign-csv", args=[campaign.pk, "nothing"])).status_code == 404


def test_list_page_csv_and_pagination(client, viewer, campaign_data):
    campaign, hand = campaign_data
    campaign.dispatches.update(sent=620)
    client.force_login(viewer)
    response = client.get(reverse("reports:campaigns"))
    assert response.status_code == 200
    html = response.content.decode()
    assert campaign.name in html and reverse("reports:campaign", args=[campaign.pk]) in html
    revenue = sum(hand["A"].revenue) + sum(hand["B"].revenue)
    cost = FIXED_COST + PER_MESSAGE * 620
    assert f"{round((revenue - cost) / cost * 100)} %" in html
    (row,) = _csv(client.get(reverse("reports:campaigns-csv")))
    assert float(row["revenue"]) == pytest.approx(revenue) and float(row["cost"]) == pytest.approx(cost)
    assert float(row["roi"]) == pytest.approx((revenue - cost) / cost)

    for _ in range(25):
        campaign_create(status="sent")
    second = client.get(reverse("reports:campaigns"), {"page": 2}, HTTP_HX_REQUEST="true")
    assert second.status_code == 200 and "<h1>" not in second.content.decode()
    assert 'data-testid="campaign-report-row"' in second.content.decode()


def test_campaign_page_links_to_its_report(client, viewer, campaign_data):
    campaign, _hand = campaign_data
    client.force_login(viewer)
    html = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert reverse("reports:campaign", args=[campaign.pk]) in html


def test_api_report_and_list(viewer_api, campaign_data):
    campaign, hand = campaign_data
    campaign.dispatches.update(sent=620)
    body = viewer_api.get(f"/api/reports/campaigns/{campaign.pk}/").json()
    assert body["campaign"]["id"] == campaign.pk
    assert [g["key"] for g in body["groups"]] == ["A", "B", "holdout"]
    a = body["groups"][0]
    assert a["click_rate"] == pytest.approx(30 / 300) and a["delivered"] == 295 and a["redemptions"] == 3
    assert [lift["key"] for lift in body["lifts"]] == ["recipients", "A", "B"]
    difference, low, high = welch(hand["holdout"].revenue, hand["B"].revenue)
    b_lift = body["lifts"][2]
    assert (b_lift["revenue_difference"], b_lift["revenue_low"], b_lift["revenue_high"]) == pytest.approx(
        (difference, low, high)
    )
    assert body["verdict"]["sentences"][0]["code"] == "lift_higher"
    assert body["verdict"]["text"].startswith("Variant B earned")
    assert len(body["cumulative"]) == 3 * 10

    listing = viewer_api.get("/api/reports/campaigns/").json()
    assert listing["count"] == 1
    item = listing["results"][0]
    revenue = sum(hand["A"].revenue) + sum(hand["B"].revenue)
    assert item["sent"] == 620 and item["revenue"] == pytest.approx(revenue)
    assert item["roi"] == pytest.approx((revenue - 81.0) / 81.0)
    assert viewer_api.get("/api/reports/campaigns/999999/").status_code == 404


def test_anonymous_visitors_are_refused(client, campaign_data):
    campaign, _hand = campaign_data
    for url in (reverse("reports:campaigns"), reverse("reports:campaign", args=[campaign.pk]),
                reverse("reports:campaign-csv", args=[campaign.pk, "groups"])):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert APIClient().get("/api/reports/campaigns/").status_code in (401, 403)
    assert APIClient().get(f"/api/reports/campaigns/{campaign.pk}/").status_code in (401, 403)


def test_users_without_campaign_permission_are_refused(client, django_user_model, campaign_data):
    campaign, _hand = campaign_data
    nobody = django_user_model.objects.create_user("nobody", password="x-pass-123")
    client.force_login(nobody)
    assert client.get(reverse("reports:campaign", args=[campaign.pk])).status_code == 403
    api = APIClient()
    api.force_authenticate(user=nobody)
    assert api.get("/api/reports/campaigns/").status_code == 403
