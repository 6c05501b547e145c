"""The email channel: one multipart message per recipient with a stable Message-ID, the
file sink's one-file-per-message idempotence, and failure classification."""

import smtplib
import socket

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from campaigns.channels import OutgoingMessage, backend_for
from campaigns.channels.email import EmailChannelBackend, error_temporary, message_id_from_header, message_id_header
from campaigns.channels.sinks import MessageFileEmailBackend, outbox_file_name

SINK = "campaigns.channels.sinks.MessageFileEmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def outgoing(message_id: int, to: str = "ana@example.com") -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id,
        channel="email",
        to=to,
        subject="Spring sale",
        text="Hello Ana",
        html="<p>Hello Ana</p>",
        headers={
            "List-Unsubscribe": "<https://shop.example.com/t/u/x/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@pytest.fixture
def outbox_dir(tmp_path, settings):
    settings.PRECIS_OUTBOX_DIR = tmp_path / "outbox"
    return settings.PRECIS_OUTBOX_DIR


def test_message_id_is_stable_and_verifiable(settings):
    settings.PRECIS_CAMPAIGN_FROM_EMAIL = "Shop <news@shop.example.com>"
    header = message_id_header(42)
    assert header == message_id_header(42)
    assert header.startswith("<precis.42.") and header.endswith("@shop.example.com>")
    assert message_id_from_header(header) == 42
    assert message_id_from_header(header.replace("precis.42.", "precis.43.")) is None
    assert message_id_from_header("<abc@example.com>") is None


def test_email_is_multipart_with_headers_from_settings(settings):
    settings.PRECIS_CAMPAIGN_EMAIL_BACKEND = LOCMEM
    settings.PRECIS_CAMPAIGN_FROM_EMAIL = "Shop <news@shop.example.com>"
    backend = backend_for("email")
    [outcome] = backend.send_many([outgoing(7)])
    assert outcome.ok and outcome.message_id == 7 and outcome.provider_id == message_id_header(7)
    [email] = mail.outbox
    parsed = email.message()
    assert parsed["From"] == "Shop <news@shop.example.com>"
    assert parsed["To"] == "ana@example.com"
    assert parsed["Message-ID"] == message_id_header(7)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.get_payload()] == ["text/plain", "text/html"]


def test_text_only_email_is_not_multipart(settings):
    settings.PRECIS_CAMPAIGN_EMAIL_BACKEND = LOCMEM
    message = outgoing(8)
    message.html = ""
    assert backend_for("email").send_many([message])[0].ok
    assert mail.outbox[0].message().get_content_type() == "text/plain"


def test_file_sink_writes_one_file_per_message_even_when_sent_twice(outbox_dir, settings):
    settings.PRECIS_CAMPAIGN_EMAIL_BACKEND = SINK
    backend = backend_for("email")
    assert backend.idempotent
    first = backend.send_many([outgoing(1), outgoing(2)])
    again = backend_for("email").send_many([outgoing(2), outgoing(3)])
    assert [o.ok for o in first + again] == [True] * 4
    files = sorted(path.name for path in outbox_dir.iterdir())
    assert files == sorted(outbox_file_name(message_id_header(i)) for i in (1, 2, 3))
    text = (outbox_dir / outbox_file_name(message_id_header(2))).read_text()
    assert "Message-ID: " + message_id_header(2) in text


def test_file_sink_counts_duplicates(tmp_path):
    sink = MessageFileEmailBackend(file_path=tmp_path)
    email = EmailChannelBackend(backend=SINK).email_build(outgoing(5))
    assert sink.send_messages([email]) == 1
    assert sink.send_messages([email]) == 1
    assert sink.duplicates == 1
    assert len(list(tmp_path.glob("*.eml"))) == 1
    assert not list(tmp_path.glob(".partial-*"))


def test_locmem_recognises_a_resend(settings):
    settings.PRECIS_CAMPAIGN_EMAIL_BACKEND = LOCMEM
    backend = backend_for("email")
    assert backend.idempotent
    backend.send_many([outgoing(1)])
    assert backend.send_many([outgoing(1), outgoing(2)])[0].ok
    assert [e.extra_headers["Message-ID"] for e in mail.outbox] == [message_id_header(1), message_id_header(2)]


def test_smtp_and_console_are_not_idempotent():
    assert not EmailChannelBackend(backend=SMTP).idempotent
    assert not EmailChannelBackend(backend="django.core.mail.backends.console.EmailBackend").idempotent


class RefusingBackend(BaseEmailBackend):
    """Refuses bounce@… permanently and busy@… temporarily, accepts the rest."""

    sent: list[str] = []

    def send_messages(self, email_messages):
        for email in email_messages:
            address = email.to[0]
            if address.startswith("bounce@"):
                raise smtplib.SMTPRecipientsRefused({address: (550, b"no such user")})
            if address.startswith("busy@"):
                raise smtplib.SMTPRecipientsRefused({address: (451, b"try later")})
            RefusingBackend.sent.append(address)
        return len(email_messages)


def test_one_bad_recipient_fails_only_its_message():
    RefusingBackend.sent = []
    backend = EmailChannelBackend(backend=f"{__name__}.RefusingBackend")
    batch = [outgoing(1, "a@example.com"), outgoing(2, "bounce@example.com"), outgoing(3, "busy@example.com"),
             outgoing(4, "b@example.com"), outgoing(5, "")]  # fmt: skip
    outcomes = backend.send_many(batch)
    assert [o.message_id for o in outcomes] == [1, 2, 3, 4, 5]
    assert [o.ok for o in outcomes] == [True, False, False, True, False]
    assert [o.temporary for o in outcomes] == [False, False, True, False, False]
    assert "550" in outcomes[1].error
    assert RefusingBackend.sent == ["a@example.com", "b@example.com"]


def test_unreachable_smtp_server_fails_the_batch_temporarily():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = EmailChannelBackend(backend=SMTP, host="127.0.0.1", port=port, timeout=2)
    outcomes = backend.send_many([outgoing(1), outgoing(2)])
    assert [(o.ok, o.temporary) for o in outcomes] == [(False, True), (False, True)]


@pytest.mark.parametrize(
    ("error", "temporary"),
    [
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPDataError(421, b"busy"), True),
        (smtplib.SMTPDataError(554, b"rejected"), False),
        (smtplib.SMTPSenderRefused(451, b"later", "news@x"), True),
        (smtplib.SMTPRecipientsRefused({"a@x": (550, b"no")}), False),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (ValueError("bad header"), False),
    ],
)
def test_smtp_error_classification(error, temporary):
    assert error_temporary(error) is temporary


def test_esp_api_errors_are_classified_by_status():
    from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

    assert error_temporary(AnymailAPIError("throttled", status_code=429))
    assert error_temporary(AnymailAPIError("down", status_code=502))
    assert not error_temporary(AnymailAPIError("bad request", status_code=400))
    assert not error_temporary(AnymailRecipientsRefused("refused"))


def test_unknown_channel_is_an_error():
    with pytest.raises(ValueError):
        backend_for("pigeon")
