"""Why a sentiment request was refused, as codes the API and the pages share."""

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from jobs.errors import CodedError


class SentimentErrorCode(StrEnum):
    TOO_FEW_REVIEWS = "too_few_reviews"
    UNKNOWN_GROUPING = "unknown_grouping"
    UNKNOWN_PERIOD = "unknown_period"
    UNKNOWN_SOURCE = "unknown_source"


MESSAGES: dict[SentimentErrorCode, Any] = {
    SentimentErrorCode.TOO_FEW_REVIEWS: _(
        "Training needs at least %(needed)d rated reviews of each kind (rated 4–5 and rated 1–2); "
        "there are %(positive)d and %(negative)d. The shipped lexicon is used meanwhile."
    ),
    SentimentErrorCode.UNKNOWN_GROUPING: _("%(by)s is not a grouping (use category or product)."),
    SentimentErrorCode.UNKNOWN_PERIOD: _("%(period)s is not a period (use week or month)."),
    SentimentErrorCode.UNKNOWN_SOURCE: _("%(source)s is not a text source."),
}


class SentimentError(CodedError):
    """A refused sentiment request; ``field`` names the input at fault, if one is."""

    codes = SentimentErrorCode
    messages = MESSAGES
