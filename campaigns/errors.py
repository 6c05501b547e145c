"""Why a campaign operation was refused, as codes (see jobs/errors.py for the shape)."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from jobs.errors import CodedError


class CampaignErrorCode(StrEnum):
    NOT_ALLOWED = "not_allowed"
    REQUIRED = "required"
    INVALID = "invalid"
    NO_AUDIENCE = "no_audience"
    NO_VARIANTS = "no_variants"
    BAD_TEMPLATE = "bad_template"
    BAD_TIME_ZONE = "bad_time_zone"
    BAD_RECURRENCE = "bad_recurrence"
    IN_THE_PAST = "in_the_past"
    OUT_OF_RANGE = "out_of_range"
    NOT_EDITABLE = "not_editable"
    NO_CONSENT = "no_consent"
    NOT_FOUND = "not_found"


class CampaignError(CodedError):
    codes = CampaignErrorCode
    messages = {
        CampaignErrorCode.NOT_ALLOWED: _("A campaign that is %(current)s cannot become %(target)s."),
        CampaignErrorCode.REQUIRED: _("%(label)s is required."),
        CampaignErrorCode.INVALID: _("%(label)s is not valid: %(reason)s"),
        CampaignErrorCode.NO_AUDIENCE: _("Choose at least one audience segment."),
        CampaignErrorCode.NO_VARIANTS: _("A campaign needs at least one variant with content."),
        CampaignErrorCode.BAD_TEMPLATE: _("Variant %(variant)s, %(part)s: %(reason)s"),
        CampaignErrorCode.BAD_TIME_ZONE: _("“%(value)s” is not a known time zone."),
        CampaignErrorCode.BAD_RECURRENCE: _("The recurrence is not valid: %(reason)s"),
        CampaignErrorCode.IN_THE_PAST: _("The send time %(value)s has already passed."),
        CampaignErrorCode.OUT_OF_RANGE: _("%(label)s must be between %(low)s and %(high)s."),
        CampaignErrorCode.NOT_EDITABLE: _("Only a draft campaign can be edited (this one is %(current)s)."),
        CampaignErrorCode.NO_CONSENT: _(
            "Nobody in the audience can receive %(channel)s messages (no consent or no address for the channel)."
        ),
        CampaignErrorCode.NOT_FOUND: _("%(label)s: there is no %(value)s."),
    }
