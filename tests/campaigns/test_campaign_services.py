"""The campaign lifecycle services: drafts, every launch check (one test per refusal
code and field), the state machine's moves (allowed and refused) and the audit trail."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.errors import CampaignError, CampaignErrorCode
from campaigns.models import Campaign, CampaignEvent, CouponPool, Message, SendingPolicy
from campaigns.services import (
    campaign_cancel,
    campaign_create,
    campaign_duplicate,
    campaign_launch,
    campaign_launch_problems,
    campaign_pause,
    campaign_resume,
    campaign_update,
)
from segments.models import Segment, SegmentMembership
from tests.factories import CustomerFactory

Code = CampaignErrorCode
Status = Campaign.Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_quiet_hours(db):
    """Sends go out whatever the time of day the tests run, and no cap holds them back."""
    sending_policy_open()


def sending_policy_open() -> SendingPolicy:
    return SendingPolicy.objects.update_or_create(
        pk=1,
        defaults={
            "quiet_hours_enabled": False,
            "quiet_start": dt.time(21),
            "quiet_end": dt.time(9),
            "frequency_cap_messages": 0,
        },
    )[0]


TEXT = "Hi {{ customer.first_name }}, your code is {{ coupon.code }}."


def segment_of(customers, name: str = "Loyal") -> Segment:
    """A static segment whose current members are ``customers``."""
    segment = Segment.objects.create(name=name, kind=Segment.Kind.STATIC, size=len(customers))
    now = timezone.now()
    SegmentMembership.objects.bulk_create(
        SegmentMembership(segment=segment, customer=customer, entered_at=now) for customer in customers
    )
    return segment


def pool_make(**fields) -> CouponPool:
    defaults = {"name": "Spring 15%", "kind": CouponPool.Kind.SHARED, "shared_code": "SPRING15"}
    return CouponPool.objects.create(discount_value=Decimal("15"), **{**defaults, **fields})


def variants_two() -> list[dict]:
    return [
        {"key": "A", "subject": "Hello {{ customer.first_name }}", "body_text": TEXT},
        {"key": "B", "subject": "A gift for you", "body_text": TEXT, "weight": 2},
    ]


def campaign_build(segment: Segment | None = None, **fields) -> Campaign:
    """A complete email campaign (launchable as it is) with two variants."""
    if segment is None:
        segment = segment_of(CustomerFactory.create_batch(5, email_opt_in=True))
    values = {
        "name": "Spring sale",
        "channel": "email",
        "audience_segment_ids": [segment.pk],
        "variants": variants_two(),
    }
    return campaign_create(**{**values, **fields})


def refusal(campaign: Campaign) -> set[tuple[str, str]]:
    return {(problem.code.value, problem.field) for problem in campaign_launch_problems(campaign=campaign)}


# --- drafts -------------------------------------------------------------------------------


def test_create_writes_the_draft_its_variants_audience_and_the_created_event(marketer):
    customers = CustomerFactory.create_batch(3, email_opt_in=True)
    audience, excluded = segment_of(customers), segment_of(customers[:1], name="Staff")
    pool = pool_make()
    campaign = campaign_create(
        name="  Spring sale ",
        channel="email",
        goal="winback",
        audience_segment_ids=[audience.pk],
        exclusion_segment_ids=[excluded.pk],
        tiers=["gold", "silver", "gold"],
        coupon_pool_id=pool.pk,
        variants=[{"subject": "One", "body_text": "x"}, {"subject": "Two", "body_text": "y", "weight": 3}],
        holdout_percent=10,
        budget=Decimal("500"),
        cost_per_message=Decimal("0.01"),
        user=marketer,
    )
    campaign.refresh_from_db()
    assert campaign.name == "Spring sale"
    assert campaign.status == Status.DRAFT
    assert campaign.goal == "winback"
    assert campaign.tiers == ["gold", "silver"]
    assert campaign.coupon_pool == pool
    assert campaign.created_by == marketer
    assert list(campaign.audience_segments.all()) == [audience]
    assert list(campaign.exclusion_segments.all()) == [excluded]
    assert list(campaign.variants.values_list("key", "subject", "weight")) == [("A", "One", 1), ("B", "Two", 3)]
    event = campaign.events.get()
    assert (event.action, event.to_status, event.actor) == (CampaignEvent.Action.CREATED, Status.DRAFT, marketer)


def test_a_send_time_without_an_offset_is_read_in_the_campaign_time_zone():
    campaign = campaign_build(schedule_kind="at", send_at=dt.datetime(2031, 3, 1, 9, 0), time_zone="Asia/Shanghai")
    campaign.refresh_from_db()
    assert campaign.send_at == dt.datetime(2031, 3, 1, 1, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"holdout_percent": 51}, Code.OUT_OF_RANGE, "holdout_percent"),
        ({"holdout_percent": -1}, Code.OUT_OF_RANGE, "holdout_percent"),
        ({"test_percent": 0}, Code.OUT_OF_RANGE, "test_percent"),
        ({"test_percent": 101}, Code.OUT_OF_RANGE, "test_percent"),
        ({"test_percent": 20, "winner_after_hours": 0}, Code.OUT_OF_RANGE, "winner_after_hours"),
        ({"test_percent": 20, "winner_after_hours": 169}, Code.OUT_OF_RANGE, "winner_after_hours"),
        ({"time_zone": "Mars/Olympus"}, Code.BAD_TIME_ZONE, "time_zone"),
        ({"schedule_kind": "recurring", "recurrence": {"minute": "61", "hour": "9"}}, Code.BAD_RECURRENCE,
         "recurrence.minute"),
        ({"schedule_kind": "recurring", "recurrence": {"minute": "0"}}, Code.BAD_RECURRENCE, "recurrence.hour"),
        ({"schedule_kind": "recurring", "recurrence": {"minute": "0", "hour": "9", "day_of_week": "funday"}},
         Code.BAD_RECURRENCE, "recurrence.day_of_week"),
        ({"schedule_kind": "recurring", "recurrence": {"minute": "0", "hour": "9", "second": "1"}},
         Code.BAD_RECURRENCE, "recurrence.second"),
        ({"channel": "pigeon"}, Code.INVALID, "channel"),
        ({"name": " "}, Code.REQUIRED, "name"),
        ({"variants": [{"key": "A", "weight": 0}]}, Code.OUT_OF_RANGE, "variants[0].weight"),
        ({"variants": [{"key": "A"}, {"key": "a"}]}, Code.INVALID, "variants[1].key"),
        ({"audience_segment_ids": [987654]}, Code.NOT_FOUND, "audience_segments"),
        ({"coupon_pool_id": 987654}, Code.NOT_FOUND, "coupon_pool"),
        ({"budget": Decimal("-1")}, Code.INVALID, "budget"),
        ({"conversion_window_days": 0}, Code.OUT_OF_RANGE, "conversion_window_days"),
    ],
)  # fmt: skip
def test_a_draft_with_values_out_of_bounds_is_refused_naming_the_field(fields, code, field):
    with pytest.raises(CampaignError) as refused:
        campaign_build(**fields)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert Campaign.objects.count() == 0


def test_update_changes_a_draft_keeps_variant_rows_by_key_and_records_the_fields(marketer):
    campaign = campaign_build()
    kept = campaign.variants.get(key="A").pk
    campaign_update(
        campaign_id=campaign.pk,
        name="Spring sale 2",
        holdout_percent=10,
        variants=[{"key": "A", "subject": "New", "body_text": "x"}, {"key": "C", "subject": "C", "body_text": "y"}],
        user=marketer,
    )
    campaign.refresh_from_db()
    assert (campaign.name, campaign.holdout_percent) == ("Spring sale 2", 10)
    assert list(campaign.variants.values_list("key", flat=True)) == ["A", "C"]
    assert campaign.variants.get(key="A").pk == kept
    event = campaign.events.get(action=CampaignEvent.Action.UPDATED)
    assert event.details["fields"] == ["holdout_percent", "name", "variants"]
    assert event.actor == marketer


def test_only_a_draft_can_be_edited(django_capture_on_commit_callbacks):
    campaign = campaign_build(schedule_kind="at", send_at=timezone.now() + dt.timedelta(days=1))
    campaign_launch(campaign_id=campaign.pk)
    with pytest.raises(CampaignError) as refused:
        campaign_update(campaign_id=campaign.pk, name="Changed")
    assert refused.value.code == Code.NOT_EDITABLE
    assert Campaign.objects.get(pk=campaign.pk).name == "Spring sale"


def test_duplicate_copies_settings_audience_and_variants_as_a_new_draft(marketer):
    campaign = campaign_build(holdout_percent=10, tiers=["gold"])
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.SENT)
    copy = campaign_duplicate(campaign_id=campaign.pk, user=marketer)
    assert copy.pk != campaign.pk
    assert (copy.status, copy.name, copy.holdout_percent, copy.tiers) == (
        Status.DRAFT, "Copy of Spring sale", 10, ["gold"],
    )  # fmt: skip
    assert list(copy.audience_segments.all()) == list(campaign.audience_segments.all())
    assert list(copy.variants.values_list("key", "subject", "body_text", "weight")) == list(
        campaign.variants.values_list("key", "subject", "body_text", "weight")
    )
    assert copy.events.get().details == {"duplicated_from": campaign.pk}


# --- launch checks ------------------------------------------------------------------------


def test_a_complete_campaign_has_no_launch_problems():
    assert campaign_launch_problems(campaign=campaign_build()) == []


def test_no_audience_segment():
    campaign = campaign_build(audience_segment_ids=[])
    assert (Code.NO_AUDIENCE.value, "audience_segments") in refusal(campaign)


def test_no_variants():
    campaign = campaign_build(variants=[])
    assert (Code.NO_VARIANTS.value, "variants") in refusal(campaign)


@pytest.mark.parametrize(
    ("channel", "variant", "field"),
    [
        ("email", {"body_text": "text"}, "variants[0].subject"),
        ("email", {"subject": "Hi"}, "variants[0].body_text"),
        ("sms", {"subject": "Hi"}, "variants[0].body_text"),
        ("webhook", {"body_html": "<p>x</p>"}, "variants[0].body_text"),
    ],
)
def test_each_channel_needs_its_parts(channel, variant, field):
    customers = CustomerFactory.create_batch(2, email_opt_in=True, sms_opt_in=True)
    campaign = campaign_build(segment_of(customers), channel=channel, variants=[{"key": "A", **variant}])
    assert refusal(campaign) == {(Code.REQUIRED.value, field)}


def test_email_with_html_only_is_complete():
    campaign = campaign_build(variants=[{"key": "A", "subject": "Hi", "body_html": "<p>Hi</p>"}])
    assert refusal(campaign) == set()


@pytest.mark.parametrize(
    ("part", "text"),
    [
        ("subject", "Hi {{ customer.name|no_such_filter }}"),
        ("body_text", "{% if x %}never closed"),
        ("body_html", "<p>{% load static %}</p>"),
    ],
)
def test_a_broken_or_forbidden_template_names_variant_and_part(part, text):
    variant = {"key": "B", "subject": "Hi", "body_text": "ok", **{part: text}}
    campaign = campaign_build(variants=[{"key": "A", "subject": "Hi", "body_text": "x"}, variant])
    problems = campaign_launch_problems(campaign=campaign)
    assert [(p.code, p.field) for p in problems] == [(Code.BAD_TEMPLATE, f"variants[1].{part}")]
    assert problems[0].message.startswith("Variant B, ")


def test_send_at_is_required_and_must_be_in_the_future():
    campaign = campaign_build(schedule_kind="at")
    assert refusal(campaign) == {(Code.REQUIRED.value, "send_at")}
    campaign_update(campaign_id=campaign.pk, send_at=timezone.now() - dt.timedelta(minutes=1))
    campaign.refresh_from_db()
    assert refusal(campaign) == {(Code.IN_THE_PAST.value, "send_at")}


def test_recurring_needs_a_recurrence():
    campaign = campaign_build()
    Campaign.objects.filter(pk=campaign.pk).update(schedule_kind="recurring", recurrence={})
    campaign.refresh_from_db()
    assert (Code.REQUIRED.value, "recurrence") in refusal(campaign)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (Code.REQUIRED, "trigger")),
        ({"trigger": "segment_entry"}, (Code.REQUIRED, "trigger_segment")),
        ({"trigger": "churn_risk"}, (Code.REQUIRED, "trigger_threshold")),
        ({"trigger": "churn_risk", "trigger_threshold": 0}, (Code.OUT_OF_RANGE, "trigger_threshold")),
        ({"trigger": "churn_risk", "trigger_threshold": 1.2}, (Code.OUT_OF_RANGE, "trigger_threshold")),
        ({"trigger": "abandoned_cart"}, (Code.REQUIRED, "trigger_hours")),
        ({"trigger": "abandoned_cart", "trigger_hours": 0}, (Code.OUT_OF_RANGE, "trigger_hours")),
        ({"trigger": "tier_change"}, (Code.REQUIRED, "trigger_tier")),
    ],
)
def test_trigger_settings_must_be_complete(fields, expected):
    campaign = campaign_build(schedule_kind="trigger", **fields)
    assert refusal(campaign) == {(expected[0].value, expected[1])}


@pytest.mark.parametrize(
    "fields",
    [
        {"trigger": "churn_risk", "trigger_threshold": 1.0},
        {"trigger": "abandoned_cart", "trigger_hours": 4},
        {"trigger": "segment_entry"},
    ],
)
def test_complete_trigger_settings_pass(fields):
    if fields["trigger"] == "segment_entry":
        fields = {**fields, "trigger_segment_id": segment_of([], name="New members").pk}
    assert refusal(campaign_build(schedule_kind="trigger", **fields)) == set()


def test_a_triggered_campaign_needs_no_audience_segment():
    campaign = campaign_build(
        schedule_kind="trigger", trigger="abandoned_cart", trigger_hours=4, audience_segment_ids=[]
    )
    assert refusal(campaign) == set()


def test_an_sms_campaign_to_customers_without_sms_consent_is_refused():
    customers = CustomerFactory.create_batch(3, email_opt_in=True, sms_opt_in=False)
    campaign = campaign_build(segment_of(customers), channel="sms", variants=[{"key": "A", "body_text": "Hi"}])
    assert refusal(campaign) == {(Code.NO_CONSENT.value, "channel")}


def test_an_email_campaign_to_customers_without_an_address_is_refused():
    customers = CustomerFactory.create_batch(2, email_opt_in=True, email="")
    assert refusal(campaign_build(segment_of(customers))) == {(Code.NO_CONSENT.value, "channel")}


def test_every_problem_is_listed_and_launch_raises_the_first():
    campaign = campaign_build(audience_segment_ids=[], variants=[{"key": "A"}], schedule_kind="at")
    problems = refusal(campaign)
    assert problems == {
        (Code.NO_AUDIENCE.value, "audience_segments"),
        (Code.REQUIRED.value, "variants[0].subject"),
        (Code.REQUIRED.value, "variants[0].body_text"),
        (Code.REQUIRED.value, "send_at"),
    }
    with pytest.raises(CampaignError) as refused:
        campaign_launch(campaign_id=campaign.pk)
    assert refused.value.code == Code.NO_AUDIENCE
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT
    assert not CampaignEvent.objects.filter(campaign=campaign, action=CampaignEvent.Action.LAUNCHED).exists()


# --- the state machine --------------------------------------------------------------------


def actions(campaign: Campaign) -> list[tuple[str, str, str]]:
    return list(
        CampaignEvent.objects.filter(campaign=campaign)
        .order_by("at", "id")
        .values_list("action", "from_status", "to_status")
    )


def test_send_now_goes_out_to_everyone_but_the_holdout_and_ends_sent(marketer, django_capture_on_commit_callbacks):
    customers = CustomerFactory.create_batch(100, email_opt_in=True)
    campaign = campaign_build(segment_of(customers), holdout_percent=10, coupon_pool_id=pool_make().pk)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_launch(campaign_id=campaign.pk, user=marketer)
    campaign.refresh_from_db()
    assert campaign.status == Status.SENT
    assert campaign.launched_at is not None
    messages = Message.objects.filter(campaign=campaign)
    assert messages.count() == 100
    holdout = messages.filter(status=Message.Status.SKIPPED, skip_reason=Message.SkipReason.HOLDOUT).count()
    assert messages.filter(status=Message.Status.SENT).count() == 100 - holdout
    assert 0 < holdout < 25  # 10 % of 100 (both bounds fail with a chance below 1 in 10,000)
    sent = messages.filter(status=Message.Status.SENT)
    assert set(sent.values_list("variant__key", flat=True)) == {"A", "B"}
    assert set(sent.values_list("coupon_code", flat=True)) == {"SPRING15"}
    moves = actions(campaign)
    assert moves[0] == (CampaignEvent.Action.CREATED, "", Status.DRAFT)
    assert moves[1] == (CampaignEvent.Action.LAUNCHED, Status.DRAFT, Status.SENDING)
    assert (CampaignEvent.Action.SENT, Status.SENDING, Status.SENT) in moves
    assert CampaignEvent.objects.get(campaign=campaign, action=CampaignEvent.Action.LAUNCHED).actor == marketer


def test_a_timed_campaign_is_scheduled_and_sends_nothing_yet(django_capture_on_commit_callbacks):
    campaign = campaign_build(schedule_kind="at", send_at=timezone.now() + dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        campaign_launch(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == Status.SCHEDULED
    assert not Message.objects.filter(campaign=campaign).exists()
    assert actions(campaign)[-1] == (CampaignEvent.Action.SCHEDULED, Status.DRAFT, Status.SCHEDULED)


def test_a_recurring_campaign_arms_its_schedule():
    campaign = campaign_build(
        schedule_kind="recurring",
        recurrence={"minute": "0", "hour": "9", "day_of_week": "mon"},
        time_zone="Asia/Shanghai",
    )
    campaign_launch(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == Status.SCHEDULED
    assert campaign.periodic_task is not None and campaign.periodic_task.enabled


def test_a_launched_campaign_cannot_be_launched_again(django_capture_on_commit_callbacks):
    campaign = campaign_build(schedule_kind="at", send_at=timezone.now() + dt.timedelta(hours=2))
    campaign_launch(campaign_id=campaign.pk)
    with pytest.raises(CampaignError) as refused:
        campaign_launch(campaign_id=campaign.pk)
    assert refused.value.code == Code.NOT_ALLOWED


def test_pause_resume_and_cancel_a_scheduled_campaign(marketer):
    campaign = campaign_build(schedule_kind="recurring", recurrence={"minute": "0", "hour": "9"})
    campaign_launch(campaign_id=campaign.pk)
    assert campaign_pause(campaign_id=campaign.pk, user=marketer).status == Status.PAUSED
    campaign.refresh_from_db()
    assert not campaign.periodic_task.enabled
    assert campaign_resume(campaign_id=campaign.pk, user=marketer).status == Status.SCHEDULED
    campaign.refresh_from_db()
    assert campaign.periodic_task.enabled
    cancelled = campaign_cancel(campaign_id=campaign.pk, user=marketer)
    assert cancelled.status == Status.CANCELLED and cancelled.finished_at is not None
    assert actions(campaign)[-3:] == [
        (CampaignEvent.Action.PAUSED, Status.SCHEDULED, Status.PAUSED),
        (CampaignEvent.Action.RESUMED, Status.PAUSED, Status.SCHEDULED),
        (CampaignEvent.Action.CANCELLED, Status.SCHEDULED, Status.CANCELLED),
    ]


def test_a_paused_send_resumes_sending(django_capture_on_commit_callbacks):
    campaign = campaign_build()
    campaign_launch(campaign_id=campaign.pk)  # the send itself waits for the commit
    assert Campaign.objects.get(pk=campaign.pk).status == Status.SENDING
    campaign_pause(campaign_id=campaign.pk)
    assert not Message.objects.filter(campaign=campaign, status=Message.Status.SENT).exists()
    campaign_resume(campaign_id=campaign.pk)  # eager Celery: the send runs to the end here
    assert (CampaignEvent.Action.RESUMED, Status.PAUSED, Status.SENDING) in actions(campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.SENT
    assert Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count() == 5


def test_cancel_a_draft(marketer):
    campaign = campaign_build()
    assert campaign_cancel(campaign_id=campaign.pk, user=marketer).status == Status.CANCELLED
    assert actions(campaign)[-1] == (CampaignEvent.Action.CANCELLED, Status.DRAFT, Status.CANCELLED)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.DRAFT, campaign_pause),
        (Status.DRAFT, campaign_resume),
        (Status.SCHEDULED, campaign_resume),
        (Status.SENDING, campaign_resume),
        (Status.SENT, campaign_pause),
        (Status.SENT, campaign_cancel),
        (Status.CANCELLED, campaign_resume),
        (Status.CANCELLED, campaign_cancel),
        (Status.PAUSED, campaign_pause),
    ],
)
def test_moves_the_state_machine_does_not_allow_are_refused_and_not_recorded(status, action):
    campaign = campaign_build()
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    before = CampaignEvent.objects.filter(campaign=campaign).count()
    with pytest.raises(CampaignError) as refused:
        action(campaign_id=campaign.pk)
    assert refused.value.code == Code.NOT_ALLOWED
    assert Campaign.objects.get(pk=campaign.pk).status == status
    assert CampaignEvent.objects.filter(campaign=campaign).count() == before


def test_tiers_must_be_defined_ones_once_tiers_exist():
    from campaigns.models import Tier

    Tier.objects.create(name="gold", rank=2, threshold=Decimal("1000"))
    customers = CustomerFactory.create_batch(3, email_opt_in=True, member_tier="gold")
    campaign = campaign_build(segment_of(customers), tiers=["gold", "platinum"])
    assert refusal(campaign) == {(Code.NOT_FOUND.value, "tiers")}
    campaign_update(campaign_id=campaign.pk, tiers=["gold"])
    campaign.refresh_from_db()
    assert refusal(campaign) == set()
    triggered = campaign_build(schedule_kind="trigger", trigger="tier_change", trigger_tier="platinum")
    assert refusal(triggered) == {(Code.NOT_FOUND.value, "trigger_tier")}


def test_a_tier_only_offer_counts_only_members_of_those_tiers():
    customers = CustomerFactory.create_batch(4, email_opt_in=True, member_tier="silver")
    campaign = campaign_build(segment_of(customers), tiers=["gold"])
    assert refusal(campaign) == {(Code.NO_CONSENT.value, "channel")}  # nobody in the audience is gold
