"""What every channel backend takes and answers, and how failures are classified.

The sender renders a batch of ``OutgoingMessage`` and hands it to one backend call; the
backend answers one ``DeliveryOutcome`` per message, in the same order, and never raises
for one bad recipient. ``temporary`` says a retry may succeed (connection trouble,
timeouts, throttling, server errors, SMTP 4xx); anything else is permanent and is not
retried.

``idempotent`` is the promise that makes a retry after a crash safe: a backend that says
True recognises a message id it has already delivered and does not deliver it again. The
sender relies on it when it cannot know whether a claimed message left before a worker
died.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class OutgoingMessage:
    """One rendered message, ready for a backend. ``message_id`` is the ``Message`` row's
    id; backends use it as the idempotency key."""

    message_id: int
    channel: str
    to: str
    subject: str = ""
    text: str = ""
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeliveryOutcome:
    message_id: int
    ok: bool
    provider_id: str = ""
    temporary: bool = False
    error: str = ""


OutcomeHook = Callable[[DeliveryOutcome], None]


def http_status_temporary(status: int) -> bool:
    """408 (timeout), 425 (too early), 429 (throttled) and every 5xx are worth retrying."""
    return status in (408, 425, 429) or status >= 500


class ChannelBackend:
    """Base of the channel backends; subclasses implement ``send_many``."""

    channel: str = ""
    idempotent: bool = False

    def send_many(self, messages: list[OutgoingMessage], *, each: OutcomeHook | None = None) -> list[DeliveryOutcome]:
        """One outcome per message, in order. ``each`` is called with every outcome as soon as
        it is known: a sender that cannot count on idempotency records each hand-over at once
        while the batch keeps one connection."""
        raise NotImplementedError

    @staticmethod
    def reported(outcome: DeliveryOutcome, each: OutcomeHook | None) -> DeliveryOutcome:
        if each is not None:
            each(outcome)
        return outcome

    @staticmethod
    def failed(message: OutgoingMessage, error: str, *, temporary: bool) -> DeliveryOutcome:
        return DeliveryOutcome(message.message_id, ok=False, temporary=temporary, error=error[:2000])
