"""Email through any Django email backend: SMTP in production, any django-anymail ESP,
the console, or the local file sink (``PRECIS_CAMPAIGN_EMAIL_BACKEND``).

Every message is a multipart/alternative ``EmailMultiAlternatives`` (plain text and,
when the variant has one, HTML) from ``PRECIS_CAMPAIGN_FROM_EMAIL``, carrying the
List-Unsubscribe headers the renderer set and a ``Message-ID`` derived from the
``Message`` row's id (``message_id_header``): the same message always gets the same
Message-ID, which is how bounce and complaint reports find their row again and how the
file sink recognises a re-send.

One connection serves the whole batch; messages are handed to it one at a time, so a
refused recipient fails only its own message.

Idempotency: the file sink and the locmem backend (which checks its outbox for the
Message-ID) do not deliver the same message twice. SMTP and the ESP APIs do: a message
accepted just before a worker was killed is sent again by the retry, so the channel says
``idempotent = False`` for them and the sender must treat such messages as at-most-once
or accept the rare duplicate.
"""

import contextlib
import smtplib
from email.utils import parseaddr

import requests
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from campaigns.channels.base import ChannelBackend, DeliveryOutcome, OutcomeHook, OutgoingMessage, http_status_temporary
from campaigns.channels.sinks import MessageFileEmailBackend

LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MESSAGE_ID_SALT = "precis.campaigns.message-id"
METADATA_KEY = "precis_message_id"


def sender_domain() -> str:
    address = parseaddr(campaign_from_email())[1]
    return address.rpartition("@")[2] or str(DNS_NAME)


def campaign_from_email() -> str:
    return getattr(settings, "PRECIS_CAMPAIGN_FROM_EMAIL", "") or settings.DEFAULT_FROM_EMAIL


def _message_id_digest(message_id: int) -> str:
    return salted_hmac(MESSAGE_ID_SALT, str(message_id), algorithm="sha256").hexdigest()[:16]


def message_id_header(message_id: int) -> str:
    """``<precis.<id>.<digest>@<sender domain>>``: stable per message, not guessable."""
    return f"<precis.{message_id}.{_message_id_digest(message_id)}@{sender_domain()}>"


def message_id_from_header(value: str) -> int | None:
    """The ``Message`` id in a Message-ID this site generated, else None."""
    local = value.strip().strip("<>").partition("@")[0]
    parts = local.split(".")
    if len(parts) != 3 or parts[0] != "precis" or not parts[1].isdigit():
        return None
    message_id = int(parts[1])
    return message_id if parts[2] == _message_id_digest(message_id) else None


def error_temporary(error: BaseException) -> bool:
    """Would the same message succeed later? SMTP 4xx, dropped connections, timeouts,
    ESP API throttling and server errors: yes. Everything else: no."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected | TimeoutError | ConnectionError):
        return True
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        return http_status_temporary(status)
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return True
    cause = error.__cause__ or error.__context__
    if isinstance(cause, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(error, smtplib.SMTPException | FileNotFoundError | PermissionError):
        return False
    return isinstance(error, OSError)  # socket errors


class _LocmemIndex:
    """Message-IDs already in ``django.core.mail.outbox`` (per process), indexed as the
    outbox grows so the duplicate check stays O(1) for big test sends."""

    def __init__(self) -> None:
        self.outbox: list | None = None
        self.indexed = 0
        self.seen: set[str] = set()

    def contains(self, header: str) -> bool:
        outbox = getattr(mail, "outbox", [])
        if outbox is not self.outbox or len(outbox) < self.indexed:
            self.outbox, self.indexed, self.seen = outbox, 0, set()
        for email in outbox[self.indexed :]:
            self.seen.add(str(email.extra_headers.get("Message-ID", "")))
        self.indexed = len(outbox)
        return header in self.seen


_locmem_index = _LocmemIndex()


class EmailChannelBackend(ChannelBackend):
    channel = "email"

    def __init__(self, *, backend: str | None = None, from_email: str | None = None, **backend_options) -> None:
        self.backend_path = backend or getattr(
            settings, "PRECIS_CAMPAIGN_EMAIL_BACKEND", "campaigns.channels.sinks.MessageFileEmailBackend"
        )
        self.from_email = from_email or campaign_from_email()
        self.backend_options = backend_options
        backend_class = import_string(self.backend_path)
        self.locmem = self.backend_path == LOCMEM_BACKEND
        self.idempotent = self.locmem or issubclass(backend_class, MessageFileEmailBackend)

    def email_build(self, message: OutgoingMessage) -> EmailMultiAlternatives:
        headers = {**message.headers, "Message-ID": message_id_header(message.message_id)}
        email = EmailMultiAlternatives(
            subject=message.subject, body=message.text, from_email=self.from_email, to=[message.to], headers=headers
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        # Anymail sends metadata to the ESP, which returns it with tracking events.
        email.metadata = {METADATA_KEY: str(message.message_id)}
        return email

    def send_many(self, messages: list[OutgoingMessage], *, each: OutcomeHook | None = None) -> list[DeliveryOutcome]:
        if not messages:
            return []
        try:
            connection = get_connection(self.backend_path, fail_silently=False, **self.backend_options)
            connection.open()
        except Exception as error:  # no connection: nothing in the batch was sent
            failed = [self.failed(m, _describe(error), temporary=error_temporary(error)) for m in messages]
            return [self.reported(outcome, each) for outcome in failed]
        try:
            return [self.reported(self._send_one(connection, message), each) for message in messages]
        finally:
            with contextlib.suppress(Exception):  # closing a broken session must not lose the outcomes
                connection.close()

    def _send_one(self, connection, message: OutgoingMessage) -> DeliveryOutcome:
        header = message_id_header(message.message_id)
        if not message.to:
            return self.failed(message, "no email address", temporary=False)
        try:
            email = self.email_build(message)
            if self.locmem and _locmem_index.contains(header):
                return DeliveryOutcome(message.message_id, ok=True, provider_id=header)
            sent = connection.send_messages([email])
        except Exception as error:
            temporary = error_temporary(error)
            if isinstance(error, smtplib.SMTPServerDisconnected) or (
                isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)
            ):
                _reopen(connection)
            return self.failed(message, _describe(error), temporary=temporary)
        if not sent:
            return self.failed(message, "the email backend did not accept the message", temporary=False)
        return DeliveryOutcome(message.message_id, ok=True, provider_id=_provider_id(email) or header)


def _reopen(connection) -> None:
    with contextlib.suppress(Exception):
        connection.close()
    with contextlib.suppress(Exception):  # if it stays closed, the next message says why
        connection.open()


def _provider_id(email: EmailMultiAlternatives) -> str:
    """The ESP's id of an anymail-sent message (one recipient, so one id)."""
    status = getattr(email, "anymail_status", None)
    provider = getattr(status, "message_id", None)
    if isinstance(provider, set):
        provider = next(iter(provider), None) if len(provider) == 1 else None
    return str(provider or "")[:255]


def _describe(error: BaseException) -> str:
    try:
        text = str(error).strip()
    except Exception:  # an exception whose __str__ fails on missing details
        text = ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
