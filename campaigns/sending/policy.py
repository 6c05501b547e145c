"""The rules every send obeys, whatever the campaign: consent per channel, quiet hours in
the recipient's time zone, and the frequency cap across all campaigns."""

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q

from campaigns.models import Channel, SendingPolicy


def sending_policy() -> SendingPolicy:
    """The single policy row (created with the defaults the first time it is read)."""
    policy, _ = SendingPolicy.objects.get_or_create(pk=1)
    return policy


def opt_in_q(channel: str) -> Q:
    """Customers with consent for ``channel``: email needs ``email_opt_in``, SMS
    ``sms_opt_in``. A webhook carries a marketing message to the shop's own system (app
    push, chat), so it needs marketing consent on some channel."""
    if channel == Channel.EMAIL:
        return Q(email_opt_in=True)
    if channel == Channel.SMS:
        return Q(sms_opt_in=True)
    return Q(email_opt_in=True) | Q(sms_opt_in=True)


def may_receive(channel: str) -> ExpressionWrapper:
    """Consent for ``channel`` now, as a boolean column: opted in, and (webhook) not
    unsubscribed from an earlier message on it."""
    condition = opt_in_q(channel)
    unsubscribed = channel_unsubscribed(channel)
    if unsubscribed is not None:
        condition &= ~Q(pk__in=unsubscribed)
    return ExpressionWrapper(condition, output_field=BooleanField())


def channel_unsubscribed(channel: str):
    """Customers who unsubscribed from a message on a channel without a consent column of
    its own (webhook): they are never sent to on that channel again."""
    from campaigns.models import Message

    if channel != Channel.WEBHOOK:
        return None
    return Message.objects.filter(campaign__channel=channel, unsubscribed_at__isnull=False).values("customer_id")


def address_column(channel: str) -> str:
    """Where a message on ``channel`` goes: the email, the phone, or (webhook) the shop's id."""
    return {Channel.EMAIL: "email", Channel.SMS: "phone"}.get(channel, "external_id")


def known_zone(name: str | None, fallback: str) -> str:
    try:
        ZoneInfo(name or "")
        return name or fallback
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def quiet_hours_release(now: dt.datetime, zones: pd.Series, *, start: dt.time, end: dt.time) -> pd.Series:
    """For each recipient (time-zone name per row), the UTC time the quiet hours end when it
    is quiet for them at ``now``, else NaT. Quiet hours may wrap midnight (21:00–09:00)."""
    release = pd.Series(pd.NaT, index=zones.index, dtype="datetime64[ns, UTC]")
    if start == end or zones.empty:
        return release
    for zone_name, rows in zones.groupby(zones).groups.items():
        zone = ZoneInfo(zone_name)
        local = now.astimezone(zone)
        clock = local.time()
        quiet = (start <= clock < end) if start < end else (clock >= start or clock < end)
        if not quiet:
            continue
        end_day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
        local_end = dt.datetime.combine(end_day, end, tzinfo=zone)
        release.loc[rows] = pd.Timestamp(local_end.astimezone(dt.UTC))
    return release


def lease_seconds() -> int:
    """How long a worker may hold claimed messages before another one takes them over."""
    return int(getattr(settings, "PRECIS_SEND_LEASE_SECONDS", 300))


def retry_backoff(attempts: np.ndarray | int) -> np.ndarray:
    """Seconds to wait before retrying after a temporary error: 30 s, 60 s, 120 s, ..."""
    base = float(getattr(settings, "PRECIS_SEND_RETRY_SECONDS", 30))
    return base * np.power(2.0, np.maximum(np.asarray(attempts) - 1, 0))


def max_attempts() -> int:
    return int(getattr(settings, "PRECIS_SEND_MAX_ATTEMPTS", 5))
