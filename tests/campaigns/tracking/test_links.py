"""The public links: pixel, click redirect, unsubscribe page and RFC 8058 one-click POST;
tampered or foreign tokens are 404 and change nothing; rate limits per address."""

import pytest
from django.core import signing
from django.test import Client

from campaigns.models import Message, TrackingEvent
from campaigns.tracking.tokens import click_token, open_token, unsubscribe_token
from campaigns.tracking.views import PIXEL_GIF
from customers.models import Customer
from tests.campaigns.content.rows import campaign_make, messages_make
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
TARGET = "https://shop.example.com/sale?a=1&b=2"


@pytest.fixture
def message():
    customer = CustomerFactory(email="ana@example.com", email_opt_in=True, sms_opt_in=True)
    [message] = messages_make(campaign_make(), [customer])
    return message


def tamper(token: str) -> str:
    position = len(token) // 2
    return token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]


def unchanged(message: Message) -> bool:
    fresh = Message.objects.get(pk=message.pk)
    customer = Customer.objects.get(pk=message.customer_id)
    return (
        not TrackingEvent.objects.exists()
        and fresh.opened_at is fresh.clicked_at is fresh.unsubscribed_at is None
        and customer.email_opt_in
    )


def test_pixel_records_every_open_and_the_first_time(client, message):
    first = client.get(f"/t/o/{open_token(message.pk)}.gif")
    assert first.status_code == 200 and first["Content-Type"] == "image/gif" and first.content == PIXEL_GIF
    assert "no-cache" in first["Cache-Control"] and "no-store" in first["Cache-Control"]
    opened_at = Message.objects.get(pk=message.pk).opened_at
    assert opened_at is not None
    client.get(f"/t/o/{open_token(message.pk)}.gif")
    assert Message.objects.get(pk=message.pk).opened_at == opened_at
    assert TrackingEvent.objects.filter(message=message, kind="open").count() == 2


def test_click_redirects_to_the_signed_link_only(client, message):
    response = client.get(f"/t/c/{click_token(message.pk, TARGET)}/", HTTP_USER_AGENT="Mail/1.0")
    assert response.status_code == 302 and response["Location"] == TARGET
    fresh = Message.objects.get(pk=message.pk)
    assert fresh.clicked_at is not None and fresh.opened_at == fresh.clicked_at
    event = TrackingEvent.objects.get(kind="click")
    assert event.url == TARGET and event.details["user_agent"] == "Mail/1.0"
    with pytest.raises(ValueError):
        click_token(message.pk, "javascript:alert(1)")


def test_unsubscribe_page_asks_before_changing_anything(client, message):
    token = unsubscribe_token(message.pk)
    page = client.get(f"/t/u/{token}/")
    assert page.status_code == 200
    assert b'data-testid="unsubscribe-confirm"' in page.content and b"a***@example.com" in page.content
    assert b"Lotus Shop" in page.content and b'<html lang="en">' in page.content
    assert unchanged(message)
    chinese = client.get(f"/t/u/{token}/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert b'<html lang="zh-hans">' in chinese.content
    assert b'<html lang="zh-hans">' in client.get(f"/t/u/{token}/?lang=zh-hans").content


def test_unsubscribe_form_turns_consent_off(message):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/t/u/{unsubscribe_token(message.pk)}/", {"lang": "en"})
    assert response.status_code == 200 and b'data-testid="unsubscribed"' in response.content
    customer = Customer.objects.get(pk=message.customer_id)
    assert not customer.email_opt_in and customer.email_opt_in_at is not None
    assert customer.sms_opt_in  # only the message's channel
    assert Message.objects.get(pk=message.pk).unsubscribed_at is not None
    assert TrackingEvent.objects.get(kind="unsubscribe").details["one_click"] is False
    again = client.get(f"/t/u/{unsubscribe_token(message.pk)}/")
    assert b'data-testid="already-unsubscribed"' in again.content


def test_rfc8058_one_click_post(message):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"/t/u/{unsubscribe_token(message.pk)}/",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert not Customer.objects.get(pk=message.customer_id).email_opt_in
    first_time = Message.objects.get(pk=message.pk).unsubscribed_at
    assert TrackingEvent.objects.get(kind="unsubscribe").details["one_click"] is True
    client.post(f"/t/u/{unsubscribe_token(message.pk)}/", data="List-Unsubscribe=One-Click",
                content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert Message.objects.get(pk=message.pk).unsubscribed_at == first_time


def test_sms_unsubscribe_turns_sms_consent_off(client):
    customer = CustomerFactory(email_opt_in=True, sms_opt_in=True)
    [message] = messages_make(campaign_make(channel="sms"), [customer])
    client.post(f"/t/u/{unsubscribe_token(message.pk)}/")
    customer.refresh_from_db()
    assert customer.email_opt_in and not customer.sms_opt_in


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_and_foreign_tokens_are_404_and_change_nothing(client, message, method):
    other_key = signing.Signer(key="another-secret", salt="precis.tracking.unsubscribe").sign_object(message.pk)
    for url in (
        f"/t/o/{tamper(open_token(message.pk))}.gif",
        f"/t/o/{unsubscribe_token(message.pk)}.gif",
        f"/t/c/{tamper(click_token(message.pk, TARGET))}/",
        f"/t/c/{open_token(message.pk)}/",
        f"/t/u/{tamper(unsubscribe_token(message.pk))}/",
        f"/t/u/{open_token(message.pk)}/",
        f"/t/u/{other_key}/",
        f"/t/u/{unsubscribe_token(message.pk + 1000)}/",
        "/t/u/not-a-token/",
    ):
        if method == "get" or url.startswith("/t/u/"):
            response = getattr(client, method)(
                url, data={"List-Unsubscribe": "One-Click"} if method == "post" else None
            )
            assert response.status_code == 404, url
    assert unchanged(message)


def test_changed_click_target_is_refused(client, message):
    token = click_token(message.pk, TARGET)
    value = signing.Signer(salt="precis.tracking.click").unsign_object(token)
    forged = signing.dumps([value[0], "https://evil.example.com/"], compress=True)
    assert client.get(f"/t/c/{forged}/").status_code == 404
    assert unchanged(message)


def test_rate_limit_per_address(client, message, settings):
    settings.PRECIS_TRACKING_REQUESTS_PER_HOUR = 2
    pixel = f"/t/o/{open_token(message.pk)}.gif"
    assert [client.get(pixel).status_code for _ in range(3)] == [200, 200, 200]
    assert TrackingEvent.objects.filter(kind="open").count() == 2  # the third was served, not recorded
    click = f"/t/c/{click_token(message.pk, TARGET)}/"
    assert [client.get(click).status_code for _ in range(3)] == [302, 302, 302]
    assert TrackingEvent.objects.filter(kind="click").count() == 2
    unsubscribe = f"/t/u/{unsubscribe_token(message.pk)}/"
    assert [client.post(unsubscribe).status_code for _ in range(3)] == [200, 200, 429]
    other = client.post(unsubscribe, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200
