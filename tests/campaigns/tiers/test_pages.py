"""The member tiers page through the test client: definitions added and edited with htmx
and without, refusals shown next to the field, the standard set, recalculation with its
progress bar, customers per tier, latest changes, the profile panel; viewers only read."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Tier
from campaigns.tiers.profile import customer_tier_panel
from campaigns.tiers.services import tier_create, tiers_create_standard, tiers_recalculate
from customers import profile_panels
from customers.models import Customer
from jobs.models import Job
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE = "/campaigns/tiers/"


def _tier(**changes) -> dict:
    return {"name": "gold", "rank": 3, "metric": "spend", "threshold": "8000", "window_days": 365} | changes


def test_page_shows_every_part(marketer_client):
    tiers_create_standard()
    customer = CustomerFactory(member_tier="")
    OrderFactory(customer=customer, ordered_at=timezone.now() - dt.timedelta(days=3), total=Decimal("2500"))
    tiers_recalculate()
    html = marketer_client.get(PAGE).content.decode()
    for part in ("tier-definitions", "tier-form", "tier-standard", "tier-distribution", "tier-recalculate"):
        assert f'data-testid="{part}"' in html
    assert html.count('data-testid="tier-row"') == 4
    assert 'data-testid="tier-change"' in html and customer.external_id in html


def test_add_edit_delete_with_htmx(marketer_client):
    added = marketer_client.post(f"{PAGE}new/", _tier(), **HTMX)
    fragment = added.content.decode()
    assert added.status_code == 200 and "<html" not in fragment and 'data-tier="gold"' in fragment
    gold = Tier.objects.get(name="gold")

    refused = marketer_client.post(f"{PAGE}new/", _tier(name="GOLD", rank=4), **HTMX)
    assert 'data-testid="error-name"' in refused.content.decode() and Tier.objects.count() == 1

    form = marketer_client.get(f"{PAGE}{gold.pk}/edit/", **HTMX).content.decode()
    assert 'value="8000.00"' in form and f"/campaigns/tiers/{gold.pk}/edit/" in form
    saved = marketer_client.post(f"{PAGE}{gold.pk}/edit/", _tier(threshold="9000.50"), **HTMX)
    assert saved.status_code == 200 and Tier.objects.get().threshold == Decimal("9000.50")
    window = marketer_client.post(f"{PAGE}{gold.pk}/edit/", _tier(window_days="0"), **HTMX)
    assert 'data-testid="error-window_days"' in window.content.decode()

    marketer_client.post(f"{PAGE}{gold.pk}/delete/", **HTMX)
    assert not Tier.objects.exists()


def test_forms_work_without_htmx(marketer_client):
    added = marketer_client.post(f"{PAGE}new/", _tier())
    assert added.status_code == 302 and added["Location"] == PAGE
    tier_create(name="silver", rank=2, threshold=Decimal("2000"))
    refused = marketer_client.post(f"{PAGE}new/", _tier(name="platinum", rank=4, threshold="5000"))
    assert refused.status_code == 400 and 'data-testid="error-threshold"' in refused.content.decode()
    gold = Tier.objects.get(name="gold")
    assert marketer_client.get(f"{PAGE}{gold.pk}/edit/").status_code == 200
    assert marketer_client.post(f"{PAGE}{gold.pk}/edit/", _tier(name="Gold")).status_code == 302
    assert Tier.objects.filter(name="Gold").exists()


def test_standard_button_and_clash(marketer_client):
    fragment = marketer_client.post(f"{PAGE}standard/", **HTMX).content.decode()
    assert fragment.count('data-testid="tier-row"') == 4
    assert marketer_client.post(f"{PAGE}standard/").status_code == 302
    Tier.objects.all().delete()
    tier_create(name="vip", rank=2, threshold=Decimal("1"))
    clash = marketer_client.post(f"{PAGE}standard/", **HTMX).content.decode()
    assert 'data-code="rank_taken"' in clash


def test_recalculate_shows_the_job(marketer_client, django_capture_on_commit_callbacks):
    tiers_create_standard()
    customer = CustomerFactory(member_tier="gold")
    with django_capture_on_commit_callbacks(execute=True):
        answer = marketer_client.post(f"{PAGE}recalculate/", **HTMX)
    job = Job.objects.get(kind="tiers_recalculate")
    assert f'id="job-{job.pk}"' in answer.content.decode()
    assert Customer.objects.get(pk=customer.pk).member_tier == ""
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert f'id="job-{job.pk}"' in marketer_client.get(PAGE).content.decode()


def test_viewers_read_only(client, viewer):
    client.force_login(viewer)
    html = client.get(PAGE).content.decode()
    assert 'data-testid="tier-distribution"' in html and 'data-testid="tier-form"' not in html
    assert 'data-testid="tier-recalculate"' not in html
    assert client.post(f"{PAGE}new/", _tier()).status_code == 403
    assert client.post(f"{PAGE}recalculate/").status_code == 403
    assert not Tier.objects.exists()


@pytest.fixture
def tier_panel_registered():
    """The lead registers the panel in CampaignsConfig.ready(); until then the test does."""
    before = list(profile_panels._panels)
    profile_panels.profile_panel_register(customer_tier_panel, order=50)
    yield
    profile_panels._panels[:] = before


def test_profile_panel(marketer_client, tier_panel_registered):
    customer = CustomerFactory(member_tier="")
    assert customer_tier_panel(customer) is None  # no tiers, no history
    tiers_create_standard()
    now = timezone.now()
    OrderFactory(customer=customer, ordered_at=now - dt.timedelta(days=2), total=Decimal("8000"))
    tiers_recalculate(now=now - dt.timedelta(days=1))
    html = marketer_client.get(f"/customers/{customer.external_id}/").content.decode()
    assert 'data-testid="customer-tier"' in html and 'data-testid="customer-tier-history"' in html
    assert ">gold</span>" in html
