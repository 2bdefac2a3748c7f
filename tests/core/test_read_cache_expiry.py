"""Cached reads stored together do not expire together (core.api.public_cache.spread_ttl)."""

from __future__ import annotations

from core.api.public_cache import spread_ttl


def test_entries_stored_in_one_burst_expire_over_the_last_quarter_of_their_ttl() -> None:
    # 200 users' lists cached in the same second (a warm-up, a deploy): their misses must not all
    # come back in the same second 30 s later.
    expiries = [spread_ttl(30) for _ in range(200)]
    assert all(23 <= e <= 30 for e in expiries)
    assert len(set(expiries)) >= 5  # spread over the window, not one instant
    assert max(expiries) - min(expiries) >= 5
    assert spread_ttl(1) == 1 and all(spread_ttl(600) >= 450 for _ in range(100))
