"""The read cache every worker shares, on the real Redis: entries round trip, expire, and an
unreachable Redis is a miss (a plain read), never an error."""

from __future__ import annotations

import redis

from ci_remediator.github.read_cache import CachedRead, RedisReadCache


def test_entries_round_trip_and_expire(redis_client: redis.Redis) -> None:
    cache = RedisReadCache(redis_client, prefix="test-read-cache", ttl_s=30)
    entry = CachedRead('W/"abc"', {"workflow_runs": [{"id": 7}]}, "https://next")

    cache.put("k", entry)

    assert cache.get("k") == entry
    assert 0 < redis_client.ttl("test-read-cache:k") <= 30
    assert cache.get("other") is None


def test_an_unreadable_entry_is_a_miss(redis_client: redis.Redis) -> None:
    redis_client.set("test-read-cache:broken", b"{not json")
    assert RedisReadCache(redis_client, prefix="test-read-cache").get("broken") is None


def test_an_unreachable_redis_is_a_miss_not_an_error() -> None:
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    cache = RedisReadCache(gone, prefix="x")
    cache.put("k", CachedRead("e", {}))
    assert cache.get("k") is None
