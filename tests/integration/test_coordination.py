"""Locks and counters behave the same on Redis (scaled) and in the database (embedded)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from ci_remediator.coordination import Coordinator, RedisCoordinator
from ci_remediator.db.leases import DatabaseCoordinator
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


def test_moments_only_move_later(coordinator: Coordinator) -> None:
    assert coordinator.moment("blocked") == 0.0
    coordinator.push_back("blocked", 2000.0)
    coordinator.push_back("blocked", 1000.0)  # an earlier reset must not unblock early

    assert coordinator.moment("blocked") == 2000.0


def test_a_moment_reads_back_exactly_as_pushed(coordinator: Coordinator) -> None:
    # A request may wait at most so long: a moment rounded on the way through Redis turned a
    # wait of exactly that long into a refusal, now and then.
    until = 1796228524.5382853 + 10.0
    coordinator.push_back("blocked", until)

    assert coordinator.moment("blocked") == until
    assert coordinator.moment("blocked") - 1796228524.5382853 == 10.0


def test_slots_give_a_burst_then_one_per_interval(coordinator: Coordinator) -> None:
    waits = [
        coordinator.reserve_slot("pace", interval_s=0.5, burst=2, max_wait_s=10) for _ in range(6)
    ]

    assert all(wait is not None for wait in waits)
    spaced = [wait for wait in waits if wait is not None]
    # The first three go at once (one plus a burst of two); then each waits one interval more.
    assert spaced[:3] == pytest.approx([0.0, 0.0, 0.0], abs=0.05)
    assert spaced[3:] == pytest.approx([0.5, 1.0, 1.5], abs=0.1)


def test_a_slot_too_far_ahead_is_refused_and_not_taken(coordinator: Coordinator) -> None:
    taken = [
        coordinator.reserve_slot("busy", interval_s=1.0, burst=0, max_wait_s=1.5) for _ in range(2)
    ]
    assert taken == [pytest.approx(0.0, abs=0.1), pytest.approx(1.0, abs=0.1)]

    assert coordinator.reserve_slot("busy", interval_s=1.0, burst=0, max_wait_s=1.5) is None
    # Refusing took nothing: a caller willing to wait longer gets the very next slot.
    wait = coordinator.reserve_slot("busy", interval_s=1.0, burst=0, max_wait_s=10)
    assert wait == pytest.approx(2.0, abs=0.1)
