"""Bounce and complaint reports: the signed generic webhook and anymail's tracking
signal (sent directly, and through a real Postmark webhook request)."""

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.test import Client

from campaigns.channels.email import message_id_header
from campaigns.models import Message, TrackingEvent
from customers.models import Customer
from tests.campaigns.content.rows import campaign_make, messages_make
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = "/api/campaigns/webhooks/delivery/"
SECRET = "whsec-test"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.PRECIS_WEBHOOK_SECRET = SECRET


@pytest.fixture
def message():
    [message] = messages_make(campaign_make(), [CustomerFactory(email_opt_in=True)])
    Message.objects.filter(pk=message.pk).update(provider_id="esp-123", status=Message.Status.SENT)
    return message


def post(body: dict, *, secret: str | None = SECRET, signature: str | None = None):
    raw = json.dumps(body).encode()
    headers = {}
    if signature is not None:
        headers["HTTP_X_PRECIS_SIGNATURE"] = signature
    elif secret is not None:
        headers["HTTP_X_PRECIS_SIGNATURE"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return Client(enforce_csrf_checks=True).post(URL, data=raw, content_type="application/json", **headers)


def consent(message) -> bool:
    return Customer.objects.get(pk=message.customer_id).email_opt_in


def test_signed_hard_bounce_turns_consent_off(message):
    response = post({"message_id": message.pk, "event": "bounce", "hard": True})
    assert response.status_code == 200
    assert response.json() == {"message_id": message.pk, "event": "bounce", "first": True}
    assert Message.objects.get(pk=message.pk).bounced_at is not None
    assert not consent(message)
    event = TrackingEvent.objects.get(kind="bounce")
    assert event.details == {"hard": True, "source": "webhook"}
    assert post({"message_id": message.pk, "event": "bounce"}).json()["first"] is False


def test_soft_bounce_keeps_consent(message):
    assert post({"provider_id": "esp-123", "event": "bounce", "hard": False}).status_code == 200
    assert Message.objects.get(pk=message.pk).bounced_at is not None
    assert consent(message)


def test_complaint_by_provider_id(message):
    at = dt.datetime(2025, 5, 1, 8, tzinfo=dt.UTC)
    assert post({"provider_id": "esp-123", "event": "complaint", "at": at.isoformat()}).status_code == 200
    assert Message.objects.get(pk=message.pk).complained_at == at
    assert not consent(message)


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=" + "0" * 64, "sha256=" + hmac.new(b"other", b"{}", hashlib.sha256).hexdigest()],
)
def test_bad_signature_is_403_and_changes_nothing(message, signature):
    response = post({"message_id": message.pk, "event": "complaint"}, signature=signature)
    assert response.status_code == 403
    assert consent(message) and not TrackingEvent.objects.exists()
    assert Message.objects.get(pk=message.pk).complained_at is None


def test_signed_with_another_secret_or_none_configured(message, settings):
    assert post({"message_id": message.pk, "event": "complaint"}, secret="guess").status_code == 403
    settings.PRECIS_WEBHOOK_SECRET = ""
    assert post({"message_id": message.pk, "event": "complaint"}, secret="").status_code == 403
    assert consent(message) and not TrackingEvent.objects.exists()


def test_invalid_body_and_unknown_message(message):
    assert post({"event": "bounce"}).status_code == 400
    assert post({"message_id": message.pk, "event": "delivered"}).status_code == 400
    assert post({"message_id": message.pk + 99, "event": "bounce"}).status_code == 404
    assert not TrackingEvent.objects.exists()


def anymail_event(**fields) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(timestamp=dt.datetime(2025, 5, 2, tzinfo=dt.UTC), **fields)


def test_anymail_bounce_found_by_provider_id(message):
    tracking.send(sender=object, event=anymail_event(event_type="bounced", message_id="esp-123",
                                                     reject_reason="bounced"), esp_name="Mailgun")  # fmt: skip
    fresh = Message.objects.get(pk=message.pk)
    assert fresh.bounced_at == dt.datetime(2025, 5, 2, tzinfo=dt.UTC) and not consent(message)
    assert TrackingEvent.objects.get(kind="bounce").details["source"] == "anymail:Mailgun"


def test_anymail_soft_bounce_by_mta_answer(message):
    tracking.send(sender=object, event=anymail_event(event_type="bounced", message_id="esp-123",
                                                     reject_reason="bounced", mta_response="452 mailbox full"),
                  esp_name="Postmark")  # fmt: skip
    assert TrackingEvent.objects.get(kind="bounce").details["hard"] is False and consent(message)


def test_anymail_complaint_found_by_metadata_and_unsubscribe_by_message_id_header(message):
    tracking.send(sender=object, event=anymail_event(event_type="complained", message_id="unknown",
                                                     metadata={"precis_message_id": str(message.pk)}),
                  esp_name="SendGrid")  # fmt: skip
    assert Message.objects.get(pk=message.pk).complained_at is not None
    tracking.send(sender=object, event=anymail_event(event_type="unsubscribed",
                                                     message_id=message_id_header(message.pk)),
                  esp_name="Amazon SES")  # fmt: skip
    assert Message.objects.get(pk=message.pk).unsubscribed_at is not None
    assert not consent(message)


def test_anymail_opens_deferrals_and_strangers_are_ignored(message):
    for event in (
        anymail_event(event_type="opened", message_id="esp-123"),
        anymail_event(event_type="deferred", message_id="esp-123"),
        anymail_event(event_type="rejected", message_id="esp-123", reject_reason="blocked"),
        anymail_event(event_type="bounced", message_id="somebody-else"),
        anymail_event(event_type="bounced", message_id=message_id_header(message.pk).replace(".", "x", 1)),
    ):
        tracking.send(sender=object, event=event, esp_name="Test")
    assert not TrackingEvent.objects.exists() and consent(message)


def test_postmark_webhook_through_anymail(message, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:pass"}
    body = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "ID": 42,
        "MessageID": "esp-123",
        "Email": "someone@example.com",
        "BouncedAt": "2025-05-03T10:00:00Z",
        "Details": "smtp;550 5.1.1 unknown user",
        "Metadata": {},
    }
    auth = "Basic " + base64.b64encode(b"hook:pass").decode()
    url = "/api/campaigns/webhooks/anymail/postmark/tracking/"
    response = Client().post(url, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert response.status_code == 200
    assert Message.objects.get(pk=message.pk).bounced_at == dt.datetime(2025, 5, 3, 10, tzinfo=dt.UTC)
    assert not consent(message)
    wrong = "Basic " + base64.b64encode(b"hook:nope").decode()
    assert Client().post(url, data=json.dumps(body), content_type="application/json",
                         HTTP_AUTHORIZATION=wrong).status_code == 400  # fmt: skip
