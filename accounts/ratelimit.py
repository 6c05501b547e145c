"""A fixed-window request counter per client address, in Django's cache.

Public pages (anonymous survey answers, tracking pixels, click redirects, unsubscribe
links) count requests per address and per *scope* (what is being limited) in windows of
``window_seconds``; ``limit`` requests are allowed per window, 0 turns the limit off. The
count lives in the default cache: with several web processes, configure a shared cache
(``CACHE_URL``: Redis, or the database cache) so that they count together.

A fixed window lets a client make up to twice the limit across a window boundary; that
is accepted: the limit is there to stop floods, not to meter.
"""

import time

from django.core.cache import cache
from django.http import HttpRequest

HOUR = 3600


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR: the proxy in front of Precis must set it to the client's address (a
    client-supplied X-Forwarded-For would let anyone reset their own count)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_allowed(*, scope: str, address: str, limit: int, window_seconds: int = HOUR) -> bool:
    """Count one request of ``address`` in ``scope``; False once the window's allowance
    is used up (the refused request is counted too, so a flood stays refused)."""
    if not limit:
        return True
    window = int(time.time()) // window_seconds
    key = f"{scope}:{address}:{window}"
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count <= limit


def request_allowed(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = HOUR) -> bool:
    """``rate_allowed`` for the request's client address."""
    return rate_allowed(scope=scope, address=client_address(request), limit=limit, window_seconds=window_seconds)
