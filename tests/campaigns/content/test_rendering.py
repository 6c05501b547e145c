"""Rendering per recipient: tracked links, open pixel, unsubscribe link and RFC 8058
headers for email; SMS text with an unsubscribe note; webhook JSON; previews."""

import re
from email import message_from_bytes

import pytest
from django.core import mail

from campaigns.channels import backend_for
from campaigns.content.context import message_contexts
from campaigns.content.rendering import outgoing_render, preview_render, variant_compile
from campaigns.models import CouponPool
from campaigns.tracking.tokens import click_token_read, open_token_read, unsubscribe_token_read
from tests.campaigns.content.rows import campaign_make, messages_make, pool_make
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
CLICK = re.compile(r"https://shop\.example\.com/t/c/([^/\"]+)/")


def render_one(variant, customer, code=""):
    [message] = messages_make(variant, [customer], coupon_codes=[code])
    context = message_contexts(message_ids=[message.pk])[message.pk]
    return message, outgoing_render(variant_compile(variant, channel=variant.campaign.channel), context)


def test_email_links_pixel_and_unsubscribe():
    customer = CustomerFactory(name="Ana Li")
    message, out = render_one(campaign_make(), customer)
    assert out.message_id == message.pk and out.channel == "email" and out.to == customer.email
    assert out.subject == "Hello Ana"
    [html_click] = CLICK.findall(out.html)
    assert click_token_read(html_click) == (message.pk, "https://shop.example.com/sale?a=1&b=2")
    [text_click] = CLICK.findall(out.text)
    assert click_token_read(text_click) == (message.pk, "https://shop.example.com/sale")
    assert re.search(r"/t/c/[^/]+/\.$", out.text.splitlines()[0])  # the full stop stays outside the link
    [pixel] = re.findall(r'<img src="https://shop\.example\.com/t/o/([^"]+)\.gif"', out.html)
    assert open_token_read(pixel) == message.pk
    assert out.html.index("/t/o/") < out.html.index("</body>")
    # The template has no unsubscribe link: one is added to both parts, and it is not click-tracked.
    unsubscribe = re.search(r"https://shop\.example\.com/t/u/([^/]+)/", out.text)
    assert unsubscribe_token_read(unsubscribe[1]) == message.pk
    assert unsubscribe[0] in out.html


def test_rfc8058_headers_reach_the_wire(settings):
    settings.PRECIS_CAMPAIGN_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PRECIS_UNSUBSCRIBE_MAILTO = "unsubscribe@shop.example.com"
    message, out = render_one(campaign_make(), CustomerFactory())
    assert backend_for("email").send_many([out])[0].ok
    wire = message_from_bytes(mail.outbox[0].message().as_bytes())
    https_link, mailto = [part.strip() for part in wire["List-Unsubscribe"].split(",")]
    assert re.fullmatch(r"<https://shop\.example\.com/t/u/[^/]+/>", https_link)
    assert unsubscribe_token_read(https_link[1:-1].rstrip("/").rsplit("/", 1)[1]) == message.pk
    assert mailto == f"<mailto:unsubscribe@shop.example.com?subject=unsubscribe-{message.pk}>"
    assert wire["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_no_list_unsubscribe_without_an_absolute_base_url(settings):
    settings.PRECIS_PUBLIC_BASE_URL = ""
    _, out = render_one(campaign_make(), CustomerFactory())
    assert "List-Unsubscribe" not in out.headers
    assert "/t/u/" in out.text


def test_template_that_shows_the_unsubscribe_link_gets_no_second_one():
    variant = campaign_make(
        body_text="Bye: {{ unsubscribe_url }}", body_html='<a href="{{ unsubscribe_url }}">Leave</a>'
    )
    message, out = render_one(variant, CustomerFactory())
    assert out.text.count("/t/u/") == 1 and out.html.count("/t/u/") == 1
    assert "/t/c/" not in out.html


def test_html_only_variant_gets_a_text_part():
    variant = campaign_make(body_text="", body_html="<p>Hi {{ customer.first_name }}</p><p>Bye</p>")
    _, out = render_one(variant, CustomerFactory(name="Ana"))
    assert out.text.startswith("Hi Ana\nBye")


def test_coupon_and_products_in_the_template():
    variant = campaign_make(
        pool=pool_make(),
        body_text="Code {{ coupon.code }}: {{ coupon.discount }} off over {{ coupon.min_spend }}",
        body_html="",
    )
    _, out = render_one(variant, CustomerFactory(), code="SP-XY12AB34")
    assert out.text.startswith("Code SP-XY12AB34: 15% off over 100.00")


def test_sms_is_text_with_an_unsubscribe_note():
    customer = CustomerFactory(phone="+8613900000000", attributes={"language": "en"})
    variant = campaign_make(channel="sms", subject="ignored", body_text="Hi {{ customer.first_name }}!")
    message, out = render_one(variant, customer)
    assert out.to == "+8613900000000" and out.html == "" and out.subject == "" and out.headers == {}
    first, note = out.text.split("\n")
    assert first == f"Hi {customer.name.split()[0]}!"
    assert note.startswith("Unsubscribe: https://shop.example.com/t/u/")


def test_webhook_payload():
    customer = CustomerFactory(name="Ana Li")
    variant = campaign_make(channel="webhook", pool=pool_make(), body_text="Hi {{ customer.first_name }}")
    message, out = render_one(variant, customer, code="SP-1")
    payload = out.payload
    assert out.to == customer.external_id
    assert payload["message_id"] == message.pk
    assert payload["campaign"] == {"id": variant.campaign_id, "name": "Spring sale"}
    assert payload["variant"] == "A"
    assert payload["customer"]["id"] == customer.external_id
    assert payload["text"] == "Hi Ana" == out.text
    assert payload["coupon"]["code"] == "SP-1" and payload["coupon"]["min_spend"] == "100.00"
    assert payload["unsubscribe_url"].startswith("https://shop.example.com/t/u/")


def test_preview_has_no_tracking_and_a_sample_code():
    customer = CustomerFactory(name="Ana Li")
    variant = campaign_make(pool=pool_make(), body_text="{{ coupon.code }} https://shop.example.com/x")
    preview = preview_render(variant=variant, customer_id=customer.pk)
    assert preview.errors == []
    assert preview.subject == "Hello Ana"
    assert preview.text.startswith("SP-SAMPLE00 https://shop.example.com/x")
    assert "/t/c/" not in preview.text + preview.html and "/t/o/" not in preview.html
    assert "/t/u/" not in preview.text


def test_preview_of_a_shared_code_and_of_errors():
    customer = CustomerFactory()
    pool = pool_make(kind=CouponPool.Kind.SHARED, shared_code="SPRING15")
    assert preview_render(
        variant=campaign_make(pool=pool, body_text="{{ coupon.code }}"), customer_id=customer.pk
    ).text.startswith("SPRING15")
    broken = campaign_make(body_text="{% load static %}")
    assert "load" in preview_render(variant=broken, customer_id=customer.pk).errors[0]
    assert preview_render(variant=campaign_make(), customer_id=customer.pk + 999).errors


def test_html_only_variant_is_sent_as_text_by_sms():
    variant = campaign_make(channel="sms", body_text="", body_html="<p>Hi {{ customer.first_name }}</p>")
    _, out = render_one(variant, CustomerFactory(name="Ana Li", attributes={"language": "en"}))
    assert out.text.startswith("Hi Ana\nUnsubscribe: ") and out.html == ""
