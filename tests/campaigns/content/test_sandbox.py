"""The template sandbox: only the recipient's plain data, no settings, no other
customer, no tags that reach outside the message, HTML autoescaped."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import TemplateSyntaxError

from campaigns.content.context import message_contexts
from campaigns.content.rendering import (
    TemplateInvalid,
    outgoing_render,
    sandbox_engine,
    template_errors,
    variant_compile,
)
from tests.campaigns.content.rows import campaign_make, messages_make
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("source", "tag", "line"),
    [
        ('Hi\n{% include "base.html" %}', "include", 2),
        ('{% extends "base.html" %}', "extends", 1),
        ("a\nb\n{% load static %}", "load", 3),
        ("{% if 1 %}{% debug %}{% endif %}", "debug", 1),
        ('{% url "admin:index" %}', "url", 1),
        ("{% ssi '/etc/passwd' %}", "ssi", 1),
    ],
)
def test_forbidden_tags_are_refused_with_their_line(source, tag, line):
    assert template_errors(source) == [f"Line {line}: the {{% {tag} %}} tag is not allowed in campaign templates."]


def test_forbidden_tags_do_not_compile_even_without_the_source_scan():
    for source in ("{% debug %}", '{% include "x" %}', "{% load i18n %}"):
        with pytest.raises(TemplateSyntaxError):
            sandbox_engine(autoescape=True).from_string(source)


def test_syntax_errors_name_the_line():
    [error] = template_errors("Hello\n{% if customer.name %}\n{% endfor %}")
    assert error.startswith("Line 3:")
    assert template_errors("{{ customer.__class__ }}")
    assert template_errors("Hi {{ customer.first_name|title }}, {{ coupon.code|default:'-' }}") == []


def test_variant_compile_refuses_a_forbidden_tag():
    variant = campaign_make(body_html="<p>{% debug %}</p>")
    with pytest.raises(TemplateInvalid) as refused:
        variant_compile(variant, channel="email")
    assert "debug" in refused.value.errors[0]


def _render(body_text: str, customer, **more):
    variant = campaign_make(body_text=body_text, body_html="", **more)
    [message] = messages_make(variant, [customer])
    context = message_contexts(message_ids=[message.pk])[message.pk]
    return outgoing_render(variant_compile(variant, channel="email"), context), context


def test_settings_and_internals_are_out_of_reach():
    customer = CustomerFactory(name="Ana Li")
    rendered, _ = _render(
        "[{{ settings.SECRET_KEY }}][{{ request }}][{{ customer.objects }}][{{ features.customer }}]"
        "[{{ customer.delete }}][{{ perms }}][{{ user }}]",
        customer,
    )
    assert rendered.text.startswith("[][][][][][][]")


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, str | int | float | Decimal | dt.date | dt.datetime)


def test_context_holds_plain_data_of_one_customer_only():
    ana = CustomerFactory(name="Ana Li", email="ana@example.com")
    other = CustomerFactory(name="Bo Chen", email="bo@example.com")
    variant = campaign_make(body_text="{{ customer }} {{ features }} {{ recommended_products }} {{ coupon }}")
    messages = messages_make(variant, [ana, other])
    contexts = message_contexts(message_ids=[messages[0].pk])
    assert list(contexts) == [messages[0].pk]
    context = contexts[messages[0].pk]
    assert _plain(context.values)
    text = outgoing_render(variant_compile(variant, channel="email"), context).text
    assert "ana@example.com" in text
    assert "bo@example.com" not in text and "Bo Chen" not in text and other.external_id not in text


def test_html_is_autoescaped_and_text_is_not():
    customer = CustomerFactory(name="<script>alert(1)</script> Ana")
    variant = campaign_make(
        subject="Hi {{ customer.name }}",
        body_text="Hi {{ customer.name }}",
        body_html="<p>Hi {{ customer.name }}</p>",
    )
    [message] = messages_make(variant, [customer])
    context = message_contexts(message_ids=[message.pk])[message.pk]
    rendered = outgoing_render(variant_compile(variant, channel="email"), context)
    assert "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt; Ana</p>" in rendered.html
    assert "<script>" not in rendered.html
    assert rendered.text.startswith("Hi <script>alert(1)</script> Ana")
    assert rendered.subject == "Hi <script>alert(1)</script> Ana"


def test_padding_filters_are_capped():
    customer = CustomerFactory(name="Ana")
    rendered, _ = _render('[{{ customer.name|ljust:"100000000" }}]', customer)
    line = rendered.text.splitlines()[0]
    assert len(line) == 202
