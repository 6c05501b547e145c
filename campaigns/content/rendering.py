"""Campaign templates: Django's template language in a sandbox, compiled once per batch
and rendered per recipient into an ``OutgoingMessage``.

The sandbox is a private ``django.template.Engine``: no template loaders, no context
processors, no tag libraries beyond the built-in ones, and the tags that reach outside
the message refused (``FORBIDDEN_TAGS``: include, extends, load, debug, ssi, url). They
are refused three times over: by a scan of the source (the error names the line), by
this module's tag library, which replaces them with tags that fail to compile, and by a
walk over the compiled node tree. The context holds plain data only (see
``campaigns.content.context``), so a template sees one customer and nothing of the
settings; padding filters are capped so a template cannot build huge strings. HTML is
autoescaped, text, subjects and SMS are not.

Rendering adds what every message needs: the unsubscribe link (appended when the
template does not show it) and the List-Unsubscribe / List-Unsubscribe-Post headers of
RFC 8058 for email, signed click links in place of the template's http(s) links, and an
open pixel at the end of the HTML.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from typing import Any

from django import template
from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import Lexer, Node, TokenType
from django.template.defaultfilters import stringfilter
from django.utils import translation
from django.utils.html import escape, strip_tags
from django.utils.translation import gettext as _

from campaigns.channels.base import OutgoingMessage
from campaigns.content.context import MessageContext, preview_context
from campaigns.content.links import html_links_track, open_pixel_append, text_links_track
from campaigns.models import Variant

FORBIDDEN_TAGS = frozenset({"include", "extends", "load", "debug", "ssi", "url"})
MAX_PADDING = 200
MAX_OUTPUT_CHARS = 500_000
SMS_MAX_CHARS = 1_000
ONE_CLICK = "List-Unsubscribe=One-Click"

# The sandbox's own tag library, added after Django's built-ins so that its definitions win.
register = template.Library()


def _refused(parser, token):
    raise TemplateSyntaxError(_forbidden_message(token.contents.split()[0], token.lineno))


for _tag in FORBIDDEN_TAGS:
    register.tag(_tag, _refused)


def _padding(width: Any) -> int:
    try:
        return max(0, min(int(width), MAX_PADDING))
    except (TypeError, ValueError):
        return 0


@register.filter(is_safe=True)
@stringfilter
def ljust(value: str, arg: Any) -> str:
    return value.ljust(_padding(arg))


@register.filter(is_safe=True)
@stringfilter
def rjust(value: str, arg: Any) -> str:
    return value.rjust(_padding(arg))


@register.filter(is_safe=True)
@stringfilter
def center(value: str, arg: Any) -> str:
    return value.center(_padding(arg))


class TemplateInvalid(ValueError):
    """A variant whose templates do not pass ``template_errors``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class RenderError(RuntimeError):
    """One recipient's message could not be rendered (permanent for that message)."""


@lru_cache(maxsize=4)
def sandbox_engine(*, autoescape: bool, debug: bool = False) -> Engine:
    return Engine(
        dirs=[],
        app_dirs=False,
        context_processors=[],
        debug=debug,
        loaders=[],
        string_if_invalid="",
        libraries={},
        builtins=["campaigns.content.rendering"],
        autoescape=autoescape,
    )


def _forbidden_message(tag: str, line: int) -> str:
    return _("Line %(line)d: the {%% %(tag)s %%} tag is not allowed in campaign templates.") % {
        "line": line,
        "tag": tag,
    }


def _forbidden_in_source(text: str) -> list[str]:
    errors = []
    for token in Lexer(text).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = (token.contents.split() or [""])[0]
            if name in FORBIDDEN_TAGS:
                errors.append(_forbidden_message(name, token.lineno))
    return errors


def _forbidden_in_tree(compiled: Template) -> list[str]:
    errors = []
    for node in compiled.nodelist.get_nodes_by_type(Node):
        token = getattr(node, "token", None)
        name = (token.contents.split() or [""])[0] if token is not None and token.token_type == TokenType.BLOCK else ""
        if name in FORBIDDEN_TAGS:
            errors.append(_forbidden_message(name, token.lineno))
    return errors


def template_errors(text: str, *, html: bool = False) -> list[str]:
    """Why ``text`` cannot be a campaign template (empty list: it can): forbidden tags
    and syntax errors, each with its line number. For form and API validation."""
    if not text:
        return []
    errors = _forbidden_in_source(text)
    if errors:
        return errors
    try:
        compiled = sandbox_engine(autoescape=html, debug=True).from_string(text)
    except TemplateSyntaxError as error:
        line = (getattr(error, "template_debug", None) or {}).get("line")
        message = str(error)
        return [_("Line %(line)d: %(error)s") % {"line": line, "error": message} if line else message]
    return _forbidden_in_tree(compiled)


def _compile(text: str, *, html: bool, part: str) -> Template | None:
    if not text.strip():
        return None
    errors = template_errors(text, html=html)
    if errors:
        raise TemplateInvalid([f"{part}: {error}" for error in errors])
    compiled = sandbox_engine(autoescape=html).from_string(text)
    leftover = _forbidden_in_tree(compiled)
    if leftover:
        raise TemplateInvalid(leftover)
    return compiled


@dataclass
class CompiledVariant:
    variant_id: int | None
    variant_key: str
    campaign_id: int
    channel: str
    subject: Template | None
    text: Template | None
    html: Template | None


def variant_compile(variant: Variant, *, channel: str) -> CompiledVariant:
    """Parse the variant's subject, text and HTML once for a batch; raises
    ``TemplateInvalid`` when one of them is not a valid sandboxed template."""
    return CompiledVariant(
        variant_id=variant.pk,
        variant_key=variant.key,
        campaign_id=variant.campaign_id,
        channel=channel,
        subject=_compile(variant.subject, html=False, part=_("Subject")) if channel == "email" else None,
        text=_compile(variant.body_text, html=False, part=_("Text")),
        # SMS and webhook messages are text; an HTML-only variant is sent as its text.
        html=_compile(variant.body_html, html=True, part=_("HTML"))
        if channel == "email" or not variant.body_text.strip()
        else None,
    )


def _render(compiled: Template | None, values: dict[str, Any], *, html: bool) -> str:
    if compiled is None:
        return ""
    try:
        output = compiled.render(Context(values, autoescape=html))
    except Exception as error:  # a filter failing on odd data fails this message only
        raise RenderError(f"{type(error).__name__}: {error}") from error
    if len(output) > MAX_OUTPUT_CHARS:
        raise RenderError(f"the rendered message is longer than {MAX_OUTPUT_CHARS} characters")
    return output


def html_to_text(html: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>|</tr>", "\n", html)
    text = unescape(strip_tags(text))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


def _unsubscribe_footer_html(html: str, url: str) -> str:
    footer = (
        '<p style="font-size:12px;color:#666;margin-top:24px">'
        f'<a href="{escape(url)}">{escape(_("Unsubscribe"))}</a></p>'
    )
    closing = html.lower().rfind("</body>")
    return html + footer if closing == -1 else html[:closing] + footer + html[closing:]


def unsubscribe_headers(url: str, *, message_id: int | None) -> dict[str, str]:
    """List-Unsubscribe with the https link (and a mailto when configured) and the RFC
    8058 one-click List-Unsubscribe-Post. Only absolute links can go in the headers, so
    they need ``PRECIS_PUBLIC_BASE_URL``; one-click needs it to be https."""
    targets = []
    if url.startswith(("https://", "http://")):
        targets.append(f"<{url}>")
    mailto = getattr(settings, "PRECIS_UNSUBSCRIBE_MAILTO", "")
    if mailto and message_id is not None:
        targets.append(f"<mailto:{mailto}?subject=unsubscribe-{message_id}>")
    if not targets:
        return {}
    headers = {"List-Unsubscribe": ", ".join(targets)}
    if url.startswith("https://"):
        headers["List-Unsubscribe-Post"] = ONE_CLICK
    return headers


def outgoing_render(compiled: CompiledVariant, context: MessageContext) -> OutgoingMessage:
    """The message for one recipient. Raises ``RenderError`` if this recipient's data
    breaks the template (the other messages of the batch are unaffected)."""
    values = context.values
    message_id = context.message_id
    url = values["unsubscribe_url"]
    language = context.language if context.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    if context.language.lower().startswith("zh"):
        language = "zh-hans"
    with translation.override(language):
        if compiled.channel == "email":
            return _email(compiled, context, values, url, message_id)
        if compiled.text is not None:
            text = _render(compiled.text, values, html=False).strip()
        else:
            text = html_to_text(_render(compiled.html, values, html=True))
        if message_id is not None:
            text = text_links_track(text, message_id, keep=frozenset({url}))
        if compiled.channel == "sms":
            if url not in text:
                text = f"{text}\n{_('Unsubscribe: %(url)s') % {'url': url}}"
            if len(text) > SMS_MAX_CHARS:
                raise RenderError(f"the SMS is longer than {SMS_MAX_CHARS} characters")
            return OutgoingMessage(message_id=message_id or 0, channel="sms", to=context.to, text=text)
        payload = {
            "message_id": message_id,
            "campaign": {"id": context.campaign_id, "name": context.campaign_name},
            "variant": context.variant_key,
            "customer": {
                "id": values["customer"]["id"],
                "name": values["customer"]["name"],
                "email": values["customer"]["email"],
                "phone": values["customer"]["phone"],
            },
            "text": text,
            "coupon": _json_ready(values["coupon"]),
            "unsubscribe_url": url,
        }
        return OutgoingMessage(
            message_id=message_id or 0, channel=compiled.channel, to=context.to, text=text, payload=payload
        )


def _email(compiled, context: MessageContext, values: dict, url: str, message_id: int | None) -> OutgoingMessage:
    subject = " ".join(_render(compiled.subject, values, html=False).split())
    html = _render(compiled.html, values, html=True)
    text = _render(compiled.text, values, html=False).strip() if compiled.text else html_to_text(html)
    if url not in text:
        text = f"{text}\n\n-- \n{_('Unsubscribe: %(url)s') % {'url': url}}"
    if html and url not in html and escape(url) not in html:
        html = _unsubscribe_footer_html(html, url)
    if message_id is not None:
        keep = frozenset({url})
        text = text_links_track(text, message_id, keep=keep)
        if html:
            html = open_pixel_append(html_links_track(html, message_id, keep=keep), message_id)
    return OutgoingMessage(
        message_id=message_id or 0,
        channel="email",
        to=context.to,
        subject=subject,
        text=text,
        html=html,
        headers=unsubscribe_headers(url, message_id=message_id),
    )


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and not isinstance(value, bool | int | float | str):
        return str(value)
    return value


@dataclass
class RenderedPreview:
    channel: str
    to: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def preview_render(*, variant: Variant, customer_id: int) -> RenderedPreview:
    """The variant as ``customer_id`` would receive it, for the campaign editor: links are
    not rewritten to tracking links, the unsubscribe link is a placeholder and a unique-
    code offer shows a sample code. Template or rendering problems come back in
    ``errors`` instead of raising."""
    campaign = variant.campaign
    channel = campaign.channel
    try:
        compiled = variant_compile(variant, channel=channel)
    except TemplateInvalid as invalid:
        return RenderedPreview(channel=channel, errors=invalid.errors)
    context = preview_context(
        campaign=campaign, customer_id=customer_id, variant_id=variant.pk, variant_key=variant.key
    )
    if context is None:
        return RenderedPreview(channel=channel, errors=[_("No such customer.")])
    try:
        message = outgoing_render(compiled, context)
    except RenderError as error:
        return RenderedPreview(channel=channel, errors=[str(error)])
    return RenderedPreview(
        channel=channel,
        to=message.to,
        subject=message.subject,
        text=message.text,
        html=message.html,
        headers=message.headers,
        payload=message.payload,
    )
