"""The console stand-in for SMS and webhook providers: prints each message (demo and
development). Not idempotent: printing twice is harmless, so the sender does not need the
promise here."""

import json
import sys
from typing import TextIO

from campaigns.channels.base import ChannelBackend, DeliveryOutcome, OutcomeHook, OutgoingMessage


class ConsoleChannelBackend(ChannelBackend):
    idempotent = False

    def __init__(self, *, channel: str, stream: TextIO | None = None) -> None:
        self.channel = channel
        self.stream = stream

    def send_many(self, messages: list[OutgoingMessage], *, each: OutcomeHook | None = None) -> list[DeliveryOutcome]:
        stream = self.stream or sys.stdout
        outcomes = []
        for message in messages:
            record = {"message_id": message.message_id, "channel": self.channel, "to": message.to}
            if message.payload:
                record["payload"] = message.payload
            else:
                record["text"] = message.text
            stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            outcome = DeliveryOutcome(message.message_id, ok=True, provider_id=f"console-{message.message_id}")
            outcomes.append(self.reported(outcome, each))
        stream.flush()
        return outcomes
