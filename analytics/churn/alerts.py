"""Churn early warning: customers whose risk crossed the alert threshold at a scoring, among
the most valuable ones, listed for marketers and handed to a retention campaign.

Scoring (segments) compares each customer's new risk with the one it replaces and calls
``churn_alerts_record`` with the crossings; the nightly scoring therefore makes the daily
list. Enrolling is a hook: the campaigns app registers a handler that puts customers into a
chosen retention campaign (``churn_enrollment_register``); until one is registered the page
lists the customers and offers no enrolment.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from analytics.models import ChurnAlert


def alert_threshold() -> float:
    return float(getattr(settings, "PRECIS_CHURN_ALERT_THRESHOLD", 0.7))


def alert_top_spend_share() -> float:
    return float(getattr(settings, "PRECIS_CHURN_ALERT_TOP_SPEND_SHARE", 0.2))


def churn_crossings(scored: pd.DataFrame, *, threshold: float, top_spend_share: float) -> pd.DataFrame:
    """Rows of ``scored`` (customer_id, previous_risk, risk, monetary) whose risk rose to
    the threshold or above from below it (or from no risk), and whose all-time spend is in
    the top ``top_spend_share`` of the scored customers (1.0: everyone)."""
    if scored.empty:
        return scored.iloc[0:0]
    previous = scored["previous_risk"].to_numpy(dtype=np.float64)
    crossed = (scored["risk"].to_numpy(dtype=np.float64) >= threshold) & ~(previous >= threshold)
    spend = scored["monetary"].fillna(0).to_numpy(dtype=np.float64)
    if top_spend_share < 1.0:
        cut = np.quantile(spend, 1.0 - top_spend_share) if len(spend) else 0.0
        crossed &= (spend >= cut) & (spend > 0)
    return scored[crossed]


def churn_alerts_record(*, crossings: pd.DataFrame, model_id: int | None, day: dt.date | None = None) -> int:
    """Store one alert per customer and day (a second scoring the same day adds none)."""
    day = day or timezone.now().date()
    alerts = [
        ChurnAlert(customer_id=int(row.customer_id), day=day, risk=float(row.risk),
                   previous_risk=None if pd.isna(row.previous_risk) else float(row.previous_risk),
                   monetary=float(row.monetary or 0), model_id=model_id)
        for row in crossings.itertuples(index=False)
    ]  # fmt: skip
    before = ChurnAlert.objects.filter(day=day).count()
    ChurnAlert.objects.bulk_create(alerts, ignore_conflicts=True, batch_size=5_000)
    return ChurnAlert.objects.filter(day=day).count() - before  # ignored conflicts are returned too


def churn_alerts(*, days: int = 7, enrolled: bool | None = None) -> QuerySet[ChurnAlert]:
    """Alerts of the last ``days`` days, highest risk first."""
    since = timezone.now().date() - dt.timedelta(days=days - 1)
    alerts = ChurnAlert.objects.filter(day__gte=since).select_related("customer")
    if enrolled is not None:
        alerts = alerts.exclude(enrolled_in="") if enrolled else alerts.filter(enrolled_in="")
    return alerts.order_by("-day", "-risk", "customer_id")


# --- the enrolment hook -------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionTarget:
    """A campaign customers can be enrolled into, as the campaigns app describes it."""

    key: str
    label: str


EnrollHandler = Callable[[str, Sequence[int]], int]  # (target key, customer ids) -> enrolled
_targets: Callable[[], list[RetentionTarget]] | None = None
_handler: EnrollHandler | None = None


def churn_enrollment_register(*, targets: Callable[[], list[RetentionTarget]], handler: EnrollHandler) -> None:
    """Called by the campaigns app at start-up: where alerts can be sent, and how."""
    global _targets, _handler
    _targets, _handler = targets, handler


def churn_enrollment_targets() -> list[RetentionTarget]:
    return _targets() if _targets is not None else []


class EnrollmentUnavailable(RuntimeError):
    """No campaigns app has registered a way to enroll customers."""


@transaction.atomic
def churn_alerts_enroll(*, alert_ids: Sequence[int], target: str) -> int:
    """Hand the alerts' customers to the registered retention campaign and mark the alerts
    (an alert is enrolled once)."""
    if _handler is None:
        raise EnrollmentUnavailable("no retention campaign can take customers yet")
    alerts = ChurnAlert.objects.select_for_update().filter(pk__in=alert_ids, enrolled_in="")
    customer_ids = sorted(set(alerts.values_list("customer_id", flat=True)))
    if not customer_ids:
        return 0
    enrolled = _handler(target, customer_ids)
    alerts.update(enrolled_in=target, enrolled_at=timezone.now())
    return enrolled
