"""The "Predictions" panel of the customer profile: churn risk, probability alive, expected
purchases, CLV and the recommended category from the feature table, each with what it
means in plain words, and "not computed yet" where a model has not scored the customer.

Registered from segments because the values live in segments' feature table; the models'
horizons come from analytics (the active churn model, the latest CLV fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from analytics.clv.model import DEFAULT_HORIZON_DAYS
from analytics.models import ChurnModel, ClvFit
from customers.models import Customer
from segments.models import CustomerFeatures

DEFAULT_CHURN_HORIZON_DAYS = 90


@dataclass(frozen=True)
class Prediction:
    """One line of the panel: the value as shown (None: not computed yet) and its meaning."""

    key: str
    label: str
    value: str | None
    explanation: str


def _percent(share: float) -> str:
    return f"{number_format(100 * share, 0)} %"


def _weeks(days: float) -> str:
    return number_format(days / 7, 0)


def _churn_horizon_days() -> int:
    horizon = ChurnModel.objects.filter(active=True).values_list("horizon_days", flat=True).first()
    return horizon or DEFAULT_CHURN_HORIZON_DAYS


def _clv_horizon_days() -> float:
    """The horizon the latest scored CLV fit used (the job stores it with the parameters)."""
    parameters = ClvFit.objects.filter(scored__gt=0).order_by("-created_at", "-pk").values_list("parameters", flat=True)
    latest = parameters.first() or {}
    return float(latest.get("horizon_days") or DEFAULT_HORIZON_DAYS)


def customer_predictions(*, features: CustomerFeatures) -> list[Prediction]:
    """The panel's lines for one customer's feature row."""
    lines = []
    days = {"days": _churn_horizon_days()}
    risk = features.churn_risk
    if risk is None:
        meaning = _("the probability of no purchase in the next %(days)d days") % days
    elif risk >= 0.5:
        meaning = _("likely not to buy in the next %(days)d days") % days
    else:
        meaning = _("likely to buy again in the next %(days)d days") % days
    lines.append(Prediction("churn_risk", _("Churn risk"), None if risk is None else _percent(risk), meaning))

    alive = features.probability_alive
    if alive is None:
        meaning = _("the probability that the customer is still an active buyer")
    elif alive >= 0.5:
        meaning = _("probably still an active buyer, judging by how often and how recently they bought")
    else:
        meaning = _("probably no longer buying: their usual time between purchases has long passed")
    lines.append(Prediction("probability_alive", _("Probability alive"), None if alive is None else _percent(alive),
                            meaning))  # fmt: skip

    horizon = _clv_horizon_days()
    expected = features.expected_purchases
    lines.append(
        Prediction(
            "expected_purchases",
            _("Expected purchases"),
            None if expected is None else number_format(expected, 1),
            _("purchases (shopping days) expected in the next %(weeks)s weeks") % {"weeks": _weeks(horizon)},
        )
    )
    value = features.clv
    lines.append(
        Prediction(
            "clv",
            _("Lifetime value (CLV)"),
            None if value is None else number_format(value, 2, force_grouping=True),
            _("expected spend in the next %(weeks)s weeks, discounted at 10 %% a year") % {"weeks": _weeks(horizon)},
        )
    )
    category = getattr(features, "recommended_category", "")  # the column arrives with the recommendations
    lines.append(
        Prediction(
            "recommended_category",
            _("Recommended category"),
            category or None,
            _("the category this customer is most likely to buy from next, from what similar customers bought"),
        )
    )
    return lines


def customer_predictions_panel(customer: Customer) -> tuple[str, dict[str, Any]] | None:
    """Read through ``customer.features``, which caches the row (or its absence) on the
    customer, so another panel reading it the same way costs no second query."""
    try:
        features = customer.features
    except CustomerFeatures.DoesNotExist:
        return None
    return "segments/partials/customer_predictions.html", {"predictions": customer_predictions(features=features)}
