"""Campaigns: what is sent to whom, with which offer, and what came of it.

A campaign has one or more content variants (a single-variant campaign has just "A"), an
audience (segments, exclusions, consent, tiers), an optional coupon offer, a schedule and
a test plan. Each time it goes out is a *dispatch*; a dispatch freezes its audience into
one ``Message`` per (campaign, customer, occurrence), holdout included (as skipped), and
workers send the queued rows in batches. Tracking, redemptions and conversions hang off
the message. See docs/campaigns.md.
"""

import datetime as dt
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Order
from segments.models import Segment


def campaign_seed_new() -> int:
    """The per-campaign salt of the stable variant assignment (not guessable from ids)."""
    return secrets.randbits(31)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")

    class Goal(models.TextChoices):
        CONVERSION = "conversion", _("Drive purchases")
        RETENTION = "retention", _("Keep customers (retention)")
        WINBACK = "winback", _("Win back lapsed customers")
        LOYALTY = "loyalty", _("Reward loyalty")
        AWARENESS = "awareness", _("Announce (awareness)")

    class ScheduleKind(models.TextChoices):
        NOW = "now", _("Send now")
        AT = "at", _("At a time")
        RECURRING = "recurring", _("Recurring")
        TRIGGER = "trigger", _("Triggered")

    class Trigger(models.TextChoices):
        SEGMENT_ENTRY = "segment_entry", _("Customer enters a segment")
        CHURN_RISK = "churn_risk", _("Churn risk crosses a threshold")
        ABANDONED_CART = "abandoned_cart", _("Abandoned cart")
        TIER_CHANGE = "tier_change", _("Member tier changes")

    class WinnerMetric(models.TextChoices):
        OPEN = "open", _("Open rate")
        CLICK = "click", _("Click rate")
        CONVERSION = "conversion", _("Conversion rate")
        REVENUE = "revenue", _("Revenue per recipient")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    goal = models.CharField(_("goal"), max_length=16, choices=Goal.choices, default=Goal.CONVERSION)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)

    # Audience: members of any audience segment, minus members of any exclusion segment,
    # only with consent for the channel, and (tier-only offers) only in the listed tiers.
    audience_segments = models.ManyToManyField(
        Segment, related_name="+", verbose_name=_("audience segments"), blank=True
    )
    exclusion_segments = models.ManyToManyField(
        Segment, related_name="+", verbose_name=_("exclusion segments"), blank=True
    )
    tiers = models.JSONField(
        _("member tiers"), default=list, blank=True, help_text=_("Tier-only offer: empty means every tier.")
    )

    coupon_pool = models.ForeignKey(
        "campaigns.CouponPool",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("coupon offer"),
    )

    schedule_kind = models.CharField(
        _("schedule"), max_length=16, choices=ScheduleKind.choices, default=ScheduleKind.NOW
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", help_text=_("For the send time, recurrence and quiet hours.")
    )
    recurrence = models.JSONField(
        _("recurrence"),
        default=dict,
        blank=True,
        help_text=_("Crontab fields: minute, hour, day_of_week, day_of_month, month_of_year."),
    )
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices, blank=True, default="")
    trigger_segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("trigger segment")
    )
    trigger_threshold = models.FloatField(_("churn risk threshold"), null=True, blank=True)
    trigger_hours = models.PositiveIntegerField(_("hours after add-to-cart"), null=True, blank=True)
    trigger_tier = models.CharField(_("tier reached"), max_length=32, blank=True, default="")
    trigger_checked_at = models.DateTimeField(
        null=True, blank=True, help_text="Triggers: events up to this time have been looked at."
    )

    # Test plan.
    holdout_percent = models.FloatField(_("holdout %"), default=0)
    test_percent = models.FloatField(
        _("test group %"), default=100, help_text=_("Below 100: test on this share, then send the winner to the rest.")
    )
    winner_metric = models.CharField(
        _("winner chosen by"), max_length=16, choices=WinnerMetric.choices, default=WinnerMetric.CLICK
    )
    winner_after_hours = models.PositiveIntegerField(_("choose the winner after (hours)"), default=4)
    min_sample_per_variant = models.PositiveIntegerField(_("minimum recipients per variant"), default=100)
    thompson_sampling = models.BooleanField(
        _("Thompson-sampling allocation"), default=False, help_text=_("Recurring campaigns: favour the better variant.")
    )
    seed = models.IntegerField(default=campaign_seed_new, editable=False)

    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, null=True, blank=True)
    cost_per_message = models.DecimalField(_("cost per message"), max_digits=10, decimal_places=4, default=0)
    fixed_cost = models.DecimalField(_("fixed cost"), max_digits=14, decimal_places=2, default=0)
    conversion_window_days = models.PositiveIntegerField(_("conversion window (days)"), default=7)

    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "schedule_kind"], name="campaign_status_kind_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_test_phase(self) -> bool:
        return 0 < self.test_percent < 100


class Variant(models.Model):
    """One version of the content. The first (key "A") is the control in comparisons."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    key = models.CharField(_("variant"), max_length=8)
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    weight = models.PositiveIntegerField(_("weight"), default=1)
    subject = models.CharField(_("subject"), max_length=255, blank=True, default="")
    body_text = models.TextField(_("text"), blank=True, default="")
    body_html = models.TextField(_("HTML"), blank=True, default="")

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["campaign", "key"]
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="variant_campaign_key_uniq")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.key}"


class CampaignEvent(models.Model):
    """The audit trail: every state change and every decision taken on a campaign."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        SCHEDULED = "scheduled", _("Scheduled")
        LAUNCHED = "launched", _("Launched")
        DISPATCHED = "dispatched", _("Audience frozen")
        PAUSED = "paused", _("Paused")
        RESUMED = "resumed", _("Resumed")
        CANCELLED = "cancelled", _("Cancelled")
        WINNER_CHOSEN = "winner_chosen", _("Winner chosen")
        SENT = "sent", _("Sent")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["campaign", "at"], name="campaign_event_at_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.action}"


class Dispatch(models.Model):
    """One going-out of a campaign: the single send of a one-off campaign, one occurrence
    of a recurring one, or one batch of triggered customers."""

    class Status(models.TextChoices):
        FREEZING = "freezing", _("Freezing the audience")
        SENDING = "sending", _("Sending")
        TESTING = "testing", _("Waiting for the test result")
        DONE = "done", _("Done")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dispatches")
    occurrence = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.FREEZING)
    audience = models.BigIntegerField(_("audience"), default=0)
    sent = models.BigIntegerField(
        _("sent"), default=0, help_text="Counted as batches are recorded; exact once the dispatch is done."
    )
    customer_ids = models.JSONField(
        default=list, blank=True, help_text="Triggered dispatches: the customers who triggered it."
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of a worker freezing or sending it."
    )
    winner = models.ForeignKey("campaigns.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    winner_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "occurrence"], name="dispatch_campaign_occurrence_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} #{self.occurrence}"


class Message(models.Model):
    """One recipient of one dispatch: the unit of exactly-once delivery.

    ``waiting`` rows are the rest of the audience of a test-then-winner campaign;
    ``skipped`` rows record why someone got nothing (the holdout is skipped with reason
    ``holdout``, so reports can compare against it).
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the winner")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    class SkipReason(models.TextChoices):
        HOLDOUT = "holdout", _("In the holdout group")
        NO_CONSENT = "no_consent", _("No consent for the channel")
        NO_ADDRESS = "no_address", _("No address for the channel")
        FREQUENCY_CAP = "frequency_cap", _("Over the frequency cap")
        CANCELLED = "cancelled", _("Campaign cancelled")
        NO_COUPON = "no_coupon", _("No coupon code left")

    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="messages", db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="campaign_messages", db_index=False)
    occurrence = models.PositiveIntegerField(default=0)
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    in_test = models.BooleanField(default=False, help_text="In the test group of a test-then-winner campaign.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True, default="")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    to_address = models.CharField(max_length=254, blank=True, default="")
    coupon_code = models.CharField(max_length=64, blank=True, default="")
    not_before = models.DateTimeField(null=True, blank=True, help_text="Held back by quiet hours or a retry backoff.")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="While sending: when the claim lapses.")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=255, blank=True, default="")
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "occurrence"], name="message_once_per_customer_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["dispatch", "status", "id"], name="message_dispatch_status_idx"),
            models.Index(fields=["customer", "sent_at"], name="message_customer_sent_idx"),
            models.Index(
                fields=["lease_until"], name="message_sending_lease_idx", condition=models.Q(status="sending")
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} ({self.status})"


class TrackingEvent(models.Model):
    """What a recipient did with a message (every open and click, not just the first)."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        CLICK = "click", _("Click")
        UNSUBSCRIBE = "unsubscribe", _("Unsubscribe")
        BOUNCE = "bounce", _("Bounce")
        COMPLAINT = "complaint", _("Complaint")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="tracking_events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    url = models.CharField(max_length=2000, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "at"], name="tracking_kind_at_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.message_id}"


class Conversion(models.Model):
    """An order credited to a campaign message. The order is credited at most once (the
    unique order), to the latest qualifying message; holdout rows are credited too, so
    that lift can be measured against them."""

    class Basis(models.TextChoices):
        COUPON = "coupon", _("Carried the campaign's coupon")
        CLICK = "click", _("Within the window after a click")
        SEND = "send", _("Within the window after the send")
        HOLDOUT = "holdout", _("Holdout, within the window")

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="campaign_conversion")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="conversions")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="conversions", db_index=False)
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revenue = models.DecimalField(max_digits=14, decimal_places=2)
    converted_at = models.DateTimeField()
    basis = models.CharField(max_length=16, choices=Basis.choices)

    class Meta:
        indexes = [models.Index(fields=["campaign", "variant"], name="conversion_campaign_idx")]

    def __str__(self) -> str:
        return f"order {self.order_id} → message {self.message_id}"


class SendingPolicy(models.Model):
    """The one row of rules every campaign obeys: quiet hours (in each recipient's time
    zone) and the frequency cap across all campaigns."""

    quiet_hours_enabled = models.BooleanField(_("quiet hours"), default=True)
    quiet_start = models.TimeField(_("quiet from"), default=dt.time(21, 0))
    quiet_end = models.TimeField(_("quiet until"), default=dt.time(9, 0))
    frequency_cap_messages = models.PositiveIntegerField(
        _("at most messages"), default=3, help_text=_("0: no frequency cap.")
    )
    frequency_cap_days = models.PositiveIntegerField(_("per days"), default=7)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sending policy")
        verbose_name_plural = _("sending policy")

    def __str__(self) -> str:
        return "sending policy"


class CouponPool(models.Model):
    class Kind(models.TextChoices):
        SHARED = "shared", _("One shared code")
        UNIQUE = "unique", _("A unique code per recipient")

    class DiscountKind(models.TextChoices):
        PERCENT = "percent", _("Percent off")
        FIXED = "fixed", _("Fixed amount off")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("codes"), max_length=16, choices=Kind.choices, default=Kind.UNIQUE)
    shared_code = models.CharField(_("shared code"), max_length=64, blank=True, default="")
    prefix = models.CharField(_("code prefix"), max_length=16, blank=True, default="")
    code_length = models.PositiveSmallIntegerField(_("random characters"), default=10)
    discount_kind = models.CharField(
        _("discount"), max_length=16, choices=DiscountKind.choices, default=DiscountKind.PERCENT
    )
    discount_value = models.DecimalField(_("discount value"), max_digits=12, decimal_places=2)
    min_spend = models.DecimalField(_("minimum spend"), max_digits=12, decimal_places=2, default=0)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    single_use = models.BooleanField(_("single use"), default=True, help_text=_("Shared code: once per customer."))
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("coupon pool")
        verbose_name_plural = _("coupon pools")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    """One code. A unique code is assigned to at most one recipient (the unique message);
    a shared pool has a single row with the shared code."""

    pool = models.ForeignKey(CouponPool, on_delete=models.CASCADE, related_name="coupons", db_index=False)
    # Unique through Meta.constraints: unlike unique=True, that adds no second (LIKE) index on
    # PostgreSQL, which generating a million codes would have to maintain too.
    code = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupons")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupon", db_index=True
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code"], name="coupon_code_uniq")]
        indexes = [
            models.Index(fields=["pool", "id"], name="coupon_pool_unassigned_idx", condition=models.Q(message=None))
        ]

    def __str__(self) -> str:
        return self.code


class Redemption(models.Model):
    """An order that carried a coupon code: accepted, or refused with the reason."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")

    class Reason(models.TextChoices):
        ALREADY_REDEEMED = "already_redeemed", _("Already redeemed")
        EXPIRED = "expired", _("Expired")
        BELOW_MIN_SPEND = "below_min_spend", _("Below the minimum spend")
        NOT_ASSIGNED = "not_assigned", _("Assigned to another customer")
        NOT_ISSUED = "not_issued", _("Not yet given to anyone")

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="redemptions")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="coupon_redemption")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    status = models.CharField(max_length=16, choices=Status.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices, blank=True, default="")
    redeemed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Single use: one accepted redemption per code and customer (a unique code has
            # one customer, so this is one per code).
            models.UniqueConstraint(
                fields=["coupon", "customer"],
                condition=models.Q(status="accepted"),
                name="redemption_accepted_once_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id} by order {self.order_id} ({self.status})"


class Tier(models.Model):
    """A member tier: reached with at least ``threshold`` of ``metric`` over the last
    ``window_days``. Higher ``rank`` wins when several are reached."""

    class Metric(models.TextChoices):
        SPEND = "spend", _("Spend")
        ORDERS = "orders", _("Orders")

    name = models.CharField(_("name"), max_length=32, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    metric = models.CharField(_("measured by"), max_length=16, choices=Metric.choices, default=Metric.SPEND)
    threshold = models.DecimalField(_("threshold"), max_digits=14, decimal_places=2)
    window_days = models.PositiveIntegerField(_("rolling window (days)"), default=365)
    description = models.TextField(_("description"), blank=True, default="")

    class Meta:
        verbose_name = _("member tier")
        verbose_name_plural = _("member tiers")
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class TierChange(models.Model):
    """Tier history: one row per change of a customer's tier."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tier_changes", db_index=False)
    from_tier = models.CharField(max_length=32, blank=True, default="")
    to_tier = models.CharField(max_length=32, blank=True, default="")
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=32, default="recalculation")

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "changed_at"], name="tier_change_customer_idx"),
            models.Index(fields=["changed_at"], name="tier_change_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier or '-'} → {self.to_tier or '-'}"
