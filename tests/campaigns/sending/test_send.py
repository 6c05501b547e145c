"""Freezing and sending in-process (eager Celery): who gets what, exactly once."""

import datetime as dt
import email
from collections import Counter

import pytest
from django.utils import timezone

from campaigns.audit import campaign_transition
from campaigns.models import Campaign, CampaignEvent, Dispatch, Message, SendingPolicy
from campaigns.sending import dispatch as sending
from campaigns.sending.drain import dispatch_drain, leases_release
from campaigns.sending.selectors import dispatch_progress
from campaigns.sending.tick import sending_tick
from tests.campaigns.sending.conftest import campaign_for, outbox_files, segment_of
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def launch_now(campaign: Campaign, django_capture_on_commit_callbacks) -> Dispatch:
    campaign_transition(
        campaign_id=campaign.pk, to_status=Campaign.Status.SENDING, action=CampaignEvent.Action.LAUNCHED
    )
    with django_capture_on_commit_callbacks(execute=True):
        sending.campaign_go(campaign_id=campaign.pk)
    return Dispatch.objects.get(campaign=campaign)


def test_every_consenting_customer_gets_one_message_and_the_rest_are_skipped_with_reasons(
    audience, outbox, django_capture_on_commit_callbacks
):
    campaign = campaign_for(audience["segment"], variants=("A", "B"))
    dispatch = launch_now(campaign, django_capture_on_commit_callbacks)

    messages = Message.objects.filter(dispatch=dispatch)
    assert messages.count() == 48
    by_reason = Counter(messages.filter(status=Message.Status.SKIPPED).values_list("skip_reason", flat=True))
    assert by_reason == {Message.SkipReason.NO_CONSENT: 5, Message.SkipReason.NO_ADDRESS: 3}
    sent = messages.filter(status=Message.Status.SENT)
    assert sorted(sent.values_list("customer_id", flat=True)) == sorted(c.pk for c in audience["consenting"])
    files = outbox_files(outbox)
    assert len(files) == 40
    recipients = Counter(email.message_from_bytes(path.read_bytes())["To"] for path in files)
    assert set(recipients) == {c.email for c in audience["consenting"]} and set(recipients.values()) == {1}

    dispatch.refresh_from_db()
    campaign.refresh_from_db()
    assert dispatch.status == Dispatch.Status.DONE
    assert dispatch.sent == 40
    assert campaign.status == Campaign.Status.SENT
    assert campaign.events.filter(action=CampaignEvent.Action.SENT).count() == 1
    from campaigns.selectors import campaign_list

    assert campaign_list().get(pk=campaign.pk).sent_count == 40
    progress = dispatch_progress(dispatch_id=dispatch.pk)
    assert (progress.sent, progress.skipped, progress.percent, progress.done) == (40, 8, 100, True)


def test_variants_get_the_content_of_their_variant(audience, outbox, django_capture_on_commit_callbacks):
    campaign = campaign_for(audience["segment"], variants=("A", "B"))
    launch_now(campaign, django_capture_on_commit_callbacks)
    for message in Message.objects.filter(status=Message.Status.SENT).select_related("variant", "customer"):
        path = next(
            p for p in outbox_files(outbox) if email.message_from_bytes(p.read_bytes())["To"] == message.customer.email
        )
        parsed = email.message_from_bytes(path.read_bytes())
        assert parsed["Subject"].endswith(f"({message.variant.key})")


def test_holdout_receives_nothing_and_is_recorded(db, outbox, django_capture_on_commit_callbacks):
    customers = CustomerFactory.create_batch(400, email_opt_in=True)
    campaign = campaign_for(segment_of(customers), variants=("A", "B"), holdout_percent=10)
    launch_now(campaign, django_capture_on_commit_callbacks)
    holdout = Message.objects.filter(skip_reason=Message.SkipReason.HOLDOUT)
    assert 20 <= holdout.count() <= 60  # 10 % of 400 = 40, binomial sd 6
    assert holdout.filter(sent_at__isnull=False).count() == 0
    assert len(outbox_files(outbox)) == 400 - holdout.count()
    held = set(holdout.values_list("customer_id", flat=True))
    delivered = {email.message_from_bytes(p.read_bytes())["To"] for p in outbox_files(outbox)}
    assert not delivered & {c.email for c in customers if c.pk in held}


def test_exclusion_segments_and_tier_only_offers_narrow_the_audience(db, outbox, django_capture_on_commit_callbacks):
    gold = CustomerFactory.create_batch(6, member_tier="gold")
    silver = CustomerFactory.create_batch(4, member_tier="silver")
    campaign = campaign_for(segment_of(gold + silver), tiers=["gold"])
    campaign.exclusion_segments.add(segment_of(gold[:2], name="excluded"))
    launch_now(campaign, django_capture_on_commit_callbacks)
    assert sorted(Message.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in gold[2:])


def test_freezing_twice_adds_no_message(audience, django_capture_on_commit_callbacks):
    from campaigns.sending.freeze import dispatch_freeze

    campaign = campaign_for(audience["segment"])
    dispatch = sending.dispatch_create(campaign_id=campaign.pk)
    dispatch_freeze(dispatch_id=dispatch.pk)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=Dispatch.Status.FREEZING)
    dispatch_freeze(dispatch_id=dispatch.pk)
    assert Message.objects.filter(dispatch=dispatch).count() == 48


def test_unsubscribed_after_the_freeze_is_not_sent(audience, outbox):
    from campaigns.sending.freeze import dispatch_freeze

    campaign = campaign_for(audience["segment"])
    dispatch = dispatch_freeze(dispatch_id=sending.dispatch_create(campaign_id=campaign.pk).pk)
    quitter = audience["consenting"][0]
    type(quitter).objects.filter(pk=quitter.pk).update(email_opt_in=False)
    dispatch_drain(dispatch_id=dispatch.pk)
    message = Message.objects.get(dispatch=dispatch, customer=quitter)
    assert (message.status, message.skip_reason) == (Message.Status.SKIPPED, Message.SkipReason.NO_CONSENT)
    assert len(outbox_files(outbox)) == 39


def test_frequency_cap_counts_messages_of_every_campaign(db, outbox, django_capture_on_commit_callbacks):
    SendingPolicy.objects.filter(pk=1).update(frequency_cap_messages=2, frequency_cap_days=7)
    customers = CustomerFactory.create_batch(10)
    segment = segment_of(customers)
    for name in ("first", "second", "third"):
        campaign = campaign_for(segment)
        Campaign.objects.filter(pk=campaign.pk).update(name=name)
        launch_now(campaign, django_capture_on_commit_callbacks)
    third = Message.objects.filter(campaign__name="third")
    assert third.filter(status=Message.Status.SKIPPED, skip_reason=Message.SkipReason.FREQUENCY_CAP).count() == 10
    assert len(outbox_files(outbox)) == 20
    sent_per_customer = Counter(
        Message.objects.filter(status=Message.Status.SENT).values_list("customer_id", flat=True)
    )
    assert set(sent_per_customer.values()) == {2}


def test_frequency_cap_window_lets_old_messages_expire(db, outbox, django_capture_on_commit_callbacks):
    SendingPolicy.objects.filter(pk=1).update(frequency_cap_messages=1, frequency_cap_days=7)
    customers = CustomerFactory.create_batch(3)
    segment = segment_of(customers)
    launch_now(campaign_for(segment), django_capture_on_commit_callbacks)
    Message.objects.update(sent_at=timezone.now() - dt.timedelta(days=8))
    launch_now(campaign_for(segment), django_capture_on_commit_callbacks)
    assert Message.objects.filter(status=Message.Status.SENT).count() == 6


def test_quiet_hours_hold_messages_back_until_they_end_in_the_recipients_zone(db, outbox):
    from campaigns.sending.freeze import dispatch_freeze

    now = timezone.now()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    local_hour = now.astimezone(shanghai).hour
    # Quiet in Shanghai right now: from this hour to two hours later.
    start = dt.time(local_hour, 0)
    end = dt.time((local_hour + 2) % 24, 0)
    SendingPolicy.objects.filter(pk=1).update(quiet_hours_enabled=True, quiet_start=start, quiet_end=end)
    in_shanghai = CustomerFactory.create_batch(3, attributes={"time_zone": "Asia/Shanghai"})
    elsewhere_zone = "America/Sao_Paulo"  # 11 hours behind Shanghai: never in the same two-hour window
    elsewhere = CustomerFactory.create_batch(2, attributes={"time_zone": elsewhere_zone})
    campaign = campaign_for(segment_of(in_shanghai + elsewhere), time_zone="UTC")
    dispatch = dispatch_freeze(dispatch_id=sending.dispatch_create(campaign_id=campaign.pk).pk)
    result = dispatch_drain(dispatch_id=dispatch.pk)

    held = Message.objects.filter(customer__in=in_shanghai)
    assert set(held.values_list("status", flat=True)) == {Message.Status.QUEUED}
    expected_end = dt.datetime.combine(now.astimezone(shanghai).date(), end, tzinfo=shanghai)
    if end <= start:
        expected_end += dt.timedelta(days=1)
    assert {m.not_before for m in held} == {expected_end.astimezone(dt.UTC)}
    assert set(Message.objects.filter(customer__in=elsewhere).values_list("status", flat=True)) == {"sent"}
    assert 0 < result.continue_in <= 2 * 3600
    assert Dispatch.objects.get(pk=dispatch.pk).status == Dispatch.Status.SENDING


class FlakyBackend:
    """Refuses chosen recipients: temporarily or for good."""

    idempotent = True

    def __init__(self, temporary: set[str], permanent: set[str]):
        self.temporary, self.permanent, self.delivered = temporary, permanent, []

    def send_many(self, messages, *, each=None):
        from campaigns.channels.base import DeliveryOutcome

        outcomes = []
        for message in messages:
            if message.to in self.temporary:
                outcomes.append(DeliveryOutcome(message.message_id, ok=False, temporary=True, error="421 try later"))
            elif message.to in self.permanent:
                outcomes.append(
                    DeliveryOutcome(message.message_id, ok=False, temporary=False, error="550 no such user")
                )
            else:
                self.delivered.append(message.to)
                outcomes.append(DeliveryOutcome(message.message_id, ok=True, provider_id=f"p-{message.message_id}"))
        return outcomes


def test_temporary_errors_are_retried_with_backoff_and_permanent_ones_are_not(audience, monkeypatch, settings):
    from campaigns.sending import drain
    from campaigns.sending.freeze import dispatch_freeze

    settings.PRECIS_SEND_MAX_ATTEMPTS = 3
    consenting = audience["consenting"]
    backend = FlakyBackend(temporary={consenting[0].email}, permanent={consenting[1].email})
    monkeypatch.setattr(drain, "backend_for", lambda channel: backend)
    campaign = campaign_for(audience["segment"])
    dispatch = dispatch_freeze(dispatch_id=sending.dispatch_create(campaign_id=campaign.pk).pk)

    result = dispatch_drain(dispatch_id=dispatch.pk)
    flaky = Message.objects.get(customer=consenting[0])
    dead = Message.objects.get(customer=consenting[1])
    assert (dead.status, dead.attempts, dead.error) == (Message.Status.FAILED, 1, "550 no such user")
    assert (flaky.status, flaky.attempts) == (Message.Status.QUEUED, 1)
    assert flaky.not_before > timezone.now() + dt.timedelta(seconds=20)
    assert result.continue_in > 20

    for attempt in (2, 3):
        Message.objects.filter(pk=flaky.pk).update(not_before=timezone.now() - dt.timedelta(seconds=1))
        dispatch_drain(dispatch_id=dispatch.pk)
        flaky.refresh_from_db()
        assert flaky.attempts == attempt
    assert flaky.status == Message.Status.FAILED
    assert sorted(backend.delivered) == sorted(c.email for c in consenting[2:])
    assert Message.objects.get(customer=consenting[2]).provider_id.startswith("p-")
    assert Dispatch.objects.get(pk=dispatch.pk).status == Dispatch.Status.DONE


def test_a_lapsed_lease_puts_the_message_back_and_it_is_sent_once(audience, outbox):
    """A worker died after claiming: its rows come back when the lease lapses, and the
    idempotent file sink does not deliver a message it already has twice."""
    from campaigns.sending.freeze import dispatch_freeze

    campaign = campaign_for(audience["segment"])
    dispatch = dispatch_freeze(dispatch_id=sending.dispatch_create(campaign_id=campaign.pk).pk)
    dispatch_drain(dispatch_id=dispatch.pk)
    files_before = len(outbox_files(outbox))
    # As if the worker had handed five messages to the sink and died before recording them.
    dead = list(Message.objects.filter(status=Message.Status.SENT).values_list("pk", flat=True)[:5])
    Message.objects.filter(pk__in=dead).update(
        status=Message.Status.SENDING, lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    Dispatch.objects.filter(pk=dispatch.pk).update(status=Dispatch.Status.SENDING)
    assert leases_release(dispatch_id=dispatch.pk) == 5
    dispatch_drain(dispatch_id=dispatch.pk)
    assert Message.objects.filter(pk__in=dead, status=Message.Status.SENT).count() == 5
    assert len(outbox_files(outbox)) == files_before == 40


def test_the_tick_starts_campaigns_scheduled_at_a_time(audience, outbox, django_capture_on_commit_callbacks):
    campaign = campaign_for(
        audience["segment"], schedule_kind=Campaign.ScheduleKind.AT, send_at=timezone.now() + dt.timedelta(hours=1)
    )
    campaign_transition(campaign_id=campaign.pk, to_status=Campaign.Status.SCHEDULED, action="scheduled")
    sending.campaign_go(campaign_id=campaign.pk)
    assert sending_tick().started == []
    with django_capture_on_commit_callbacks(execute=True):
        result = sending_tick(now=timezone.now() + dt.timedelta(hours=1, seconds=1))
    assert result.started == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and len(outbox_files(outbox)) == 40


def test_pause_stops_and_resume_finishes_without_repeats(audience, outbox, settings):
    from campaigns.sending.freeze import dispatch_freeze

    settings.PRECIS_SEND_BATCH = 10
    campaign = campaign_for(audience["segment"])
    campaign_transition(campaign_id=campaign.pk, to_status=Campaign.Status.SENDING, action="launched")
    dispatch = dispatch_freeze(dispatch_id=sending.dispatch_create(campaign_id=campaign.pk).pk)
    sending.campaign_halt(campaign_id=campaign.pk, cancel=False)
    assert dispatch_drain(dispatch_id=dispatch.pk).sent == 0
    sending.campaign_resume(campaign_id=campaign.pk)  # eager: the drains run here
    assert Message.objects.filter(status=Message.Status.SENT).count() == 40
    assert len(outbox_files(outbox)) == 40


def test_cancel_skips_everything_not_yet_sent(audience, outbox):
    from campaigns.sending.freeze import dispatch_freeze

    campaign = campaign_for(audience["segment"])
    dispatch = dispatch_freeze(dispatch_id=sending.dispatch_create(campaign_id=campaign.pk).pk)
    sending.campaign_halt(campaign_id=campaign.pk, cancel=True)
    assert dispatch_drain(dispatch_id=dispatch.pk).sent == 0
    assert Message.objects.filter(skip_reason=Message.SkipReason.CANCELLED).count() == 40
    assert Dispatch.objects.get(pk=dispatch.pk).status == Dispatch.Status.CANCELLED
    assert outbox_files(outbox) == []


def test_a_non_idempotent_backend_has_each_message_recorded_as_it_is_handed_over(audience, monkeypatch):
    """With SMTP-like backends each hand-over is recorded before the next message goes,
    so a worker killed mid-batch leaves at most one message to be repeated."""
    from campaigns.sending import drain
    from campaigns.sending.freeze import dispatch_freeze

    seen_sent_before = []

    class Smtpish(FlakyBackend):
        idempotent = False

        def send_many(self, messages, *, each=None):
            outcomes = []
            for message in messages:
                seen_sent_before.append(Message.objects.filter(status=Message.Status.SENT).count())
                (outcome,) = super().send_many([message])
                each(outcome)
                outcomes.append(outcome)
            return outcomes

    monkeypatch.setattr(drain, "backend_for", lambda channel: Smtpish(set(), set()))
    campaign = campaign_for(audience["segment"])
    dispatch = dispatch_freeze(dispatch_id=sending.dispatch_create(campaign_id=campaign.pk).pk)
    dispatch_drain(dispatch_id=dispatch.pk)
    assert seen_sent_before == list(range(40))
    assert Message.objects.filter(status=Message.Status.SENT).count() == 40


def test_each_recipient_gets_their_own_coupon_code_in_the_email(audience, outbox, django_capture_on_commit_callbacks):
    from campaigns.coupons.services import coupon_pool_create
    from campaigns.models import Coupon, Variant

    pool = coupon_pool_create(name="Spring", kind="unique", discount_kind="percent", discount_value=15, prefix="SP")
    campaign = campaign_for(audience["segment"], holdout_percent=10, coupon_pool=pool)
    Variant.objects.filter(campaign=campaign).update(body_text="Your code: {{ coupon.code }} ({{ coupon.discount }})")
    launch_now(campaign, django_capture_on_commit_callbacks)

    sent = list(Message.objects.filter(status=Message.Status.SENT).select_related("customer"))
    codes = [message.coupon_code for message in sent]
    assert len(sent) == len(set(codes)) > 0 and all(code.startswith("SP") for code in codes)
    assigned = dict(Coupon.objects.filter(message__isnull=False).values_list("message_id", "code"))
    assert {message.pk: message.coupon_code for message in sent}.items() <= assigned.items()
    by_recipient = {}
    for path in outbox_files(outbox):
        parsed = email.message_from_bytes(path.read_bytes())
        text = next(part for part in parsed.walk() if part.get_content_type() == "text/plain")
        by_recipient[parsed["To"]] = text.get_payload(decode=True).decode()
    for message in sent:
        assert f"Your code: {message.coupon_code}" in by_recipient[message.customer.email]
    # The holdout got nothing, so it holds no code.
    holdout = Message.objects.filter(skip_reason=Message.SkipReason.HOLDOUT).values_list("pk", flat=True)
    assert not set(holdout) & set(assigned)
