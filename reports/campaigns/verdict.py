"""The campaign report's verdict in plain words: did the campaign make money compared with
sending nothing (the holdout), and did it pay for itself.

Like ``campaigns.experiments.verdict``, a sentence is a code plus already-formatted
numbers, rendered in the reader's language when it is read. The choice of sentence is a
pure function of the figures (no Django models), so it is tested on numbers alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.experiments.verdict import money


class VerdictCode(StrEnum):
    NOTHING_SENT = "nothing_sent"
    NO_HOLDOUT = "no_holdout"
    HOLDOUT_TOO_SMALL = "holdout_too_small"
    LIFT_HIGHER = "lift_higher"
    LIFT_LOWER = "lift_lower"
    NOT_DISTINGUISHABLE = "not_distinguishable"
    PAID_FOR_ITSELF = "paid_for_itself"
    COVERED_SHARE = "covered_share"
    NO_GAIN = "no_gain"
    NO_COST = "no_cost"
    ATTRIBUTED = "attributed"
    ATTRIBUTED_NO_COST = "attributed_no_cost"


SENTENCES = {
    VerdictCode.NOTHING_SENT: _("Nothing has been sent yet."),
    VerdictCode.NO_HOLDOUT: _(
        "There is no holdout group, so what the campaign added over sending nothing cannot be measured."
    ),
    VerdictCode.HOLDOUT_TOO_SMALL: _(
        "The holdout group has %(holdout)s customers, too few to measure what the campaign added over sending nothing."
    ),
    VerdictCode.LIFT_HIGHER: _(
        "%(who)s earned %(difference)s more per recipient than the holdout (95 %% CI %(low)s to %(high)s)."
    ),
    VerdictCode.LIFT_LOWER: _(
        "%(who)s earned %(difference)s less per recipient than the holdout (95 %% CI %(low)s to %(high)s): "
        "the campaign seems to cost sales."
    ),
    VerdictCode.NOT_DISTINGUISHABLE: _(
        "Not distinguishable from no campaign yet: recipients earned %(difference)s %(direction)s per recipient "
        "than the holdout (95 %% CI %(low)s to %(high)s)."
    ),
    VerdictCode.PAID_FOR_ITSELF: _(
        "The campaign paid for itself %(times)s times: %(incremental)s incremental revenue on a cost of %(cost)s."
    ),
    VerdictCode.COVERED_SHARE: _(
        "Its %(incremental)s incremental revenue covered %(percent)s of its cost of %(cost)s."
    ),
    VerdictCode.NO_GAIN: _("Over the whole campaign the recipients earned no more than the holdout (%(incremental)s)."),
    VerdictCode.NO_COST: _("It added %(incremental)s of revenue and cost nothing to send."),
    VerdictCode.ATTRIBUTED: _("Attributed revenue is %(revenue)s on a cost of %(cost)s (ROI %(roi)s)."),
    VerdictCode.ATTRIBUTED_NO_COST: _("Attributed revenue is %(revenue)s; the campaign cost nothing to send."),
}

WHO = {"recipients": _("All recipients")}
DIRECTIONS = {"more": _("more"), "less": _("less")}


@dataclass(frozen=True)
class VerdictSentence:
    code: VerdictCode
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        params: dict[str, Any] = dict(self.params)
        if "who" in params:
            params["who"] = (
                gettext(str(WHO[params["who"]]))
                if params["who"] in WHO
                else gettext("Variant %(key)s") % {"key": params["who"]}
            )
        if "direction" in params:
            params["direction"] = gettext(str(DIRECTIONS[params["direction"]]))
        return gettext(str(SENTENCES[self.code])) % params

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "params": dict(self.params), "text": str(self)}


@dataclass(frozen=True)
class Verdict:
    """One to two sentences: the lift against the holdout, then the money."""

    sentences: tuple[VerdictSentence, ...]

    def __str__(self) -> str:
        return " ".join(str(sentence) for sentence in self.sentences)

    @property
    def text(self) -> str:
        return str(self)

    def as_dict(self) -> dict[str, Any]:
        return {"text": str(self), "sentences": [sentence.as_dict() for sentence in self.sentences]}


@dataclass(frozen=True)
class LiftFigures:
    """Revenue per recipient of one arm (a variant, or all recipients) minus the
    holdout's, with its 95 % interval (Welch)."""

    key: str  # a variant key, or "recipients" for everyone sent the campaign
    difference: float | None
    low: float | None
    high: float | None


def percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def times(value: float) -> str:
    return f"{value:.1f}"


def verdict_choose(
    *,
    recipients: int,
    overall: LiftFigures | None,
    variants: list[LiftFigures],
    cost: float,
    revenue: float,
    incremental_revenue: float | None,
    holdout: int = 0,
) -> Verdict:
    """The verdict of a campaign report.

    * nothing sent → say so;
    * no holdout (``overall`` is None) → say the lift cannot be measured (no group, or
      ``holdout`` members too few for an interval), then the attributed revenue, cost and ROI;
    * with a holdout: the variant whose revenue per recipient beats the holdout's by the
      most with an interval above zero is named (with one variant, or when no single
      variant is clear of zero but all recipients together are: "Recipients"); an
      interval below zero says the campaign seems to cost sales; an interval containing
      zero is "not distinguishable from no campaign yet". When the lift is clear, the
      second sentence is the payback of the whole campaign (incremental revenue / cost).
    """
    if not recipients:
        return Verdict((VerdictSentence(VerdictCode.NOTHING_SENT),))
    attributed = _attributed(revenue, cost)
    if overall is None or overall.difference is None or overall.low is None or overall.high is None:
        if holdout:
            return Verdict((VerdictSentence(VerdictCode.HOLDOUT_TOO_SMALL, {"holdout": str(holdout)}), attributed))
        return Verdict((VerdictSentence(VerdictCode.NO_HOLDOUT), attributed))

    clear = [v for v in variants if v.low is not None and v.low > 0 and v.difference is not None]
    if len(variants) > 1 and clear:
        best = max(clear, key=lambda v: v.difference)
        lift = _lift_sentence(VerdictCode.LIFT_HIGHER, best)
    elif overall.low > 0:
        lift = _lift_sentence(VerdictCode.LIFT_HIGHER, LiftFigures("recipients", overall.difference, overall.low,
                                                                   overall.high))  # fmt: skip
    elif overall.high < 0:
        lift = _lift_sentence(VerdictCode.LIFT_LOWER, LiftFigures("recipients", overall.difference, overall.low,
                                                                  overall.high))  # fmt: skip
        return Verdict((lift,))
    else:
        direction = "more" if overall.difference >= 0 else "less"
        lift = VerdictSentence(
            VerdictCode.NOT_DISTINGUISHABLE,
            {"difference": money(abs(overall.difference)), "direction": direction, "low": money(overall.low),
             "high": money(overall.high)},
        )  # fmt: skip
        return Verdict((lift, attributed))
    return Verdict((lift, _payback_sentence(incremental_revenue or 0.0, cost)))


def _lift_sentence(code: VerdictCode, lift: LiftFigures) -> VerdictSentence:
    return VerdictSentence(
        code,
        {"who": lift.key, "difference": money(abs(lift.difference)), "low": money(lift.low),
         "high": money(lift.high)},
    )  # fmt: skip


def _payback_sentence(incremental: float, cost: float) -> VerdictSentence:
    if incremental <= 0:
        return VerdictSentence(VerdictCode.NO_GAIN, {"incremental": money(incremental)})
    if not cost:
        return VerdictSentence(VerdictCode.NO_COST, {"incremental": money(incremental)})
    ratio = incremental / cost
    if ratio >= 1:
        return VerdictSentence(
            VerdictCode.PAID_FOR_ITSELF, {"times": times(ratio), "incremental": money(incremental), "cost": money(cost)}
        )
    return VerdictSentence(
        VerdictCode.COVERED_SHARE, {"percent": percent(ratio), "incremental": money(incremental), "cost": money(cost)}
    )


def _attributed(revenue: float, cost: float) -> VerdictSentence:
    if not cost:
        return VerdictSentence(VerdictCode.ATTRIBUTED_NO_COST, {"revenue": money(revenue)})
    return VerdictSentence(
        VerdictCode.ATTRIBUTED,
        {"revenue": money(revenue), "cost": money(cost), "roi": percent((revenue - cost) / cost)},
    )
