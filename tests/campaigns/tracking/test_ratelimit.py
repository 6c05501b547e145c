"""accounts.ratelimit: the fixed-window counter the public pages share."""

from django.core.cache import cache

from accounts.ratelimit import rate_allowed


def test_counts_per_scope_and_address_within_a_window(monkeypatch):
    monkeypatch.setattr("accounts.ratelimit.time.time", lambda: 7200.0 + 10)
    assert [rate_allowed(scope="s", address="1.1.1.1", limit=2) for _ in range(3)] == [True, True, False]
    assert rate_allowed(scope="s", address="2.2.2.2", limit=2)
    assert rate_allowed(scope="other", address="1.1.1.1", limit=2)
    monkeypatch.setattr("accounts.ratelimit.time.time", lambda: 7200.0 + 3600)
    assert rate_allowed(scope="s", address="1.1.1.1", limit=2)  # the next window starts afresh
    cache.clear()


def test_zero_means_no_limit():
    assert all(rate_allowed(scope="free", address="1.1.1.1", limit=0) for _ in range(5))
