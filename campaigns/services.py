"""Writes of the campaign lifecycle: create and edit drafts, duplicate, launch, pause,
resume and cancel.

A draft may be incomplete; ``campaign_launch`` checks everything (``campaign_launch_problems``
lists every reason at once for the pages) and then hands the campaign to the sending
package. Every status change goes through ``campaigns.audit.campaign_transition`` (locked
row, allowed moves, CampaignEvent); edits and copies are recorded as events too.
"""

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from celery.schedules import crontab
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.audit import campaign_event_record, campaign_transition
from campaigns.errors import CampaignError, CampaignErrorCode
from campaigns.models import Campaign, CampaignEvent, Channel, CouponPool, Variant
from campaigns.selectors import campaign_audience_estimate, tier_choices
from segments.models import Segment

Code = CampaignErrorCode
Status = Campaign.Status
Kind = Campaign.ScheduleKind
Trigger = Campaign.Trigger

# The campaign's own columns a create or update may set (segments, tiers, pool and
# variants are handled separately).
SCALAR_FIELDS = (
    "name",
    "description",
    "goal",
    "channel",
    "schedule_kind",
    "send_at",
    "time_zone",
    "recurrence",
    "trigger",
    "trigger_threshold",
    "trigger_hours",
    "trigger_tier",
    "holdout_percent",
    "test_percent",
    "winner_metric",
    "winner_after_hours",
    "min_sample_per_variant",
    "thompson_sampling",
    "budget",
    "cost_per_message",
    "fixed_cost",
    "conversion_window_days",
)
RELATED_FIELDS = (
    "audience_segment_ids",
    "exclusion_segment_ids",
    "tiers",
    "coupon_pool_id",
    "trigger_segment_id",
    "variants",
)
RECURRENCE_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")
VARIANT_FIELDS = ("key", "name", "weight", "subject", "body_text", "body_html")
VARIANT_KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

HOLDOUT_RANGE = (0, 50)
TEST_RANGE = (1, 100)
WINNER_HOURS_RANGE = (1, 168)
WEIGHT_RANGE = (1, 1000)
TRIGGER_HOURS_RANGE = (1, 720)
CONVERSION_WINDOW_RANGE = (1, 365)


# --- checks -------------------------------------------------------------------------------


def _out_of_range(field: str, label, value, low, high) -> CampaignError | None:
    if value is None or not (low <= value <= high):
        return CampaignError(Code.OUT_OF_RANGE, field=field, label=label, low=low, high=high)
    return None


def time_zone_check(value: str) -> CampaignError | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return CampaignError(Code.BAD_TIME_ZONE, field="time_zone", value=value)
    return None


def recurrence_check(recurrence: Mapping[str, Any] | None) -> CampaignError | None:
    """The crontab fields of a recurring campaign: minute and hour at least, each in
    crontab syntax (``0``, ``*/15``, ``mon-fri``, ``1,15``)."""
    recurrence = recurrence or {}
    unknown = sorted(set(recurrence) - set(RECURRENCE_FIELDS))
    if unknown:
        reason = _("unknown field %(name)s") % {"name": unknown[0]}
        return CampaignError(Code.BAD_RECURRENCE, field=f"recurrence.{unknown[0]}", reason=reason)
    for name in ("minute", "hour"):
        if str(recurrence.get(name, "")).strip() == "":
            reason = _("%(name)s is required") % {"name": name}
            return CampaignError(Code.BAD_RECURRENCE, field=f"recurrence.{name}", reason=reason)
    for name in RECURRENCE_FIELDS:
        value = str(recurrence.get(name, "*")).strip() or "*"
        try:
            crontab(**{name: value})
        except (ValueError, TypeError, IndexError) as error:
            reason = f"{name}: {error}"
            return CampaignError(Code.BAD_RECURRENCE, field=f"recurrence.{name}", reason=reason)
    return None


def _variant_label(key: str, part) -> str:
    return _("Variant %(key)s, %(part)s") % {"key": key, "part": part}


def _settings_problems(campaign: Campaign, variants: Sequence[Variant]) -> list[CampaignError]:
    """What is wrong with the values themselves (a draft is refused for these too)."""
    problems: list[CampaignError] = []
    if not campaign.name.strip():
        problems.append(CampaignError(Code.REQUIRED, field="name", label=_("Name")))
    for name, choices in (
        ("channel", Channel),
        ("goal", Campaign.Goal),
        ("schedule_kind", Kind),
        ("winner_metric", Campaign.WinnerMetric),
    ):
        if getattr(campaign, name) not in choices.values:
            reason = _("choose one of %(values)s") % {"values": ", ".join(choices.values)}
            problems.append(CampaignError(Code.INVALID, field=name, label=name, reason=reason))
    if campaign.trigger and campaign.trigger not in Trigger.values:
        reason = _("choose one of %(values)s") % {"values": ", ".join(Trigger.values)}
        problems.append(CampaignError(Code.INVALID, field="trigger", label=_("Trigger"), reason=reason))
    checks = [
        _out_of_range("holdout_percent", _("The holdout %"), campaign.holdout_percent, *HOLDOUT_RANGE),
        _out_of_range("test_percent", _("The test group %"), campaign.test_percent, *TEST_RANGE),
        _out_of_range(
            "conversion_window_days",
            _("The conversion window"),
            campaign.conversion_window_days,
            *CONVERSION_WINDOW_RANGE,
        ),  # fmt: skip
        time_zone_check(campaign.time_zone),
    ]
    if campaign.test_percent is not None and campaign.test_percent < 100:
        checks.append(
            _out_of_range(
                "winner_after_hours", _("Choosing the winner after"), campaign.winner_after_hours, *WINNER_HOURS_RANGE
            )
        )
    for name, label in (("budget", _("The budget")), ("cost_per_message", _("The cost per message")),
                        ("fixed_cost", _("The fixed cost"))):  # fmt: skip
        value = getattr(campaign, name)
        if value is not None and Decimal(value) < 0:
            checks.append(CampaignError(Code.INVALID, field=name, label=label, reason=_("it cannot be negative")))
    problems.extend(check for check in checks if check)
    if campaign.schedule_kind == Kind.RECURRING and (error := recurrence_check(campaign.recurrence)):
        problems.append(error)
    seen: set[str] = set()
    for index, variant in enumerate(variants):
        if variant.key in seen:
            reason = _("the key %(key)s is used twice") % {"key": variant.key}
            problems.append(
                CampaignError(Code.INVALID, field=f"variants[{index}].key", label=_("Variant"), reason=reason)
            )
        seen.add(variant.key)
        error = _out_of_range(
            f"variants[{index}].weight", _variant_label(variant.key, _("weight")), variant.weight, *WEIGHT_RANGE
        )
        if error:
            problems.append(error)
    return problems


def _template_problems(campaign: Campaign, variants: Sequence[Variant]) -> list[CampaignError]:
    """Each variant has the parts its channel needs, and every part is a valid template."""
    try:
        from campaigns.content.rendering import template_errors
    except ImportError:
        template_errors = None
    problems: list[CampaignError] = []
    labels = {"subject": _("subject"), "body_text": _("text"), "body_html": _("HTML")}
    for index, variant in enumerate(variants):
        has_text, has_html = bool(variant.body_text.strip()), bool(variant.body_html.strip())
        if campaign.channel == Channel.EMAIL:
            if not variant.subject.strip():
                problems.append(
                    CampaignError(
                        Code.REQUIRED,
                        field=f"variants[{index}].subject",
                        label=_variant_label(variant.key, labels["subject"]),
                    )
                )
            if not (has_text or has_html):
                problems.append(
                    CampaignError(
                        Code.REQUIRED,
                        field=f"variants[{index}].body_text",
                        label=_variant_label(variant.key, _("text or HTML")),
                    )
                )
            parts = ("subject", "body_text", "body_html")
        else:
            if not has_text:
                problems.append(
                    CampaignError(
                        Code.REQUIRED,
                        field=f"variants[{index}].body_text",
                        label=_variant_label(variant.key, labels["body_text"]),
                    )
                )
            parts = ("body_text",)
        if template_errors is None:
            continue
        for part in parts:
            text = getattr(variant, part)
            if not text.strip():
                continue
            errors = template_errors(text, html=part == "body_html")
            if errors:
                problems.append(
                    CampaignError(
                        Code.BAD_TEMPLATE,
                        field=f"variants[{index}].{part}",
                        variant=variant.key,
                        part=labels[part],
                        reason=errors[0],
                    )
                )
    return problems


def _schedule_problems(campaign: Campaign, *, now: dt.datetime) -> list[CampaignError]:
    problems: list[CampaignError] = []
    if campaign.schedule_kind == Kind.AT:
        if campaign.send_at is None:
            problems.append(CampaignError(Code.REQUIRED, field="send_at", label=_("The send time")))
        elif campaign.send_at <= now:
            shown = campaign.send_at
            if not time_zone_check(campaign.time_zone):
                shown = campaign.send_at.astimezone(zoneinfo.ZoneInfo(campaign.time_zone))
            problems.append(CampaignError(Code.IN_THE_PAST, field="send_at", value=shown.strftime("%Y-%m-%d %H:%M %Z")))
    elif campaign.schedule_kind == Kind.RECURRING and not campaign.recurrence:
        problems.append(CampaignError(Code.REQUIRED, field="recurrence", label=_("The recurrence")))
    elif campaign.schedule_kind == Kind.TRIGGER:
        if not campaign.trigger:
            problems.append(CampaignError(Code.REQUIRED, field="trigger", label=_("The trigger")))
        elif campaign.trigger == Trigger.SEGMENT_ENTRY and not campaign.trigger_segment_id:
            problems.append(CampaignError(Code.REQUIRED, field="trigger_segment", label=_("The trigger segment")))
        elif campaign.trigger == Trigger.CHURN_RISK:
            threshold = campaign.trigger_threshold
            if threshold is None:
                problems.append(
                    CampaignError(Code.REQUIRED, field="trigger_threshold", label=_("The churn risk threshold"))
                )
            elif not 0 < threshold <= 1:
                problems.append(
                    CampaignError(
                        Code.OUT_OF_RANGE, field="trigger_threshold", label=_("The churn risk threshold"), low=0, high=1
                    )
                )
        elif campaign.trigger == Trigger.ABANDONED_CART:
            if campaign.trigger_hours is None:
                problems.append(
                    CampaignError(Code.REQUIRED, field="trigger_hours", label=_("The hours after add-to-cart"))
                )
            elif error := _out_of_range(
                "trigger_hours", _("The hours after add-to-cart"), campaign.trigger_hours, *TRIGGER_HOURS_RANGE
            ):
                problems.append(error)
        elif campaign.trigger == Trigger.TIER_CHANGE:
            if not campaign.trigger_tier.strip():
                problems.append(CampaignError(Code.REQUIRED, field="trigger_tier", label=_("The tier reached")))
            else:
                known = tier_choices()
                if known and campaign.trigger_tier not in known:
                    problems.append(
                        CampaignError(
                            Code.NOT_FOUND, field="trigger_tier", label=_("Tier"), value=campaign.trigger_tier
                        )
                    )
    return problems


def _audience_problems(campaign: Campaign) -> list[CampaignError]:
    problems: list[CampaignError] = []
    is_trigger = campaign.schedule_kind == Kind.TRIGGER
    segment_ids = [s.pk for s in campaign.audience_segments.all()]
    # A triggered campaign picks its recipients by the trigger; audience segments only narrow it.
    if not segment_ids and not is_trigger:
        problems.append(CampaignError(Code.NO_AUDIENCE, field="audience_segments"))
    known_tiers = tier_choices()
    for tier in campaign.tiers or ():
        if known_tiers and tier not in known_tiers:
            problems.append(CampaignError(Code.NOT_FOUND, field="tiers", label=_("Tier"), value=tier))
    # One-off sends go to today's audience: someone in it must be reachable on the channel.
    one_off = campaign.schedule_kind in (Kind.NOW, Kind.AT)
    if segment_ids and one_off and campaign_audience_estimate(campaign=campaign).reachable == 0:
        problems.append(CampaignError(Code.NO_CONSENT, field="channel", channel=campaign.get_channel_display()))
    return problems


def campaign_launch_problems(*, campaign: Campaign, now: dt.datetime | None = None) -> list[CampaignError]:
    """Every reason the campaign cannot be launched now, in form order (empty: it can)."""
    now = now or timezone.now()
    variants = list(campaign.variants.order_by("key"))
    problems = _settings_problems(campaign, variants)
    problems += _audience_problems(campaign)
    if not variants:
        problems.append(CampaignError(Code.NO_VARIANTS, field="variants"))
    problems += _template_problems(campaign, variants)
    problems += _schedule_problems(campaign, now=now)
    return problems


# --- drafts -------------------------------------------------------------------------------


def _segments(ids: Sequence[int], *, field: str) -> list[Segment]:
    ids = list(dict.fromkeys(int(i) for i in ids or ()))
    segments = list(Segment.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {s.pk for s in segments})
    if missing:
        raise CampaignError(Code.NOT_FOUND, field=field, label=_("Segment"), value=missing[0])
    return segments


def _localise_send_at(send_at: dt.datetime | None, time_zone: str) -> dt.datetime | None:
    """A send time without an offset is a wall-clock time in the campaign's time zone."""
    if send_at is None or timezone.is_aware(send_at) or time_zone_check(time_zone):
        return send_at
    return send_at.replace(tzinfo=zoneinfo.ZoneInfo(time_zone))


def _variant_rows(campaign: Campaign, variants: Sequence[Mapping[str, Any]]) -> list[Variant]:
    """Unsaved Variant rows from the input dicts; a missing key gets the next free letter."""
    used = {str(v.get("key") or "").strip().upper() for v in variants}
    free = (letter for letter in VARIANT_KEYS if letter not in used)
    rows = []
    for data in variants:
        unknown = set(data) - set(VARIANT_FIELDS) - {"id"}
        if unknown:
            raise TypeError(f"unknown variant fields {sorted(unknown)}")
        key = str(data.get("key") or "").strip().upper() or next(free, "")
        rows.append(
            Variant(
                campaign=campaign,
                key=key[:8],
                name=str(data.get("name") or "").strip(),
                weight=data.get("weight") if data.get("weight") is not None else 1,
                subject=str(data.get("subject") or ""),
                body_text=str(data.get("body_text") or ""),
                body_html=str(data.get("body_html") or ""),
            )
        )
    return rows


def _variants_replace(campaign: Campaign, rows: Sequence[Variant]) -> None:
    """Make the campaign's variants exactly ``rows`` (matched by key: a kept key keeps its id)."""
    existing = {variant.key: variant for variant in campaign.variants.all()}
    keys = {row.key for row in rows}
    campaign.variants.exclude(key__in=keys).delete()
    for row in rows:
        kept = existing.get(row.key)
        if kept:
            row.pk = kept.pk
        row.campaign = campaign
        row.save()


def _apply(campaign: Campaign, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set the scalar and related values on the unsaved campaign; returns the related ones
    resolved (segments, variants) to write once the row exists."""
    unknown = set(values) - set(SCALAR_FIELDS) - set(RELATED_FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields {sorted(unknown)}")
    for name in SCALAR_FIELDS:
        if name in values:
            value = values[name]
            if name in ("name", "description", "trigger_tier") and isinstance(value, str):
                value = value.strip()
            if name in ("recurrence",) and value is None:
                value = {}
            if name in ("trigger",) and value is None:
                value = ""
            setattr(campaign, name, value)
    if "send_at" in values or "time_zone" in values:
        campaign.send_at = _localise_send_at(campaign.send_at, campaign.time_zone)
    if campaign.recurrence:
        campaign.recurrence = {k: str(v).strip() for k, v in campaign.recurrence.items() if str(v).strip() != ""}
    related: dict[str, Any] = {}
    if "audience_segment_ids" in values:
        related["audience"] = _segments(values["audience_segment_ids"], field="audience_segments")
    if "exclusion_segment_ids" in values:
        related["exclusions"] = _segments(values["exclusion_segment_ids"], field="exclusion_segments")
    if "tiers" in values:
        campaign.tiers = sorted({str(t).strip() for t in values["tiers"] or () if str(t).strip()})
    if "coupon_pool_id" in values:
        pool_id = values["coupon_pool_id"]
        if pool_id is not None and not CouponPool.objects.filter(pk=pool_id).exists():
            raise CampaignError(Code.NOT_FOUND, field="coupon_pool", label=_("Coupon offer"), value=pool_id)
        campaign.coupon_pool_id = pool_id
    if "trigger_segment_id" in values:
        segment_id = values["trigger_segment_id"]
        if segment_id is not None:
            _segments([segment_id], field="trigger_segment")
        campaign.trigger_segment_id = segment_id
    if "variants" in values:
        related["variants"] = _variant_rows(campaign, values["variants"] or [])
    return related


def _refuse_bad_settings(campaign: Campaign, variants: Sequence[Variant]) -> None:
    problems = _settings_problems(campaign, variants)
    if problems:
        raise problems[0]


def _write_related(campaign: Campaign, related: Mapping[str, Any]) -> None:
    if "audience" in related:
        campaign.audience_segments.set(related["audience"])
    if "exclusions" in related:
        campaign.exclusion_segments.set(related["exclusions"])
    if "variants" in related:
        _variants_replace(campaign, related["variants"])


@transaction.atomic
def campaign_create(
    *,
    name: str,
    channel: str = Channel.EMAIL,
    goal: str = Campaign.Goal.CONVERSION,
    audience_segment_ids: Sequence[int] = (),
    exclusion_segment_ids: Sequence[int] = (),
    tiers: Sequence[str] = (),
    coupon_pool_id: int | None = None,
    variants: Sequence[Mapping[str, Any]] = (),
    description: str = "",
    schedule_kind: str = Kind.NOW,
    send_at: dt.datetime | None = None,
    time_zone: str = "UTC",
    recurrence: Mapping[str, str] | None = None,
    trigger: str = "",
    trigger_segment_id: int | None = None,
    trigger_threshold: float | None = None,
    trigger_hours: int | None = None,
    trigger_tier: str = "",
    holdout_percent: float = 0,
    test_percent: float = 100,
    winner_metric: str = Campaign.WinnerMetric.CLICK,
    winner_after_hours: int = 4,
    min_sample_per_variant: int = 100,
    thompson_sampling: bool = False,
    budget: Decimal | None = None,
    cost_per_message: Decimal = Decimal("0"),
    fixed_cost: Decimal = Decimal("0"),
    conversion_window_days: int = 7,
    user=None,
) -> Campaign:
    """A new draft. Values are checked (ranges, time zone, recurrence syntax, that the
    segments, pool and variant keys exist and are unique); completeness is checked at launch.
    Variants without a key get A, B, C… in order."""
    values = {k: v for k, v in locals().items() if k != "user"}
    campaign = Campaign(created_by=user if getattr(user, "is_authenticated", False) else None)
    related = _apply(campaign, values)
    _refuse_bad_settings(campaign, related.get("variants", []))
    campaign.save()
    _write_related(campaign, related)
    campaign_event_record(
        campaign_id=campaign.pk, action=CampaignEvent.Action.CREATED, actor=user, to_status=campaign.status
    )
    return campaign


@transaction.atomic
def campaign_update(*, campaign_id: int, user=None, **changes: Any) -> Campaign:
    """Change a draft (any of campaign_create's arguments; ``variants`` replaces the whole
    list, matched by key). Anything but a draft is refused with NOT_EDITABLE."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.status != Status.DRAFT:
        raise CampaignError(Code.NOT_EDITABLE, field="status", current=campaign.get_status_display())
    before = {name: getattr(campaign, name) for name in SCALAR_FIELDS}
    related = _apply(campaign, changes)
    variants = related.get("variants", list(campaign.variants.order_by("key")))
    _refuse_bad_settings(campaign, variants)
    campaign.save()
    _write_related(campaign, related)
    changed = sorted(
        [name for name in SCALAR_FIELDS if getattr(campaign, name) != before[name]]
        + [name for name in RELATED_FIELDS if name in changes]
    )
    campaign_event_record(
        campaign_id=campaign.pk,
        action=CampaignEvent.Action.UPDATED,
        actor=user,
        to_status=campaign.status,
        fields=changed,
    )
    return campaign


@transaction.atomic
def campaign_duplicate(*, campaign_id: int, name: str | None = None, user=None) -> Campaign:
    """A new draft with the same settings, audience and variants (a new assignment seed,
    so the copy's A/B groups are drawn afresh; a past send time is kept for the marketer to change)."""
    source = Campaign.objects.prefetch_related("audience_segments", "exclusion_segments", "variants").get(
        pk=campaign_id
    )
    copy = Campaign.objects.get(pk=campaign_id)
    copy.pk = None
    copy.id = None
    copy.name = name or str(_("Copy of %(name)s") % {"name": source.name})[:200]
    copy.status = Status.DRAFT
    copy.periodic_task = None
    copy.launched_at = copy.finished_at = None
    copy.created_by = user if getattr(user, "is_authenticated", False) else None
    copy.seed = Campaign._meta.get_field("seed").get_default()
    copy._state.adding = True
    copy.save()
    copy.audience_segments.set(source.audience_segments.all())
    copy.exclusion_segments.set(source.exclusion_segments.all())
    Variant.objects.bulk_create(
        Variant(campaign=copy, **{name: getattr(v, name) for name in VARIANT_FIELDS}) for v in source.variants.all()
    )
    campaign_event_record(
        campaign_id=copy.pk, action=CampaignEvent.Action.CREATED, actor=user, to_status=Status.DRAFT,
        duplicated_from=source.pk,
    )  # fmt: skip
    return copy


# --- lifecycle ----------------------------------------------------------------------------


@transaction.atomic
def campaign_launch(*, campaign_id: int, user=None, now: dt.datetime | None = None) -> Campaign:
    """Check everything, then send now (→ sending) or arm the schedule or trigger
    (→ scheduled), and hand the campaign to the sending package. Raises the first
    CampaignError (``campaign_launch_problems`` lists them all)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.status != Status.DRAFT:
        raise CampaignError(
            Code.NOT_ALLOWED, field="status", current=campaign.get_status_display(), target=_("launched")
        )
    problems = campaign_launch_problems(campaign=campaign, now=now)
    if problems:
        raise problems[0]
    sending_now = campaign.schedule_kind == Kind.NOW
    Campaign.objects.filter(pk=campaign.pk).update(launched_at=now or timezone.now())
    campaign = campaign_transition(
        campaign_id=campaign.pk,
        to_status=Status.SENDING if sending_now else Status.SCHEDULED,
        action=CampaignEvent.Action.LAUNCHED if sending_now else CampaignEvent.Action.SCHEDULED,
        actor=user,
        schedule=campaign.schedule_kind,
    )
    from campaigns.sending.dispatch import campaign_go

    campaign_go(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def campaign_pause(*, campaign_id: int, user=None) -> Campaign:
    """Stop sending (queued messages stay queued) or hold a schedule or trigger."""
    campaign = campaign_transition(
        campaign_id=campaign_id,
        to_status=Status.PAUSED,
        action=CampaignEvent.Action.PAUSED,
        actor=user,
        only_from={Status.SCHEDULED, Status.SENDING},
    )
    from campaigns.sending.dispatch import campaign_halt

    campaign_halt(campaign_id=campaign_id, cancel=False)
    campaign.refresh_from_db()
    return campaign


def _status_before_pause(campaign_id: int) -> str:
    event = (
        CampaignEvent.objects.filter(campaign_id=campaign_id, action=CampaignEvent.Action.PAUSED)
        .order_by("-at", "-id")
        .first()
    )
    if event and event.from_status in (Status.SCHEDULED, Status.SENDING):
        return event.from_status
    return Status.SCHEDULED


@transaction.atomic
def campaign_resume(*, campaign_id: int, user=None) -> Campaign:
    """A paused campaign goes back to what it was doing (sending, or waiting for its time)."""
    campaign = campaign_transition(
        campaign_id=campaign_id,
        to_status=_status_before_pause(campaign_id),
        action=CampaignEvent.Action.RESUMED,
        actor=user,
        only_from={Status.PAUSED},
    )
    from campaigns.sending.dispatch import campaign_resume as sending_resume

    sending_resume(campaign_id=campaign_id)
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign_id: int, user=None) -> Campaign:
    """Stop for good: unsent messages are skipped as cancelled, schedules and triggers disarmed."""
    before = Campaign.objects.values_list("status", flat=True).get(pk=campaign_id)
    campaign = campaign_transition(
        campaign_id=campaign_id, to_status=Status.CANCELLED, action=CampaignEvent.Action.CANCELLED, actor=user
    )
    Campaign.objects.filter(pk=campaign_id).update(finished_at=timezone.now())
    if before != Status.DRAFT:
        from campaigns.sending.dispatch import campaign_halt

        campaign_halt(campaign_id=campaign_id, cancel=True)
    campaign.refresh_from_db()
    return campaign
