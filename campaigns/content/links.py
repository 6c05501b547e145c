"""Absolute public links in rendered messages, and the rewriting of a message's links to
signed click-tracking links.

Links are absolute under ``PRECIS_PUBLIC_BASE_URL`` (e.g. https://shop.example.com, the
same setting survey links use); without it they are site-relative, which is enough for
the demo but not for real mail.
"""

import re
from functools import lru_cache
from html import unescape

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from campaigns.tracking.tokens import click_token, open_token, unsubscribe_token

HREF = re.compile(r"""(?P<prefix>\bhref\s*=\s*)(?P<quote>["'])(?P<url>https?://[^"']+)(?P=quote)""", re.IGNORECASE)
BARE_URL = re.compile(r"""https?://[^\s<>"'\])}]+""", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?"


def public_url(path: str) -> str:
    return getattr(settings, "PRECIS_PUBLIC_BASE_URL", "").rstrip("/") + path


TOKEN_SLOT = "TOKEN0SLOT"


@lru_cache(maxsize=8)
def _route(name: str) -> tuple[str, str]:
    """The path of a tracking route around its token, resolved once: a send renders
    several links per message, and ``reverse`` is slow next to string joins."""
    before, after = reverse(name, kwargs={"token": TOKEN_SLOT}).split(TOKEN_SLOT)
    return before, after


def _tracking_url(name: str, token: str) -> str:
    before, after = _route(name)
    return public_url(f"{before}{token}{after}")


def open_pixel_url(message_id: int) -> str:
    return _tracking_url("tracking:open", open_token(message_id))


def click_url(message_id: int, target: str) -> str:
    return _tracking_url("tracking:click", click_token(message_id, target))


def unsubscribe_url(message_id: int) -> str:
    return _tracking_url("tracking:unsubscribe", unsubscribe_token(message_id))


def _tracked(url: str, keep: frozenset[str]) -> bool:
    return url not in keep and not url.startswith(public_url("/t/"))


def html_links_track(html: str, message_id: int, *, keep: frozenset[str] = frozenset()) -> str:
    """Every ``href="http(s)://…"`` becomes the message's click link for that target
    (HTML entities in the attribute are decoded first, so ``&amp;`` stays one ``&``).
    Links to the tracking pages themselves (the unsubscribe link) and ``keep`` stay."""

    def replace(match: re.Match) -> str:
        target = unescape(match["url"])
        if not _tracked(target, keep):
            return match[0]
        return f"{match['prefix']}{match['quote']}{escape(click_url(message_id, target))}{match['quote']}"

    return HREF.sub(replace, html)


def text_links_track(text: str, message_id: int, *, keep: frozenset[str] = frozenset()) -> str:
    """Bare http(s) URLs in plain text become click links (a sentence's final full stop
    is not part of the URL)."""

    def replace(match: re.Match) -> str:
        url = match[0]
        trailing = ""
        while url and url[-1] in TRAILING_PUNCTUATION:
            url, trailing = url[:-1], url[-1] + trailing
        if not _tracked(url, keep):
            return match[0]
        return click_url(message_id, url) + trailing

    return BARE_URL.sub(replace, text)


def open_pixel_append(html: str, message_id: int) -> str:
    pixel = (
        f'<img src="{escape(open_pixel_url(message_id))}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px">'
    )
    closing = html.lower().rfind("</body>")
    if closing == -1:
        return html + pixel
    return html[:closing] + pixel + html[closing:]
