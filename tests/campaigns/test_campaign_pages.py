"""The campaign pages through the test client: the list and its filter, the form (save,
add and remove a variant, template errors inline, refusals next to their field), the
campaign page with its buttons per role, the moves, progress, preview and audit trail."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.roles import Role
from campaigns.models import Campaign, CampaignEvent, Message
from campaigns.services import campaign_launch
from tests.campaigns.test_campaign_services import campaign_build, pool_make, segment_of, sending_policy_open
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

Status = Campaign.Status


@pytest.fixture(autouse=True)
def _no_quiet_hours(db):
    sending_policy_open()


def form_data(segment, **changes) -> dict:
    data = {
        "name": "Spring sale",
        "goal": "conversion",
        "channel": "email",
        "audience_segments": [segment.pk],
        "holdout_percent": "10",
        "test_percent": "100",
        "winner_metric": "click",
        "winner_after_hours": "4",
        "min_sample_per_variant": "100",
        "schedule_kind": "now",
        "time_zone": "UTC",
        "cost_per_message": "0.01",
        "fixed_cost": "0",
        "conversion_window_days": "7",
        "variants-TOTAL_FORMS": "2",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-key": "A",
        "variants-0-weight": "1",
        "variants-0-subject": "Hello {{ customer.first_name }}",
        "variants-0-body_text": "Your code: {{ coupon.code }}",
        "variants-1-key": "B",
        "variants-1-weight": "1",
        "variants-1-subject": "A gift",
        "variants-1-body_text": "Use {{ coupon.code }}",
    }
    return {**data, **changes}


def test_the_list_shows_campaigns_and_filters_by_status(marketer_client):
    segment = segment_of(CustomerFactory.create_batch(2, email_opt_in=True))
    campaign_build(segment, name="Draft one")
    sent = campaign_build(segment, name="Sent one")
    Campaign.objects.filter(pk=sent.pk).update(status=Status.SENT)
    page = marketer_client.get("/campaigns/").content.decode()
    assert "Draft one" in page and "Sent one" in page
    assert 'data-testid="new-campaign"' in page
    filtered = marketer_client.get("/campaigns/?status=sent").content.decode()
    assert "Sent one" in filtered and "Draft one" not in filtered


def test_create_a_campaign_in_the_form(marketer_client, marketer):
    segment = segment_of(CustomerFactory.create_batch(3, email_opt_in=True))
    pool = pool_make()
    response = marketer_client.post("/campaigns/new/", form_data(segment, coupon_pool=str(pool.pk)))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    assert (campaign.holdout_percent, campaign.coupon_pool, campaign.created_by) == (10, pool, marketer)
    assert list(campaign.variants.values_list("key", "subject")) == [
        ("A", "Hello {{ customer.first_name }}"),
        ("B", "A gift"),
    ]


def test_a_time_in_the_form_is_read_in_its_time_zone(marketer_client):
    segment = segment_of(CustomerFactory.create_batch(1, email_opt_in=True))
    data = form_data(segment, schedule_kind="at", send_at="2031-03-01T09:00", time_zone="Europe/Berlin")
    assert marketer_client.post("/campaigns/new/", data).status_code == 302
    assert Campaign.objects.get().send_at == dt.datetime(2031, 3, 1, 8, 0, tzinfo=dt.UTC)


def test_add_and_remove_variant_rows_without_saving(marketer_client):
    segment = segment_of(CustomerFactory.create_batch(1, email_opt_in=True))
    added = marketer_client.post("/campaigns/new/", {**form_data(segment), "variant_action": "add"})
    page = added.content.decode()
    assert added.status_code == 200 and Campaign.objects.count() == 0
    assert page.count('data-testid="variant-row"') == 3
    assert 'name="variants-2-key" value="C"' in page
    assert 'value="A gift"' in page  # what was typed is kept
    removed = marketer_client.post("/campaigns/new/", {**form_data(segment), "variant_action": "remove-0"})
    page = removed.content.decode()
    assert page.count('data-testid="variant-row"') == 1
    assert 'name="variants-0-key" value="B"' in page


def test_template_errors_show_inline_and_nothing_is_saved(marketer_client):
    segment = segment_of(CustomerFactory.create_batch(1, email_opt_in=True))
    data = form_data(segment, **{"variants-1-body_text": "{% if x %}open"})
    response = marketer_client.post("/campaigns/new/", data)
    assert response.status_code == 400
    assert Campaign.objects.count() == 0
    page = response.content.decode()
    errors = re.search(r'id="tpl-variants-1-body_text".*?</div>', page, re.S).group(0)
    assert "errorlist" in errors


def test_the_live_template_check(marketer_client):
    bad = marketer_client.post("/campaigns/template-check/", {"variants-0-subject": "{{ x|nope }}"})
    assert 'data-testid="template-errors"' in bad.content.decode()
    good = marketer_client.post("/campaigns/template-check/", {"variants-0-subject": "Hi {{ customer.first_name }}"})
    assert good.content.decode().strip() == ""


def test_a_service_refusal_shows_next_to_its_field(marketer_client):
    segment = segment_of(CustomerFactory.create_batch(1, email_opt_in=True))
    data = form_data(segment, schedule_kind="recurring", recurrence_minute="99", recurrence_hour="9")
    response = marketer_client.post("/campaigns/new/", data)
    assert response.status_code == 400
    assert "The recurrence is not valid" in response.content.decode()


def test_the_audience_estimate(marketer_client):
    customers = CustomerFactory.create_batch(10, email_opt_in=True)
    CustomerFactory.create_batch(2, email_opt_in=False)
    audience = segment_of(customers + list(CustomerFactory.create_batch(2, email_opt_in=False)))
    excluded = segment_of(customers[:3], name="Staff")
    response = marketer_client.post(
        "/campaigns/audience/",
        {"channel": "email", "audience_segments": [audience.pk], "exclusion_segments": [excluded.pk],
         "holdout_percent": "10"},
    )  # fmt: skip
    page = response.content.decode()
    # 12 members − 3 excluded = 9; 7 of them with email consent; 10 % holdout → 6 recipients.
    assert 'data-testid="audience-recipients">6<' in page
    assert "9 in the audience, 7 of them" in page


def test_the_draft_preview_renders_the_chosen_variant_for_a_customer(marketer_client):
    customer = CustomerFactory(name="Lin Wei", email="lin@example.com", email_opt_in=True)
    segment = segment_of([customer])
    data = {**form_data(segment, coupon_pool=str(pool_make().pk)), "preview_customer": "lin@example.com",
            "preview_variant": "1"}  # fmt: skip
    page = marketer_client.post("/campaigns/preview/", data).content.decode()
    assert 'data-testid="preview-subject">A gift<' in page
    assert "Use SPRING15" in page
    missing = marketer_client.post("/campaigns/preview/", {**data, "preview_customer": "nobody"})
    assert missing.status_code == 404


def test_the_campaign_page_lists_launch_problems_and_disables_launch(marketer_client):
    campaign = campaign_build(audience_segment_ids=[])
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="launch-problems"' in page
    assert "Choose at least one audience segment." in page
    assert re.search(r'data-testid="launch-campaign"\s+disabled', page)


def test_launch_from_the_page_sends_and_shows_progress_and_comparison(
    marketer_client, django_capture_on_commit_callbacks
):
    customers = CustomerFactory.create_batch(20, email_opt_in=True)
    campaign = campaign_build(segment_of(customers), holdout_percent=10)
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(f"/campaigns/{campaign.pk}/launch/")
    assert response.status_code == 302
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'data-status="sent"' in page
    assert 'data-testid="progress-percent">100%<' in page
    assert 'data-polling="false"' in page
    holdout = Message.objects.filter(campaign=campaign, skip_reason=Message.SkipReason.HOLDOUT).count()
    assert (f'data-reason="holdout">In the holdout group: {holdout}<' in page) == (holdout > 0)
    assert 'data-testid="verdict"' in page
    assert page.count('data-testid="comparison-row"') == (3 if holdout else 2)  # A, B and the holdout
    trail = re.search(r'data-testid="audit-trail".*?</ul>', page, re.S).group(0)
    assert 'data-action="launched"' in trail and 'data-action="created"' in trail


def test_the_progress_fragment_polls_while_sending(marketer_client):
    campaign = campaign_build()
    campaign_launch(campaign_id=campaign.pk)  # the send waits for a commit that never comes
    fragment = marketer_client.get(f"/campaigns/{campaign.pk}/progress/", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in fragment.content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.SENT)
    done = marketer_client.get(f"/campaigns/{campaign.pk}/progress/?polling=1", headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.content.decode()
    assert done["HX-Refresh"] == "true"


def test_pause_resume_cancel_and_duplicate_buttons(marketer_client):
    campaign = campaign_build(schedule_kind="at", send_at=timezone.now() + dt.timedelta(days=1))
    marketer_client.post(f"/campaigns/{campaign.pk}/launch/")
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'data-status="scheduled"' in page and 'data-testid="waiting-schedule"' in page
    assert 'data-testid="pause-campaign"' in page
    marketer_client.post(f"/campaigns/{campaign.pk}/pause/")
    assert Campaign.objects.get(pk=campaign.pk).status == Status.PAUSED
    marketer_client.post(f"/campaigns/{campaign.pk}/resume/")
    assert Campaign.objects.get(pk=campaign.pk).status == Status.SCHEDULED
    refused = marketer_client.post(f"/campaigns/{campaign.pk}/resume/", follow=True)
    assert "cannot become" in refused.content.decode()
    marketer_client.post(f"/campaigns/{campaign.pk}/cancel/")
    assert Campaign.objects.get(pk=campaign.pk).status == Status.CANCELLED
    copy = marketer_client.post(f"/campaigns/{campaign.pk}/duplicate/")
    new = Campaign.objects.exclude(pk=campaign.pk).get()
    assert copy["Location"] == f"/campaigns/{new.pk}/edit/" and new.status == Status.DRAFT


def test_only_drafts_open_in_the_form(marketer_client):
    campaign = campaign_build()
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.SENT)
    assert marketer_client.get(f"/campaigns/{campaign.pk}/edit/")["Location"] == f"/campaigns/{campaign.pk}/"


def test_editing_a_draft(marketer_client):
    campaign = campaign_build()
    page = marketer_client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert 'value="Spring sale"' in page and 'name="variants-1-key" value="B"' in page
    segment = campaign.audience_segments.get()
    response = marketer_client.post(f"/campaigns/{campaign.pk}/edit/", form_data(segment, name="Renamed"))
    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).name == "Renamed"
    assert campaign.events.filter(action=CampaignEvent.Action.UPDATED).exists()


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER])
def test_readers_see_no_buttons_and_cannot_change(client, make_user, role):
    campaign = campaign_build()
    client.force_login(make_user(role))
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "launch-campaign" not in page and "duplicate-campaign" not in page and "edit-campaign" not in page
    assert "new-campaign" not in client.get("/campaigns/").content.decode()
    assert client.get("/campaigns/new/").status_code == 403
    assert client.get(f"/campaigns/{campaign.pk}/edit/").status_code == 403
    for action in ("launch", "pause", "resume", "cancel", "duplicate"):
        assert client.post(f"/campaigns/{campaign.pk}/{action}/").status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


def test_the_list_is_paged(marketer_client):
    Campaign.objects.bulk_create(Campaign(name=f"Campaign {n:02d}") for n in range(55))
    first = marketer_client.get("/campaigns/").content.decode()
    assert first.count('data-testid="campaign-row"') == 50 and "Page 1 of 2" in first
    second = marketer_client.get("/campaigns/?page=2").content.decode()
    assert second.count('data-testid="campaign-row"') == 5
