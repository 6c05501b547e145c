"""The anonymous survey form's rate limit: a fixed-window counter per client address
(accounts.ratelimit), ``PRECIS_SURVEY_ANONYMOUS_POSTS_PER_HOUR`` submissions per address
per hour (0 turns the limit off)."""

from django.conf import settings
from django.http import HttpRequest

from accounts.ratelimit import HOUR, client_address, request_allowed

__all__ = ["anonymous_post_allowed", "client_address"]


def anonymous_post_allowed(request: HttpRequest) -> bool:
    """Count this submission; False when the address has used up this hour's allowance."""
    limit = getattr(settings, "PRECIS_SURVEY_ANONYMOUS_POSTS_PER_HOUR", 30)
    return request_allowed(request, scope="surveys:anonymous-posts", limit=limit, window_seconds=HOUR)
