"""A fixed-window counter per client address in Django's cache, for the anonymous form.

``PRECIS_SURVEY_ANONYMOUS_POSTS_PER_HOUR`` submissions per address per hour (0 turns the
limit off). The count lives in the default cache: with several web processes, configure a
shared cache (Redis or the database cache) so they count together.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 3600


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR: the proxy in front of Precis must set it to the client's address (a
    client-supplied X-Forwarded-For would let anyone reset their own count)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def anonymous_post_allowed(request: HttpRequest) -> bool:
    """Count this submission; False when the address has used up this hour's allowance."""
    limit = getattr(settings, "PRECIS_SURVEY_ANONYMOUS_POSTS_PER_HOUR", 30)
    if not limit:
        return True
    window = int(time.time()) // WINDOW_SECONDS
    key = f"surveys:anonymous-posts:{client_address(request)}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count <= limit
