"""The campaign form of the pages: settings, audience, schedule, test plan, budget, and
the variants as a formset (rows added and removed by posting the form back).

The form only shapes input; ``campaigns.services`` checks and writes it, and its
CampaignError fields (``holdout_percent``, ``variants[1].subject``) are mapped back onto
the form fields here so every refusal shows next to its input.
"""

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.errors import CampaignError
from campaigns.models import Campaign, CouponPool, Variant
from campaigns.services import RECURRENCE_FIELDS
from segments.models import Segment


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"]


class SegmentMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, segment: Segment) -> str:
        return f"{segment.name} ({segment.size:,})"


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    goal = forms.ChoiceField(label=_("Goal"), choices=Campaign.Goal.choices, initial=Campaign.Goal.CONVERSION)
    channel = forms.ChoiceField(label=_("Channel"), choices=Campaign._meta.get_field("channel").choices)

    audience_segments = SegmentMultipleChoiceField(
        label=_("Audience segments"),
        queryset=Segment.objects.order_by("name"),
        required=False,
        help_text=_("Members of any of these segments."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    exclusion_segments = SegmentMultipleChoiceField(
        label=_("Exclude segments"),
        queryset=Segment.objects.order_by("name"),
        required=False,
        help_text=_("Members of these segments get nothing."),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    tiers = forms.MultipleChoiceField(
        label=_("Only these member tiers"),
        required=False,
        help_text=_("A tier-only offer; none selected means every tier."),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    coupon_pool = forms.ModelChoiceField(
        label=_("Coupon offer"),
        queryset=CouponPool.objects.order_by("name"),
        required=False,
        empty_label=_("No coupon"),
    )

    holdout_percent = forms.FloatField(label=_("Holdout %"), min_value=0, max_value=50, initial=0)
    test_percent = forms.FloatField(
        label=_("Test group %"),
        min_value=1,
        max_value=100,
        initial=100,
        help_text=_(
            "100: every variant goes to its share of the audience. "
            "Below 100: test on this share, then send the winner to the rest."
        ),
    )
    winner_metric = forms.ChoiceField(
        label=_("Winner chosen by"), choices=Campaign.WinnerMetric.choices, initial=Campaign.WinnerMetric.CLICK
    )
    winner_after_hours = forms.IntegerField(
        label=_("Choose the winner after (hours)"), min_value=1, max_value=168, initial=4
    )
    min_sample_per_variant = forms.IntegerField(label=_("Minimum recipients per variant"), min_value=1, initial=100)
    thompson_sampling = forms.BooleanField(label=_("Thompson-sampling allocation (recurring)"), required=False)

    schedule_kind = forms.ChoiceField(
        label=_("When"),
        choices=Campaign.ScheduleKind.choices,
        initial=Campaign.ScheduleKind.NOW,
        widget=forms.RadioSelect,
    )
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=_("Wall-clock time in the time zone below."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), initial="UTC")
    recurrence_minute = forms.CharField(label=_("Minute"), required=False, initial="0", max_length=64)
    recurrence_hour = forms.CharField(label=_("Hour"), required=False, initial="9", max_length=64)
    recurrence_day_of_week = forms.CharField(label=_("Day of week"), required=False, initial="*", max_length=64)
    recurrence_day_of_month = forms.CharField(label=_("Day of month"), required=False, initial="*", max_length=64)
    recurrence_month_of_year = forms.CharField(label=_("Month"), required=False, initial="*", max_length=64)
    trigger = forms.ChoiceField(label=_("Trigger"), required=False, choices=[("", "—"), *Campaign.Trigger.choices])
    trigger_segment = forms.ModelChoiceField(
        label=_("Segment entered"), queryset=Segment.objects.order_by("name"), required=False
    )
    trigger_threshold = forms.FloatField(
        label=_("Churn risk above"), required=False, help_text=_("Between 0 and 1, e.g. 0.7.")
    )
    trigger_hours = forms.IntegerField(label=_("Hours after add-to-cart without purchase"), required=False, min_value=1)
    trigger_tier = forms.ChoiceField(label=_("Tier reached"), required=False)

    budget = forms.DecimalField(label=_("Budget"), required=False, min_value=0, decimal_places=2, max_digits=14)
    cost_per_message = forms.DecimalField(
        label=_("Cost per message"), min_value=0, decimal_places=4, max_digits=10, initial=0
    )
    fixed_cost = forms.DecimalField(label=_("Fixed cost"), min_value=0, decimal_places=2, max_digits=14, initial=0)
    conversion_window_days = forms.IntegerField(
        label=_("Conversion window (days)"), min_value=1, max_value=365, initial=7
    )

    def __init__(self, *args: Any, tier_names: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()
        tiers = [(name, name) for name in tier_names or []]
        self.fields["tiers"].choices = tiers
        self.fields["trigger_tier"].choices = [("", "—"), *tiers]

    @classmethod
    def initial_from(cls, campaign: Campaign) -> dict[str, Any]:
        """The form's initial values for an existing campaign (send time shown in its time zone)."""
        initial: dict[str, Any] = {
            name: getattr(campaign, name)
            for name in (
                "name", "description", "goal", "channel", "holdout_percent", "test_percent", "winner_metric",
                "winner_after_hours", "min_sample_per_variant", "thompson_sampling", "schedule_kind", "time_zone",
                "trigger", "trigger_threshold", "trigger_hours", "trigger_tier", "budget", "cost_per_message",
                "fixed_cost", "conversion_window_days", "tiers",
            )
        }  # fmt: skip
        initial["audience_segments"] = list(campaign.audience_segments.all())
        initial["exclusion_segments"] = list(campaign.exclusion_segments.all())
        initial["coupon_pool"] = campaign.coupon_pool_id
        initial["trigger_segment"] = campaign.trigger_segment_id
        if campaign.send_at:
            try:
                zone = zoneinfo.ZoneInfo(campaign.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = zoneinfo.ZoneInfo("UTC")
            initial["send_at"] = campaign.send_at.astimezone(zone).replace(tzinfo=None)
        for name in RECURRENCE_FIELDS:
            initial[f"recurrence_{name}"] = (campaign.recurrence or {}).get(name, "")
        return initial

    def service_values(self) -> dict[str, Any]:
        """The cleaned form in the keyword arguments of campaign_create / campaign_update."""
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in (
                "name", "description", "goal", "channel", "holdout_percent", "test_percent", "winner_metric",
                "winner_after_hours", "min_sample_per_variant", "thompson_sampling", "schedule_kind", "time_zone",
                "trigger", "trigger_threshold", "trigger_hours", "trigger_tier", "budget", "conversion_window_days",
            )
        }  # fmt: skip
        values["cost_per_message"] = data["cost_per_message"] or 0
        values["fixed_cost"] = data["fixed_cost"] or 0
        # The form sends wall-clock time; the service reads it in the chosen time zone.
        send_at = data.get("send_at")
        values["send_at"] = send_at.replace(tzinfo=None) if send_at else None
        values["audience_segment_ids"] = [s.pk for s in data["audience_segments"]]
        values["exclusion_segment_ids"] = [s.pk for s in data["exclusion_segments"]]
        values["tiers"] = list(data["tiers"])
        values["coupon_pool_id"] = data["coupon_pool"].pk if data["coupon_pool"] else None
        values["trigger_segment_id"] = data["trigger_segment"].pk if data["trigger_segment"] else None
        values["recurrence"] = {
            name: data[f"recurrence_{name}"].strip() for name in RECURRENCE_FIELDS if data[f"recurrence_{name}"].strip()
        }
        if values["schedule_kind"] != Campaign.ScheduleKind.RECURRING:
            values["recurrence"] = {}
        return values


class VariantForm(forms.Form):
    key = forms.CharField(label=_("Variant"), max_length=8, required=False, widget=forms.TextInput(attrs={"size": 3}))
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    weight = forms.IntegerField(label=_("Weight"), min_value=1, initial=1)
    subject = forms.CharField(label=_("Subject"), max_length=255, required=False)
    body_text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    body_html = forms.CharField(label=_("HTML"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    @classmethod
    def initial_from(cls, variant: Variant) -> dict[str, Any]:
        return {name: getattr(variant, name) for name in ("key", "name", "weight", "subject", "body_text", "body_html")}


VariantFormSet = forms.formset_factory(VariantForm, extra=0, min_num=1, validate_min=True, can_delete=False)


def variant_rows(formset) -> list[dict[str, Any]]:
    """The formset's rows as the services' variant dicts."""
    return [
        {name: form.cleaned_data.get(name) for name in ("key", "name", "weight", "subject", "body_text", "body_html")}
        for form in formset.forms
        if form.cleaned_data
    ]


FORM_FIELD_OF_ERROR = {
    "audience_segments": "audience_segments",
    "exclusion_segments": "exclusion_segments",
    "coupon_pool": "coupon_pool",
    "trigger_segment": "trigger_segment",
    "status": None,
    "variants": None,
}


def error_place(refusal: CampaignError, form: CampaignForm, formset) -> None:
    """Show a service refusal next to its input: a form field, a variant row's field, or
    above the form."""
    field = refusal.field or ""
    if field.startswith("variants[") and "]." in field:
        index = int(field[len("variants[") : field.index("]")])
        name = field.split("].", 1)[1]
        if index < len(formset.forms) and name in formset.forms[index].fields:
            formset.forms[index].add_error(name, refusal.message)
            return
    if field.startswith("recurrence."):
        name = "recurrence_" + field.split(".", 1)[1]
        if name in form.fields:
            form.add_error(name, refusal.message)
            return
    name = FORM_FIELD_OF_ERROR.get(field, field)
    form.add_error(name if name in form.fields else None, refusal.message)
