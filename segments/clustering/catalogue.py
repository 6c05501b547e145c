"""The feature columns clustering may use, how each is scaled, what its NULL means, and
the words that describe a cluster that is high or low on it.

Offered: the numeric columns of ``segments.CustomerFeatures`` that measure behaviour or a
model score. Not offered: the R, F and M scores (quintile ranks of recency, frequency and
spend, which are offered themselves) and ``cluster`` (the output of clustering).

Words are lazy translations, rendered in the reader's language; a run stores only
(feature, "high" | "low") pairs.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from customers.models import EventType
from segments.clustering.model import NullRule
from segments.models import FEATURE_WINDOWS, ORDER_WINDOWS, CustomerFeatures


class FeatureGroup(StrEnum):
    ORDERS = "orders"
    BEHAVIOUR = "behaviour"
    REVIEWS = "reviews"
    SCORES = "scores"


GROUP_LABELS: dict[FeatureGroup, Promise] = {
    FeatureGroup.ORDERS: _("Orders and spend"),
    FeatureGroup.BEHAVIOUR: _("Behaviour"),
    FeatureGroup.REVIEWS: _("Reviews"),
    FeatureGroup.SCORES: _("Model scores"),
}


@dataclass(frozen=True)
class ClusterFeature:
    name: str  # the CustomerFeatures column
    group: FeatureGroup
    log: bool  # log1p before standardising: counts and money, non-negative and right-skewed
    null_rule: NullRule
    low_word: Promise  # describes a cluster well below the average
    high_word: Promise  # ... and well above it


def _windowed(template: Promise, days: int) -> Promise:
    return format_lazy(template, days=days)


def _catalogue() -> dict[str, ClusterFeature]:
    orders, behaviour, reviews, scores = FeatureGroup
    features = [
        ClusterFeature("recency_days", orders, True, NullRule.MAX_PLUS_ONE, _("recent"), _("lapsed")),
        ClusterFeature("frequency", orders, True, NullRule.ZERO, _("rare buyers"), _("frequent")),
        ClusterFeature("monetary", orders, True, NullRule.ZERO, _("low spend"), _("high spend")),
        ClusterFeature("avg_order_value", orders, True, NullRule.ZERO, _("small baskets"), _("big baskets")),
        ClusterFeature("coupon_order_share", orders, False, NullRule.ZERO, _("pay full price"), _("coupon lovers")),
    ]
    for days in ORDER_WINDOWS:
        features += [
            ClusterFeature(f"frequency_{days}d", orders, True, NullRule.ZERO,
                           _windowed(_("rare buyers (last {days} days)"), days),
                           _windowed(_("frequent (last {days} days)"), days)),
            ClusterFeature(f"monetary_{days}d", orders, True, NullRule.ZERO,
                           _windowed(_("low spend (last {days} days)"), days),
                           _windowed(_("high spend (last {days} days)"), days)),
        ]  # fmt: skip
    event_words = {
        EventType.VIEW: (_("browse little (last {days} days)"), _("browse a lot (last {days} days)")),
        EventType.SEARCH: (_("search little (last {days} days)"), _("search a lot (last {days} days)")),
        EventType.ADD_TO_CART: (_("rarely add to cart (last {days} days)"), _("fill carts (last {days} days)")),
        EventType.FAVORITE: (_("rarely save favourites (last {days} days)"),
                             _("save favourites (last {days} days)")),
        EventType.PURCHASE: (_("few purchase events (last {days} days)"),
                             _("many purchase events (last {days} days)")),
        EventType.REVIEW: (_("rarely review (last {days} days)"), _("often review (last {days} days)")),
        EventType.PAGE: (_("visit few pages (last {days} days)"), _("visit many pages (last {days} days)")),
    }  # fmt: skip
    for event_type, (low, high) in event_words.items():
        for days in FEATURE_WINDOWS:
            features.append(
                ClusterFeature(f"{event_type}_count_{days}d", behaviour, True, NullRule.ZERO,
                               _windowed(low, days), _windowed(high, days))
            )  # fmt: skip
    features += [
        ClusterFeature("review_count", reviews, True, NullRule.ZERO, _("rarely review"), _("reviewers")),
        ClusterFeature("avg_rating", reviews, False, NullRule.EXCLUDE, _("unhappy reviewers"), _("happy reviewers")),
        ClusterFeature("churn_risk", scores, False, NullRule.EXCLUDE, _("low churn risk"), _("likely to churn")),
        ClusterFeature("clv", scores, True, NullRule.EXCLUDE, _("low lifetime value"), _("high lifetime value")),
        ClusterFeature("probability_alive", scores, False, NullRule.EXCLUDE, _("likely gone"), _("likely active")),
        ClusterFeature("expected_purchases", scores, True, NullRule.EXCLUDE, _("few expected purchases"),
                       _("many expected purchases")),
        ClusterFeature("sentiment", scores, False, NullRule.EXCLUDE, _("negative"), _("positive")),
    ]  # fmt: skip
    return {feature.name: feature for feature in features}


CLUSTER_FEATURES: dict[str, ClusterFeature] = _catalogue()


def feature_label(name: str) -> str:
    """The feature's name for marketers ("days since last order"), in the active language."""
    return str(CustomerFeatures._meta.get_field(name).verbose_name)


def trait_word(feature: str, direction: str) -> str:
    """The word for a cluster that is "high" or "low" on a feature, in the active language."""
    spec = CLUSTER_FEATURES[feature]
    return str(spec.high_word if direction == "high" else spec.low_word)


def traits_description(traits: list[tuple[str, str]] | list[list[str]]) -> str:
    """ "recent, frequent, high spend" — or "typical" when no feature sets the cluster apart."""
    words = [trait_word(feature, direction) for feature, direction in traits if feature in CLUSTER_FEATURES]
    return str(_(", ").join(words)) if words else str(_("typical"))
