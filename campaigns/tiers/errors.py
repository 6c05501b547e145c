"""Why a tier definition was refused, as codes the API and the page share. ``field`` names
the input at fault; the message is rendered in the reader's language when it is read."""

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from jobs.errors import CodedError


class TierErrorCode(StrEnum):
    NAME_REQUIRED = "name_required"
    NAME_TOO_LONG = "name_too_long"
    NAME_TAKEN = "name_taken"
    RANK_OUT_OF_RANGE = "rank_out_of_range"
    RANK_TAKEN = "rank_taken"
    UNKNOWN_METRIC = "unknown_metric"
    THRESHOLD_NOT_A_NUMBER = "threshold_not_a_number"
    THRESHOLD_NEGATIVE = "threshold_negative"
    THRESHOLD_NOT_WHOLE = "threshold_not_whole"
    THRESHOLD_PRECISION = "threshold_precision"
    THRESHOLD_TOO_LARGE = "threshold_too_large"
    THRESHOLD_ORDER = "threshold_order"
    WINDOW_OUT_OF_RANGE = "window_out_of_range"


MESSAGES: dict[TierErrorCode, Any] = {
    TierErrorCode.NAME_REQUIRED: _("Give the tier a name."),
    TierErrorCode.NAME_TOO_LONG: _("A tier name has at most %(limit)d characters."),
    TierErrorCode.NAME_TAKEN: _("There is already a tier called %(name)s."),
    TierErrorCode.RANK_OUT_OF_RANGE: _("The rank must be a whole number from %(low)d to %(high)d."),
    TierErrorCode.RANK_TAKEN: _("Tier %(name)s already has rank %(rank)d; give each tier its own rank."),
    TierErrorCode.UNKNOWN_METRIC: _("%(metric)s is not a tier measure (use spend or orders)."),
    TierErrorCode.THRESHOLD_NOT_A_NUMBER: _("The threshold must be a number."),
    TierErrorCode.THRESHOLD_NEGATIVE: _("The threshold cannot be negative."),
    TierErrorCode.THRESHOLD_NOT_WHOLE: _("An order-count threshold must be a whole number."),
    TierErrorCode.THRESHOLD_PRECISION: _("A spend threshold has at most two decimal places."),
    TierErrorCode.THRESHOLD_TOO_LARGE: _("The threshold is too large."),
    TierErrorCode.THRESHOLD_ORDER: _(
        "Tier %(other)s (rank %(other_rank)d) needs %(other_threshold)s over the same window: "
        "a higher rank cannot need less than a lower one."
    ),
    TierErrorCode.WINDOW_OUT_OF_RANGE: _("The rolling window must be from %(low)d to %(high)d days."),
}


class TierError(CodedError):
    """A refused tier definition."""

    codes = TierErrorCode
    messages = MESSAGES

    def as_dict(self) -> dict[str, Any]:
        """What the API answers: the message already rendered."""
        return {"field": self.field, "code": self.code.value, "message": self.message}
