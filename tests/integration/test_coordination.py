"""Locks and counters behave the same on Redis (scaled) and in the database (embedded)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from ci_remediator.coordination import Coordinator, DatabaseCoordinator, RedisCoordinator
from tests.conftest import TEST_REDIS_URL


@pytest.fixture(params=["redis", "database"])
def coordinator(
    request: pytest.FixtureRequest, committed_db: Engine, redis_client: redis.Redis
) -> Iterator[Coordinator]:
    if request.param == "redis":
        yield RedisCoordinator(TEST_REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:6]}")
    else:
        yield DatabaseCoordinator(sessionmaker(bind=committed_db))


def test_a_held_lock_cannot_be_taken_twice(coordinator: Coordinator) -> None:
    token = coordinator.try_lock("poll:acme/web", ttl_s=30)
    assert token is not None
    assert coordinator.try_lock("poll:acme/web", ttl_s=30) is None
    assert coordinator.try_lock("poll:acme/api", ttl_s=30) is not None


def test_released_lock_can_be_taken_again(coordinator: Coordinator) -> None:
    token = coordinator.try_lock("sweep", ttl_s=30)
    assert token is not None
    coordinator.release("sweep", token)
    assert coordinator.try_lock("sweep", ttl_s=30) is not None


def test_release_with_a_stale_token_leaves_the_new_holder_alone(coordinator: Coordinator) -> None:
    first = coordinator.try_lock("sweep", ttl_s=0.2)
    assert first is not None
    time.sleep(0.4)
    second = coordinator.try_lock("sweep", ttl_s=30)
    assert second is not None
    coordinator.release("sweep", first)
    assert coordinator.try_lock("sweep", ttl_s=30) is None


def test_counter_counts_within_its_window(coordinator: Coordinator) -> None:
    # A window of ~115 days: no boundary falls between these calls in practice.
    window_s = 10_000_000
    values = [coordinator.incr("github-requests", window_s=window_s) for _ in range(5)]
    assert values == [1, 2, 3, 4, 5]
    assert coordinator.incr("other", window_s=window_s) == 1
