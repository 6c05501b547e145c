"""The funnel definition language and its validation.

A funnel is 2 to 8 ordered steps and a conversion window::

    steps = [
        {"event": "view", "category": "Beauty"},
        {"event": "add_to_cart"},
        {"event": "purchase"},
        {"event": "search", "query_contains": "serum", "path_prefix": "/search"},
    ]
    window = {"value": 7, "unit": "days"}

Each step is one event type (``customers.models.EventType``) and optional filters on the
event's own columns: ``sku`` and ``category`` (equal, case-sensitive), ``query_contains``
(the search query contains the text, ignoring ASCII case) and ``path_prefix`` (the page path
starts with the text, case-sensitive). An empty filter is no filter.

Every problem is reported, not only the first, each as a ``FunnelError`` whose ``field``
names the step and the field (``steps[2].event``; steps count from 0 in the path, from 1 in
the message), so a form can put the message next to the input and the API can return it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from customers.models import EventType
from jobs.errors import CodedError

MIN_STEPS = 2
MAX_STEPS = 8
WINDOW_UNITS = {"hours": 3600, "days": 86400}
MAX_WINDOW_SECONDS = 365 * 86400
# Filter → longest value (the event column's length).
FILTERS: dict[str, int] = {"sku": 64, "category": 100, "query_contains": 255, "path_prefix": 500}


class FunnelErrorCode(StrEnum):
    NOT_A_LIST = "not_a_list"
    TOO_FEW_STEPS = "too_few_steps"
    TOO_MANY_STEPS = "too_many_steps"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_EVENT = "missing_event"
    UNKNOWN_EVENT = "unknown_event"
    UNKNOWN_FILTER = "unknown_filter"
    NOT_TEXT = "not_text"
    TOO_LONG = "too_long"
    INVALID_WINDOW = "invalid_window"
    UNKNOWN_WINDOW_UNIT = "unknown_window_unit"
    WINDOW_TOO_LONG = "window_too_long"
    INVALID_RANGE = "invalid_range"


MESSAGES: dict[FunnelErrorCode, Any] = {
    FunnelErrorCode.NOT_A_LIST: _("The steps must be a list."),
    FunnelErrorCode.TOO_FEW_STEPS: _("A funnel needs at least %(low)d steps, not %(count)d."),
    FunnelErrorCode.TOO_MANY_STEPS: _("A funnel has at most %(high)d steps, not %(count)d."),
    FunnelErrorCode.NOT_AN_OBJECT: _("Step %(step)d: must be an object with an event."),
    FunnelErrorCode.MISSING_EVENT: _("Step %(step)d: choose an event type."),
    FunnelErrorCode.UNKNOWN_EVENT: _("Step %(step)d: “%(value)s” is not an event type (%(known)s)."),
    FunnelErrorCode.UNKNOWN_FILTER: _("Step %(step)d: “%(value)s” is not a step filter (%(known)s)."),
    FunnelErrorCode.NOT_TEXT: _("Step %(step)d: %(filter)s must be text."),
    FunnelErrorCode.TOO_LONG: _("Step %(step)d: %(filter)s is longer than %(limit)d characters."),
    FunnelErrorCode.INVALID_WINDOW: _("The conversion window must be a whole number of hours or days, at least 1."),
    FunnelErrorCode.UNKNOWN_WINDOW_UNIT: _("“%(value)s” is not a window unit (hours or days)."),
    FunnelErrorCode.WINDOW_TOO_LONG: _("The conversion window is at most 365 days."),
    FunnelErrorCode.INVALID_RANGE: _("The date range must end after it starts."),
}


class FunnelError(CodedError):
    codes = FunnelErrorCode
    messages = MESSAGES


class FunnelInvalid(ValueError):
    """All the problems of one definition."""

    def __init__(self, errors: list[FunnelError]) -> None:
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class Step:
    event: str
    sku: str = ""
    category: str = ""
    query_contains: str = ""
    path_prefix: str = ""

    def as_dict(self) -> dict[str, str]:
        """The stored form: the event and only the filters that are set."""
        return {"event": self.event} | {name: getattr(self, name) for name in FILTERS if getattr(self, name)}


def step_label(step: Step) -> str:
    """A short readable name: the event type and its filters."""
    label = str(EventType(step.event).label)
    filters = [f"{name}={getattr(step, name)}" for name in FILTERS if getattr(step, name)]
    return f"{label} ({', '.join(filters)})" if filters else label


def steps_parse(raw: Any) -> list[Step]:
    """Validated steps, or ``FunnelInvalid`` with every problem found."""
    if not isinstance(raw, list):
        raise FunnelInvalid([FunnelError(FunnelErrorCode.NOT_A_LIST, field="steps")])
    errors: list[FunnelError] = []
    if len(raw) < MIN_STEPS:
        errors.append(FunnelError(FunnelErrorCode.TOO_FEW_STEPS, field="steps", low=MIN_STEPS, count=len(raw)))
    if len(raw) > MAX_STEPS:
        errors.append(FunnelError(FunnelErrorCode.TOO_MANY_STEPS, field="steps", high=MAX_STEPS, count=len(raw)))
    known_events = [choice.value for choice in EventType]
    steps = []
    for index, item in enumerate(raw):
        number, path = index + 1, f"steps[{index}]"
        if not isinstance(item, dict):
            errors.append(FunnelError(FunnelErrorCode.NOT_AN_OBJECT, field=path, step=number))
            continue
        values: dict[str, str] = {}
        event = item.get("event")
        if event in (None, ""):
            errors.append(FunnelError(FunnelErrorCode.MISSING_EVENT, field=f"{path}.event", step=number))
        elif event not in known_events:
            errors.append(FunnelError(FunnelErrorCode.UNKNOWN_EVENT, field=f"{path}.event", step=number,
                                      value=str(event), known=", ".join(known_events)))  # fmt: skip
        for name, value in item.items():
            if name == "event":
                continue
            if name not in FILTERS:
                errors.append(FunnelError(FunnelErrorCode.UNKNOWN_FILTER, field=f"{path}.{name}", step=number,
                                          value=str(name), known=", ".join(FILTERS)))  # fmt: skip
            elif value is None:
                continue
            elif not isinstance(value, str):
                errors.append(FunnelError(FunnelErrorCode.NOT_TEXT, field=f"{path}.{name}", step=number, filter=name))
            elif len(value.strip()) > FILTERS[name]:
                errors.append(FunnelError(FunnelErrorCode.TOO_LONG, field=f"{path}.{name}", step=number,
                                          filter=name, limit=FILTERS[name]))  # fmt: skip
            else:
                values[name] = value.strip()
        if event in known_events:
            steps.append(Step(event=event, **values))
    if errors:
        raise FunnelInvalid(errors)
    return steps


def window_seconds(value: Any, unit: Any) -> int:
    """The conversion window in seconds, or ``FunnelInvalid`` naming the window field."""
    if unit not in WINDOW_UNITS:
        raise FunnelInvalid([FunnelError(FunnelErrorCode.UNKNOWN_WINDOW_UNIT, field="window_unit", value=str(unit))])
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FunnelInvalid([FunnelError(FunnelErrorCode.INVALID_WINDOW, field="window_value")])
    seconds = value * WINDOW_UNITS[unit]
    if seconds > MAX_WINDOW_SECONDS:
        raise FunnelInvalid([FunnelError(FunnelErrorCode.WINDOW_TOO_LONG, field="window_value")])
    return seconds
