"""A customer's personal survey link (``surveys:respond`` and its thank-you page) served past
the rest of the middleware stack.

Those pages take most of the public traffic (docs/surveys.md, "Load"), and nothing the later
middleware does applies to them: they read no session and no login, are exempt from CSRF (the
signed token in the URL is the credential), use no messages, and choose their own language
(``?lang=``, else the customer's, else the browser's). Each of those layers still cost its
share of every request, about a fifth of the page's CPU in all. The middleware sits after
SecurityMiddleware, WhiteNoise and XFrameOptionsMiddleware, whose headers the pages keep; every
other request — the anonymous link included, which keeps Django's CSRF check — goes down the
whole stack. The same short-circuit health-check endpoints use: Django has no per-URL
middleware.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import patch_vary_headers

PERSONAL_VIEWS = frozenset({"surveys:respond", "surveys:respond-thanks"})


class PersonalLinkMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = reverse("surveys:respond", kwargs={"token": "-"}).removesuffix("-/")  # /surveys/r/

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(self.prefix):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:  # e.g. a link without its last slash: CommonMiddleware redirects it
            return self.get_response(request)
        if match.view_name not in PERSONAL_VIEWS:
            return self.get_response(request)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        patch_vary_headers(response, ("Accept-Language",))  # the browser's language is the last resort
        return response
