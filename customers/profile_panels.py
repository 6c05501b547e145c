"""Panels that apps further right (segments, analytics, campaigns ...) add to the customer
profile page, without the customers app importing them.

An app registers a function in its ``AppConfig.ready``; the function gets the customer and
returns ``(template name, context)`` or ``None`` when it has nothing to show yet.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from customers.models import Customer

PanelFunction = Callable[[Customer], tuple[str, dict[str, Any]] | None]
_panels: list[tuple[int, PanelFunction]] = []


@dataclass(frozen=True)
class ProfilePanel:
    template: str
    context: dict[str, Any]


def profile_panel_register(function: PanelFunction, *, order: int = 100) -> None:
    if all(existing is not function for _, existing in _panels):
        _panels.append((order, function))
        _panels.sort(key=lambda item: item[0])


def profile_panels(customer: Customer) -> list[ProfilePanel]:
    panels = []
    for _, function in _panels:
        answer = function(customer)
        if answer is not None:
            panels.append(ProfilePanel(template=answer[0], context=answer[1]))
    return panels
