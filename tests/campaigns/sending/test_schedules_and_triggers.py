"""Test-then-winner, recurring occurrences and the four triggers (eager Celery)."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from campaigns.audit import campaign_transition
from campaigns.models import Campaign, Dispatch, Message, TierChange
from campaigns.sending import dispatch as sending
from campaigns.sending.tick import sending_tick
from customers.models import EventType
from segments.models import CustomerFeatures, Segment, SegmentMembership
from tests.campaigns.sending.conftest import campaign_for, outbox_files, segment_of
from tests.factories import CustomerFactory, EventFactory, OrderFactory

pytestmark = pytest.mark.django_db


def arm(campaign: Campaign, capture) -> None:
    target = Campaign.Status.SENDING if campaign.schedule_kind == "now" else Campaign.Status.SCHEDULED
    campaign_transition(campaign_id=campaign.pk, to_status=target, action="launched")
    with capture(execute=True):
        sending.campaign_go(campaign_id=campaign.pk)


def test_test_group_first_then_the_winner_goes_to_the_rest(db, outbox, django_capture_on_commit_callbacks):
    customers = CustomerFactory.create_batch(300)
    campaign = campaign_for(
        segment_of(customers), variants=("A", "B"), holdout_percent=10, test_percent=20, winner_after_hours=2,
        min_sample_per_variant=5, winner_metric=Campaign.WinnerMetric.CLICK,
    )  # fmt: skip
    arm(campaign, django_capture_on_commit_callbacks)
    dispatch = Dispatch.objects.get(campaign=campaign)
    assert dispatch.status == Dispatch.Status.TESTING
    tested = Message.objects.filter(in_test=True)
    waiting = Message.objects.filter(status=Message.Status.WAITING)
    assert set(tested.values_list("status", flat=True)) == {Message.Status.SENT}
    assert waiting.count() > tested.count() > 0
    assert len(outbox_files(outbox)) == tested.count()
    # B wins the test on clicks.
    b_tested = tested.filter(variant__key="B")
    b_tested.update(clicked_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert sending_tick().winners == []  # not yet due
        result = sending_tick(now=dispatch.winner_due_at + dt.timedelta(seconds=1))
    assert result.winners == [dispatch.pk]
    dispatch.refresh_from_db()
    assert dispatch.winner.key == "B" and dispatch.status == Dispatch.Status.DONE
    rest = Message.objects.filter(in_test=False, variant__isnull=False)
    assert set(rest.values_list("variant__key", flat=True)) == {"B"}
    assert set(rest.values_list("status", flat=True)) == {Message.Status.SENT}
    holdout = Message.objects.filter(skip_reason=Message.SkipReason.HOLDOUT).count()
    assert len(outbox_files(outbox)) == 300 - holdout
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert campaign.events.filter(action="winner_chosen").count() == 1


def test_recurring_campaign_gets_a_beat_entry_and_each_occurrence_its_messages(
    audience, outbox, django_capture_on_commit_callbacks
):
    campaign = campaign_for(
        audience["segment"], schedule_kind=Campaign.ScheduleKind.RECURRING, time_zone="Asia/Shanghai",
        recurrence={"minute": "0", "hour": "10", "day_of_week": "1"},
    )  # fmt: skip
    arm(campaign, django_capture_on_commit_callbacks)
    campaign.refresh_from_db()
    task = PeriodicTask.objects.get(pk=campaign.periodic_task_id)
    assert (task.task, json.loads(task.args), task.enabled) == ("campaigns.campaign_occurrence", [campaign.pk], True)
    assert (task.crontab.hour, task.crontab.minute, task.crontab.day_of_week) == ("10", "0", "1")
    assert str(task.crontab.timezone) == "Asia/Shanghai"

    for expected in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            sending.campaign_occurrence(campaign_id=campaign.pk)
        assert Dispatch.objects.filter(campaign=campaign, status=Dispatch.Status.DONE).count() == expected
    assert Message.objects.filter(status=Message.Status.SENT).count() == 80
    assert len(outbox_files(outbox)) == 80
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED

    sending.campaign_halt(campaign_id=campaign.pk, cancel=False)
    assert not PeriodicTask.objects.get(pk=task.pk).enabled


def triggered(trigger: str, capture, **fields) -> Campaign:
    everyone = Segment.objects.create(name="all", kind=Segment.Kind.STATIC)
    campaign = campaign_for(everyone, schedule_kind=Campaign.ScheduleKind.TRIGGER, trigger=trigger, **fields)
    campaign.audience_segments.clear()
    arm(campaign, capture)
    return campaign


def tick_later(capture, *, hours: float) -> dict:
    with capture(execute=True):
        return sending_tick(now=timezone.now() + dt.timedelta(hours=hours)).triggered


def test_segment_entry_trigger_sends_to_new_members_once(db, outbox, django_capture_on_commit_callbacks):
    vip = Segment.objects.create(name="vip", kind=Segment.Kind.STATIC)
    old = CustomerFactory()
    SegmentMembership.objects.create(segment=vip, customer=old, entered_at=timezone.now() - dt.timedelta(days=3))
    campaign = triggered(Campaign.Trigger.SEGMENT_ENTRY, django_capture_on_commit_callbacks, trigger_segment=vip)
    newcomers = CustomerFactory.create_batch(3)
    for customer in newcomers:
        SegmentMembership.objects.create(segment=vip, customer=customer, entered_at=timezone.now())
    assert tick_later(django_capture_on_commit_callbacks, hours=0.01) == {campaign.pk: 3}
    assert sorted(Message.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in newcomers)
    assert tick_later(django_capture_on_commit_callbacks, hours=0.02) == {}
    assert len(outbox_files(outbox)) == 3


def test_abandoned_cart_trigger_waits_the_hours_and_ignores_buyers(db, outbox, django_capture_on_commit_callbacks):
    campaign = triggered(Campaign.Trigger.ABANDONED_CART, django_capture_on_commit_callbacks, trigger_hours=2)
    now = timezone.now()
    abandoner, buyer = CustomerFactory(), CustomerFactory()
    for customer in (abandoner, buyer):
        EventFactory(customer=customer, type=EventType.ADD_TO_CART, occurred_at=now + dt.timedelta(minutes=1))
    OrderFactory(customer=buyer, ordered_at=now + dt.timedelta(minutes=30))
    assert tick_later(django_capture_on_commit_callbacks, hours=1) == {}
    assert tick_later(django_capture_on_commit_callbacks, hours=2.1) == {campaign.pk: 1}
    assert list(Message.objects.values_list("customer_id", flat=True)) == [abandoner.pk]


def test_tier_change_trigger(db, outbox, django_capture_on_commit_callbacks):
    campaign = triggered(Campaign.Trigger.TIER_CHANGE, django_capture_on_commit_callbacks, trigger_tier="gold")
    gold, silver = CustomerFactory(), CustomerFactory()
    later = timezone.now() + dt.timedelta(minutes=5)
    TierChange.objects.create(customer=gold, from_tier="silver", to_tier="gold", changed_at=later)
    TierChange.objects.create(customer=silver, from_tier="", to_tier="silver", changed_at=later)
    assert tick_later(django_capture_on_commit_callbacks, hours=0.5) == {campaign.pk: 1}
    assert list(Message.objects.values_list("customer_id", flat=True)) == [gold.pk]


def test_churn_risk_trigger_looks_hourly_and_reaches_a_customer_once(db, outbox, django_capture_on_commit_callbacks):
    campaign = triggered(Campaign.Trigger.CHURN_RISK, django_capture_on_commit_callbacks, trigger_threshold=0.8)
    risky, safe = CustomerFactory(), CustomerFactory()
    for customer, risk in ((risky, 0.9), (safe, 0.3)):
        CustomerFeatures.objects.create(customer=customer, as_of=timezone.now(), computed_at=timezone.now(),
                                        churn_risk=risk)  # fmt: skip
    assert tick_later(django_capture_on_commit_callbacks, hours=0.5) == {}
    assert tick_later(django_capture_on_commit_callbacks, hours=1.1) == {campaign.pk: 1}
    assert tick_later(django_capture_on_commit_callbacks, hours=2.2) == {}  # still at risk, but reached already
    assert list(Message.objects.values_list("customer_id", flat=True)) == [risky.pk]


def test_churn_alerts_page_can_enroll_into_a_churn_campaign(db, outbox, django_capture_on_commit_callbacks):
    from analytics.churn.alerts import churn_enrollment_targets
    from campaigns.sending.triggers import retention_enroll

    campaign = triggered(Campaign.Trigger.CHURN_RISK, django_capture_on_commit_callbacks, trigger_threshold=0.8)
    assert [target.key for target in churn_enrollment_targets()] == [str(campaign.pk)]
    customers = CustomerFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_enroll(str(campaign.pk), [c.pk for c in customers]) == 2
    assert Message.objects.filter(status=Message.Status.SENT).count() == 2


def test_an_entry_stamped_before_the_cursor_but_committed_after_it_is_not_missed(
    db, outbox, django_capture_on_commit_callbacks
):
    vip = Segment.objects.create(name="vip", kind=Segment.Kind.STATIC)
    campaign = triggered(Campaign.Trigger.SEGMENT_ENTRY, django_capture_on_commit_callbacks, trigger_segment=vip)
    assert tick_later(django_capture_on_commit_callbacks, hours=0.01) == {}
    late = CustomerFactory()  # a refresh that started 10 minutes ago commits only now
    SegmentMembership.objects.create(segment=vip, customer=late, entered_at=timezone.now() - dt.timedelta(minutes=10))
    assert tick_later(django_capture_on_commit_callbacks, hours=0.02) == {campaign.pk: 1}
    assert tick_later(django_capture_on_commit_callbacks, hours=0.03) == {}
