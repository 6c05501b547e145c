"""Experiment results in plain words.

A ``Sentence`` is a code plus already-formatted numbers; its text is rendered when it is
read (``str(sentence)``), in the reader's language, like ``jobs.errors.CodedError``. So a
winner decided on a worker can store ``sentence.as_dict()`` in the audit trail and the
campaign page shows it later in Chinese or English.

Numbers are formatted here, once: rates as percentage points with one decimal, money
with two, chances as whole percents (never a flat 100 % or 0 %), p-values with two
significant digits below 0.01.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.experiments.stats import MeanTest, ProportionTest, SampleRatioCheck, SampleSizeCheck


class Metric(StrEnum):
    """The metrics a test compares (values match ``Campaign.WinnerMetric``)."""

    OPEN = "open"
    CLICK = "click"
    CONVERSION = "conversion"
    REVENUE = "revenue"


METRIC_NAMES = {
    Metric.OPEN: _("open rate"),
    Metric.CLICK: _("click rate"),
    Metric.CONVERSION: _("conversion rate"),
    Metric.REVENUE: _("revenue per recipient"),
}


class SentenceCode(StrEnum):
    NO_DATA = "no_data"
    ONE_VARIANT = "one_variant"
    TOO_FEW = "too_few"
    SAMPLE_RATIO_MISMATCH = "sample_ratio_mismatch"
    RATE_HIGHER = "rate_higher"
    RATE_LOWER = "rate_lower"
    RATE_SAME = "rate_same"
    MEAN_HIGHER = "mean_higher"
    MEAN_LOWER = "mean_lower"
    MEAN_SAME = "mean_same"
    HOLDOUT_RATE = "holdout_rate"
    HOLDOUT_MEAN = "holdout_mean"
    NO_HOLDOUT = "no_holdout"
    WINNER_SIGNIFICANT = "winner_significant"
    WINNER_BEST_OBSERVED = "winner_best_observed"
    WINNER_TOO_FEW = "winner_too_few"
    WINNER_ONLY_VARIANT = "winner_only_variant"


SENTENCES = {
    SentenceCode.NO_DATA: _("Nothing has been sent yet."),
    SentenceCode.ONE_VARIANT: _("Only one variant: there is nothing to compare it with."),
    SentenceCode.TOO_FEW: _("Not enough recipients yet: %(smallest)s of the %(minimum)s needed per variant."),
    SentenceCode.SAMPLE_RATIO_MISMATCH: _(
        "Group sizes differ from the plan (%(p)s): check the send before trusting the result."
    ),
    SentenceCode.RATE_HIGHER: _(
        "Variant %(variant)s's %(metric)s is %(difference)s points higher than %(control)s's "
        "(95 %% CI %(low)s to %(high)s); the chance %(variant)s beats %(control)s is %(chance)s."
    ),
    SentenceCode.RATE_LOWER: _(
        "Variant %(variant)s's %(metric)s is %(difference)s points lower than %(control)s's "
        "(95 %% CI %(low)s to %(high)s); the chance %(variant)s beats %(control)s is %(chance)s."
    ),
    SentenceCode.RATE_SAME: _(
        "Variant %(variant)s's %(metric)s is the same as %(control)s's "
        "(95 %% CI %(low)s to %(high)s points); the chance %(variant)s beats %(control)s is %(chance)s."
    ),
    SentenceCode.MEAN_HIGHER: _(
        "Variant %(variant)s's %(metric)s is %(difference)s higher than %(control)s's "
        "(95 %% CI %(low)s to %(high)s); the chance %(variant)s beats %(control)s is %(chance)s."
    ),
    SentenceCode.MEAN_LOWER: _(
        "Variant %(variant)s's %(metric)s is %(difference)s lower than %(control)s's "
        "(95 %% CI %(low)s to %(high)s); the chance %(variant)s beats %(control)s is %(chance)s."
    ),
    SentenceCode.MEAN_SAME: _(
        "Variant %(variant)s's %(metric)s is the same as %(control)s's "
        "(95 %% CI %(low)s to %(high)s); the chance %(variant)s beats %(control)s is %(chance)s."
    ),
    SentenceCode.HOLDOUT_RATE: _(
        "Recipients' %(metric)s is %(difference)s points %(direction)s than the holdout's "
        "(95 %% CI %(low)s to %(high)s, %(p)s)."
    ),
    SentenceCode.HOLDOUT_MEAN: _(
        "Recipients' %(metric)s is %(difference)s %(direction)s than the holdout's "
        "(95 %% CI %(low)s to %(high)s, %(p)s)."
    ),
    SentenceCode.NO_HOLDOUT: _("No holdout group: the lift over sending nothing cannot be measured."),
    SentenceCode.WINNER_SIGNIFICANT: _(
        "Variant %(variant)s wins on %(metric)s: its chance of being the best is %(chance)s."
    ),
    SentenceCode.WINNER_BEST_OBSERVED: _(
        "Variant %(variant)s has the best %(metric)s so far, but the test is not conclusive "
        "(chance of being the best %(chance)s)."
    ),
    SentenceCode.WINNER_TOO_FEW: _(
        "Not enough recipients in the test (%(smallest)s of the %(minimum)s needed per variant): "
        "the control, variant %(variant)s, goes to the rest."
    ),
    SentenceCode.WINNER_ONLY_VARIANT: _("Variant %(variant)s is the only variant."),
}

DIRECTIONS = {"higher": _("higher"), "lower": _("lower")}


@dataclass(frozen=True)
class Sentence:
    """A verdict as a code and its formatted numbers; ``str()`` renders it now."""

    code: SentenceCode
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        params: dict[str, Any] = dict(self.params)
        if "metric" in params:
            params["metric"] = gettext(str(METRIC_NAMES[Metric(params["metric"])]))
        if "direction" in params:
            params["direction"] = gettext(str(DIRECTIONS[params["direction"]]))
        return gettext(str(SENTENCES[self.code])) % params

    @property
    def text(self) -> str:
        return str(self)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "params": dict(self.params), "text": str(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sentence:
        return cls(SentenceCode(data["code"]), dict(data.get("params", {})))


# ── number formats ──────────────────────────────────────────────────────────────────


def points(value: float) -> str:
    """A rate difference in percentage points, one decimal: 0.021 → "2.1"."""
    return f"{value * 100:.1f}"


def money(value: float) -> str:
    return f"{value:,.2f}"


def chance(value: float) -> str:
    """A probability as a whole percent; never "100 %" or "0 %" for what is only likely."""
    if value > 0.99 and value < 1:
        return "> 99 %"
    if value < 0.01 and value > 0:
        return "< 1 %"
    return f"{round(value * 100):.0f} %"


def p_value(value: float) -> str:
    """ "p = 0.0002", "p = 0.03", "p < 0.0001"."""
    if value < 0.0001:
        return "p < 0.0001"
    return f"p = {value:.2g}" if value < 0.01 else f"p = {value:.2f}"


# ── sentences from results ──────────────────────────────────────────────────────────


def rate_sentence(test: ProportionTest, *, metric: str, control: str, variant: str, chance_to_beat: float) -> Sentence:
    """Variant against control on a rate, e.g. "Variant B's click rate is 2.1 points
    higher than A's (95 % CI 0.8 to 3.4); the chance B beats A is 99 %."."""
    if test.difference is None:
        return Sentence(SentenceCode.NO_DATA)
    shown = points(abs(test.difference))
    code = SentenceCode.RATE_SAME
    if shown != points(0):
        code = SentenceCode.RATE_HIGHER if test.difference > 0 else SentenceCode.RATE_LOWER
    return Sentence(
        code,
        {
            "metric": Metric(metric).value,
            "variant": variant,
            "control": control,
            "difference": shown,
            "low": points(test.ci_low),
            "high": points(test.ci_high),
            "chance": chance(chance_to_beat),
        },
    )


def mean_sentence(test: MeanTest, *, metric: str, control: str, variant: str) -> Sentence:
    """Variant against control on revenue per recipient (Welch)."""
    if test.difference is None or test.ci_low is None:
        return Sentence(SentenceCode.NO_DATA)
    shown = money(abs(test.difference))
    code = SentenceCode.MEAN_SAME
    if shown != money(0):
        code = SentenceCode.MEAN_HIGHER if test.difference > 0 else SentenceCode.MEAN_LOWER
    return Sentence(
        code,
        {
            "metric": Metric(metric).value,
            "variant": variant,
            "control": control,
            "difference": shown,
            "low": money(test.ci_low),
            "high": money(test.ci_high),
            "chance": chance(test.chance_to_beat or 0.0),
        },
    )


def holdout_sentence(test: ProportionTest | MeanTest, *, metric: str) -> Sentence:
    """Everyone who was sent the campaign against the holdout."""
    if test.difference is None or test.ci_low is None or test.p_value is None:
        return Sentence(SentenceCode.NO_HOLDOUT)
    direction = "higher" if test.difference >= 0 else "lower"
    if isinstance(test, ProportionTest):
        code, fmt = SentenceCode.HOLDOUT_RATE, points
    else:
        code, fmt = SentenceCode.HOLDOUT_MEAN, money
    return Sentence(
        code,
        {
            "metric": Metric(metric).value,
            "difference": fmt(abs(test.difference)),
            "direction": direction,
            "low": fmt(test.ci_low),
            "high": fmt(test.ci_high),
            "p": p_value(test.p_value),
        },
    )


def sample_size_sentence(check: SampleSizeCheck) -> Sentence:
    """ "Not enough recipients yet: 80 of the 100 needed per variant."."""
    return Sentence(SentenceCode.TOO_FEW, {"smallest": f"{check.smallest:,}", "minimum": f"{check.minimum:,}"})


def sample_ratio_sentence(check: SampleRatioCheck) -> Sentence:
    return Sentence(SentenceCode.SAMPLE_RATIO_MISMATCH, {"p": p_value(check.p_value or 0.0)})
