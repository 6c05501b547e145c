"""The public tracking links: open pixel, click redirect and unsubscribe (no login).

Every link carries a signed token (campaigns.tracking.tokens): a tampered token, one of
another purpose or a message that no longer exists is a 404 and changes nothing. Each
address may make ``PRECIS_TRACKING_REQUESTS_PER_HOUR`` requests per hour to each kind of
link (accounts.ratelimit). Past the limit the pixel is still served and the click still
redirected (offices and mail providers' image proxies share addresses, and a reader's
click must work) but nothing more is recorded; the unsubscribe page answers 429.

Unsubscribing is a POST: the GET page asks for confirmation, because mail scanners follow
links. The same URL takes the RFC 8058 one-click POST (body
``List-Unsubscribe=One-Click``) that mail clients send from the List-Unsubscribe-Post
header; it needs no cookie, so the view is CSRF-exempt (the signed token is the
authority). Pages answer in the language asked for (``?lang=``), else the customer's,
else the browser's.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.ratelimit import request_allowed
from campaigns.models import Message
from campaigns.tracking.services import tracking_click_record, tracking_open_record, unsubscribe_record
from campaigns.tracking.tokens import click_token_read, open_token_read, unsubscribe_token_read

PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
LANGUAGES = ("en", "zh-hans")
ONE_CLICK_VALUE = "One-Click"


def _allowed(request: HttpRequest, kind: str) -> bool:
    limit = getattr(settings, "PRECIS_TRACKING_REQUESTS_PER_HOUR", 1000)
    return request_allowed(request, scope=f"tracking:{kind}", limit=limit)


def _message(message_id: int) -> Message | None:
    return (
        Message.objects.select_related("campaign", "customer")
        .only("id", "customer_id", "campaign_id", "opened_at", "clicked_at", "unsubscribed_at", "campaign__channel",
              "customer__email", "customer__phone", "customer__attributes")
        .filter(pk=message_id)
        .first()
    )  # fmt: skip


def _details(request: HttpRequest, **extra) -> dict:
    return {"user_agent": request.META.get("HTTP_USER_AGENT", "")[:300], **extra}


def _no_cache(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Pragma"] = "no-cache"
    return response


@require_http_methods(["GET", "HEAD"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    message_id = open_token_read(token)
    if message_id is None:
        raise Http404
    message = _message(message_id)
    if message is None:
        raise Http404
    if request.method == "GET" and _allowed(request, "open"):
        tracking_open_record(message=message, details=_details(request))
    return _no_cache(HttpResponse(PIXEL_GIF, content_type="image/gif"))


@require_http_methods(["GET", "HEAD"])
def click(request: HttpRequest, token: str) -> HttpResponse:
    """Record the click and send the reader on to the link the message carried (only
    that link: it is part of the signed token, so this is no open redirect)."""
    read = click_token_read(token)
    if read is None:
        raise Http404
    message_id, url = read
    message = _message(message_id)
    if message is None:
        raise Http404
    if request.method == "GET" and _allowed(request, "click"):
        tracking_click_record(message=message, url=url, details=_details(request))
    return _no_cache(HttpResponseRedirect(url))


def _language(request: HttpRequest, message: Message) -> str:
    asked = request.GET.get("lang") or request.POST.get("lang") or ""
    if asked in LANGUAGES:
        return asked
    preferred = str((message.customer.attributes or {}).get("language", "")).lower()
    if preferred.startswith("zh"):
        return "zh-hans"
    if preferred.startswith("en"):
        return "en"
    return "zh-hans" if (getattr(request, "LANGUAGE_CODE", "") or "").startswith("zh") else "en"


def _masked(address: str) -> str:
    """j***@example.com / +86*******34: enough to recognise, too little to harvest."""
    if "@" in address:
        local, _at, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) > 4:
        return address[:3] + "*" * (len(address) - 5) + address[-2:]
    return "***"


def _is_one_click(request: HttpRequest) -> bool:
    return request.POST.get("List-Unsubscribe") == ONE_CLICK_VALUE


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    message_id = unsubscribe_token_read(token)
    if message_id is None:
        raise Http404
    message = _message(message_id)
    if message is None:
        raise Http404
    language = _language(request, message)
    channel = message.campaign.channel
    with translation.override(language):
        if request.method == "POST" and not _allowed(request, "unsubscribe"):
            return _page(request, message, language, "campaigns/tracking/rate_limited.html", status=429)
        if request.method == "POST":
            one_click = _is_one_click(request)
            unsubscribe_record(message=message, details=_details(request, one_click=one_click))
            if one_click:
                return _no_cache(HttpResponse(_("You are unsubscribed."), content_type="text/plain; charset=utf-8"))
            return _page(request, message, language, "campaigns/tracking/unsubscribed.html", channel=channel)
        return _page(
            request,
            message,
            language,
            "campaigns/tracking/unsubscribe.html",
            channel=channel,
            already=message.unsubscribed_at is not None,
            action=reverse("tracking:unsubscribe", kwargs={"token": token}),
        )


def _page(request, message: Message, language: str, template: str, *, status: int = 200, **extra) -> HttpResponse:
    channel = message.campaign.channel
    address = message.customer.email if channel == "email" else message.customer.phone if channel == "sms" else ""
    context = {
        "language": language,
        "languages": [("en", "English"), ("zh-hans", "中文")],
        "shop_name": getattr(settings, "PRECIS_SHOP_NAME", "") or "Precis",
        "address": _masked(address) if address else "",
        "channel_label": {"email": _("emails"), "sms": _("text messages")}.get(channel, _("messages")),
        **extra,
    }
    return _no_cache(render(request, template, context, status=status))
