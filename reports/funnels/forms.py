"""Forms of the funnel pages. The steps are rows of repeated inputs (``step_event``,
``step_sku``, …: the n-th value of each belongs to step n), so rows can be added and removed
in the browser without renumbering; ``schema.steps_parse`` validates them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import EventType
from reports.funnels.models import Funnel
from reports.funnels.schema import FILTERS, MAX_STEPS, FunnelInvalid
from reports.funnels.selectors import default_date_range
from segments.models import Segment

STEP_FIELDS = ("event", *FILTERS)
FILTER_LABELS = {
    "sku": _("SKU"),
    "category": _("Category"),
    "query_contains": _("Search query contains"),
    "path_prefix": _("Page path starts with"),
}


class FunnelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    window_value = forms.IntegerField(label=_("Conversion window"), min_value=1, initial=7)
    window_unit = forms.ChoiceField(label=_("Window unit"), choices=Funnel.WindowUnit.choices, initial="days")
    segment = forms.ModelChoiceField(label=_("Default segment"), queryset=Segment.objects.order_by("name", "pk"),
                                     required=False, empty_label=_("All customers"))  # fmt: skip


def step_rows_from_post(data) -> list[dict[str, str]]:
    """The posted step rows, in order; a row with no event and no filter is left out."""
    columns = {name: data.getlist(f"step_{name}") for name in STEP_FIELDS}
    count = min(max((len(values) for values in columns.values()), default=0), MAX_STEPS + 10)
    rows = []
    for index in range(count):
        row = {name: (values[index] if index < len(values) else "").strip() for name, values in columns.items()}
        if any(row.values()):
            rows.append(row)
    return rows


def steps_from_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """What ``funnel_create`` takes: the event and the filters that are filled in."""
    return [{name: value for name, value in row.items() if value or name == "event"} for row in rows]


def rows_with_errors(rows: list[dict[str, str]], invalid: FunnelInvalid | None) -> list[dict]:
    """Rows for the template, each with the messages of its own step."""
    messages: dict[int, list[str]] = {}
    for error in invalid.errors if invalid else []:
        if error.field and error.field.startswith("steps["):
            index = int(error.field[len("steps[") : error.field.index("]")])
            messages.setdefault(index, []).append(error.message)
    return [
        row | {"number": index + 1, "errors": messages.get(index, []),
               "filters": [(name, FILTER_LABELS[name], row.get(name, "")) for name in FILTERS]}
        for index, row in enumerate(rows)
    ]  # fmt: skip


def blank_rows(count: int = 2) -> list[dict]:
    return rows_with_errors([dict.fromkeys(STEP_FIELDS, "") for _ in range(count)], None)


def event_choices() -> list[tuple[str, str]]:
    return [("", _("Choose an event")), *EventType.choices]


class FunnelFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.order_by("name", "pk"),
                                     required=False, empty_label=_("All customers"))  # fmt: skip

    def result_arguments(self, funnel: Funnel) -> dict:
        """Arguments of ``funnel_result``: the last 30 days and the funnel's own segment
        unless the form says otherwise (an empty segment means all customers); a bad value
        falls back to its default, and an end before the start is swapped."""
        first, last = default_date_range()
        if not self.is_bound:
            return {"first_day": first, "last_day": last, "segment_id": funnel.segment_id}
        self.is_valid()
        data = self.cleaned_data
        start, end = data.get("start") or first, data.get("end") or last
        if end < start:
            start, end = end, start
        segment = data.get("segment")
        return {"first_day": start, "last_day": end, "segment_id": segment.pk if segment else None}
