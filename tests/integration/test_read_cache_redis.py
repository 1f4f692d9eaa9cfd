"""The read cache every worker shares, on the real Redis: entries round trip, expire, and an
unreachable Redis is a miss (a plain read), never an error."""

from __future__ import annotations

import redis

from ci_remediator.github import GitHubGateway
from ci_remediator.github.gateway import ENVIRONMENTS_KEEP_S
from ci_remediator.github.read_cache import CachedRead, RedisReadCache
from ci_remediator.sandbox.github import GitHubSandbox


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


def test_a_read_may_ask_to_be_kept_longer_than_the_caches_ttl(redis_client: redis.Redis) -> None:
    cache = RedisReadCache(redis_client, prefix="test-read-cache", ttl_s=30)

    cache.put("short", CachedRead("e", {}))
    cache.put("long", CachedRead("e", {}), keep_s=3600)

    assert 0 < redis_client.ttl("test-read-cache:short") <= 30
    assert 30 < redis_client.ttl("test-read-cache:long") <= 3600


def test_a_repositorys_environments_are_kept_a_day_its_runs_the_default(
    redis_client: redis.Redis,
) -> None:
    cache = RedisReadCache(redis_client, prefix="test-keep", ttl_s=600)
    with GitHubSandbox() as sandbox:
        sandbox.add_repository("acme/keep")
        run_id = sandbox.add_failed_run("acme/keep", workflow_name="CI", job_name="t", log_text="x")
        with GitHubGateway(
            base_url=sandbox.url, token="ghp_test", read_cache=cache, cache_scope="s"
        ) as gateway:
            gateway.get_run("acme/keep", run_id)
            gateway.run_deployment_environments("acme/keep", run_id)

    ttls = {key.decode(): redis_client.ttl(key) for key in redis_client.keys("test-keep:*")}
    (environments,) = [ttl for key, ttl in ttls.items() if "/environments?" in key]
    (run,) = [ttl for key, ttl in ttls.items() if key.endswith(f"/actions/runs/{run_id}")]
    assert 600 < environments <= ENVIRONMENTS_KEEP_S
    assert 0 < run <= 600
