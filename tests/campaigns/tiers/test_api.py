"""The member tiers REST API through the test client: definitions, refusals with codes,
the standard set, recalculation as a job, customers per tier, a customer's history, roles."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Tier, TierChange
from campaigns.tiers.services import tier_create, tiers_create_standard, tiers_recalculate
from customers.models import Customer
from jobs.models import Job
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
BASE = "/api/campaigns/tiers/"


def test_create_list_update_delete(api_client):
    created = api_client.post(BASE, {"name": "gold", "rank": 3, "threshold": "8000"}, format="json")
    assert created.status_code == 201
    gold = created.json()
    assert (gold["metric"], gold["threshold"], gold["window_days"]) == ("spend", "8000.00", 365)
    api_client.post(BASE, {"name": "buyer", "rank": 1, "metric": "orders", "threshold": 1, "window_days": 30})
    assert [t["name"] for t in api_client.get(BASE).json()] == ["buyer", "gold"]

    CustomerFactory(member_tier="gold")
    changed = api_client.patch(f"{BASE}{gold['id']}/", {"name": "Gold"}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "Gold"
    assert Customer.objects.filter(member_tier="Gold").count() == 1
    assert api_client.get(f"{BASE}{gold['id']}/").json()["threshold"] == "8000.00"
    assert api_client.delete(f"{BASE}{gold['id']}/").status_code == 204
    assert list(Tier.objects.values_list("name", flat=True)) == ["buyer"]


def test_refusals_come_with_codes(api_client):
    tier_create(name="silver", rank=2, threshold=Decimal("2000"))
    taken = api_client.post(BASE, {"name": "Silver", "rank": 5, "threshold": "1"}, format="json")
    assert taken.status_code == 400
    assert taken.json()["errors"][0] | {"message": ""} == {"field": "name", "code": "name_taken", "message": ""}
    lower = api_client.post(BASE, {"name": "gold", "rank": 3, "threshold": "1500"}, format="json")
    assert lower.json()["errors"][0]["code"] == "threshold_order"
    window = api_client.post(BASE, {"name": "gold", "rank": 3, "threshold": "1", "window_days": 0}, format="json")
    assert window.status_code == 400 and "window_days" in window.json()
    silver = Tier.objects.get()
    patch = api_client.patch(f"{BASE}{silver.pk}/", {"metric": "orders", "threshold": "2.5"}, format="json")
    assert patch.json()["errors"][0]["code"] == "threshold_not_whole"


def test_standard_tiers_twice(api_client):
    first = api_client.post(f"{BASE}standard/").json()
    assert [t["name"] for t in first["created"]] == ["bronze", "silver", "gold", "platinum"]
    second = api_client.post(f"{BASE}standard/").json()
    assert second["created"] == [] and len(second["tiers"]) == 4


def test_recalculate_runs_a_job(api_client, django_capture_on_commit_callbacks):
    tiers_create_standard()
    buyer = CustomerFactory(member_tier="")
    OrderFactory(customer=buyer, ordered_at=timezone.now() - dt.timedelta(days=10), total=Decimal("2500"))
    with django_capture_on_commit_callbacks(execute=True):
        started = api_client.post(f"{BASE}recalculate/")
    assert started.status_code == 202
    job = Job.objects.get(pk=started.json()["job_id"])
    assert job.status == Job.Status.SUCCEEDED and job.result["summary"]["changed"] == 1
    assert Customer.objects.get(pk=buyer.pk).member_tier == "silver"


def test_distribution_and_history(api_client):
    tiers_create_standard()
    now = timezone.now()
    spender, idle = CustomerFactory(member_tier=""), CustomerFactory(member_tier="gold")
    vip = CustomerFactory(member_tier="vip")
    OrderFactory(customer=spender, ordered_at=now - dt.timedelta(days=1), total=Decimal("9000"))
    tiers_recalculate(now=now)
    # "vip" is not a defined tier: the recalculation took it away
    assert TierChange.objects.filter(customer=vip, from_tier="vip", to_tier="").count() == 1
    Customer.objects.filter(pk=vip.pk).update(member_tier="vip")  # e.g. set by hand since
    rows = api_client.get(f"{BASE}distribution/").json()
    assert [(r["name"], r["customers"], r["defined"], r["percent"]) for r in rows] == [
        ("platinum", 0, True, 0.0), ("gold", 1, True, 33.3), ("silver", 0, True, 0.0), ("bronze", 0, True, 0.0),
        ("vip", 1, False, 33.3), ("", 1, True, 33.3),
    ]  # fmt: skip
    history = api_client.get(f"{BASE}customers/{idle.external_id}/history/").json()
    assert history["member_tier"] == "" and [(c["from_tier"], c["to_tier"]) for c in history["changes"]] == [
        ("gold", "")
    ]
    assert api_client.get(f"{BASE}customers/nobody/history/").status_code == 404


def test_viewers_read_but_do_not_change(viewer):
    client = APIClient()
    client.force_authenticate(user=viewer)
    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}distribution/").status_code == 200
    assert client.post(BASE, {"name": "gold", "rank": 3, "threshold": "1"}, format="json").status_code == 403
    assert client.post(f"{BASE}recalculate/").status_code == 403
    assert client.post(f"{BASE}standard/").status_code == 403
    assert APIClient().get(BASE).status_code in (401, 403)
