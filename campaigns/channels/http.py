"""SMS and webhook delivery through an HTTP endpoint: one JSON POST per message.

The endpoint is the SMS gateway (or a small adapter in front of one) or the shop's own
webhook receiver. Each request carries:

- ``Idempotency-Key: <message id>``: an endpoint that honours it delivers a repeated
  message once. Only then is the backend idempotent (``PRECIS_SMS_IDEMPOTENT`` /
  ``PRECIS_WEBHOOK_IDEMPOTENT``); otherwise a retry after a worker crash may deliver twice.
- ``Authorization: Bearer <token>`` when ``PRECIS_<CHANNEL>_TOKEN`` is set.
- ``X-Precis-Signature: sha256=<hex HMAC-SHA256 of the body>`` when
  ``PRECIS_<CHANNEL>_SIGNING_SECRET`` is set, so the receiver can check the sender.

A 2xx answer is delivered (``id`` or ``message_id`` in a JSON answer becomes the
provider id); connection errors, timeouts, 408/425/429 and 5xx are temporary; any other
answer is permanent.
"""

import hashlib
import hmac
import json

import requests
from django.conf import settings

from campaigns.channels.base import ChannelBackend, DeliveryOutcome, OutcomeHook, OutgoingMessage, http_status_temporary

SIGNATURE_HEADER = "X-Precis-Signature"


def body_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HttpChannelBackend(ChannelBackend):
    def __init__(
        self,
        *,
        channel: str,
        url: str | None = None,
        token: str | None = None,
        signing_secret: str | None = None,
        idempotent: bool | None = None,
        timeout: float | None = None,
    ) -> None:
        prefix = f"PRECIS_{channel.upper()}"
        self.channel = channel
        self.url = url if url is not None else getattr(settings, f"{prefix}_URL", "")
        self.token = token if token is not None else getattr(settings, f"{prefix}_TOKEN", "")
        self.signing_secret = (
            signing_secret if signing_secret is not None else getattr(settings, f"{prefix}_SIGNING_SECRET", "")
        )
        self.idempotent = bool(
            idempotent if idempotent is not None else getattr(settings, f"{prefix}_IDEMPOTENT", False)
        )
        self.timeout = float(timeout if timeout is not None else getattr(settings, f"{prefix}_TIMEOUT", 10))
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session

    def request_body(self, message: OutgoingMessage) -> dict:
        body = {"message_id": message.message_id, "channel": self.channel, "to": message.to, "text": message.text}
        if message.subject:
            body["subject"] = message.subject
        if message.payload:
            body["payload"] = message.payload
        return body

    def send_many(self, messages: list[OutgoingMessage], *, each: OutcomeHook | None = None) -> list[DeliveryOutcome]:
        if not self.url:
            unset = f"PRECIS_{self.channel.upper()}_URL is not set"
            return [self.reported(self.failed(m, unset, temporary=True), each) for m in messages]
        return [self.reported(self._send_one(message), each) for message in messages]

    def _send_one(self, message: OutgoingMessage) -> DeliveryOutcome:
        body = json.dumps(self.request_body(message), ensure_ascii=False, default=str).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(message.message_id)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.signing_secret:
            headers[SIGNATURE_HEADER] = body_signature(body, self.signing_secret)
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as error:
            return self.failed(message, f"{type(error).__name__}: {error}", temporary=True)
        except requests.RequestException as error:
            return self.failed(message, f"{type(error).__name__}: {error}", temporary=False)
        if 200 <= response.status_code < 300:
            return DeliveryOutcome(message.message_id, ok=True, provider_id=_provider_id(response))
        return self.failed(
            message,
            f"HTTP {response.status_code}: {response.text[:500]}",
            temporary=http_status_temporary(response.status_code),
        )


def _provider_id(response: requests.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return ""
    if isinstance(answer, dict):
        return str(answer.get("id") or answer.get("message_id") or "")[:255]
    return ""
