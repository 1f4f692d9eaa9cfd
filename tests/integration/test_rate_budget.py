"""The shared rate budget against the GitHub sandbox: real HTTP, real Redis.

The sandbox records when each request arrived (wall clock), so waiting is checked by arrival
times, not by timing the test.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from ci_remediator.coordination import RedisCoordinator
from ci_remediator.github.budget import RateBudget
from ci_remediator.github.errors import RateLimitedError
from ci_remediator.github.gateway import GitHubGateway
from ci_remediator.sandbox.github import GitHubSandbox
from tests.conftest import TEST_REDIS_URL

REPO = "acme/web"
LOG = "##[error]Process completed with exit code 1.\n"


@pytest.fixture
def coordinator(redis_client: redis.Redis) -> RedisCoordinator:
    return RedisCoordinator(TEST_REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def run_id(sandbox: GitHubSandbox) -> int:
    return sandbox.add_failed_run(REPO, workflow_name="CI", job_name="test", log_text=LOG)


def gateway_for(sandbox: GitHubSandbox, budget: RateBudget) -> GitHubGateway:
    return GitHubGateway(base_url=sandbox.url, token="ghp_budget", budget=budget, timeout_s=5)


@pytest.fixture
def budget(coordinator: RedisCoordinator) -> RateBudget:
    return RateBudget(coordinator, credential="cred-a", max_per_minute=6000, max_wait_s=5)


def api_arrivals(sandbox: GitHubSandbox) -> list[float]:
    return [r.arrived_at for r in sandbox.requests if r.path.startswith("/repos/")]


def test_a_spent_budget_makes_the_next_request_wait_for_the_reset(
    sandbox: GitHubSandbox, budget: RateBudget, run_id: int
) -> None:
    sandbox.set_rate_limit(remaining=1, reset_in_s=2)
    with gateway_for(sandbox, budget) as gateway:
        gateway.get_run(REPO, run_id)  # answered with x-ratelimit-remaining: 0
        reset = budget.coordinator.moment("github:cred-a:blocked-until")
        gateway.get_run(REPO, run_id)

    first, second = api_arrivals(sandbox)
    assert reset > first
    assert second >= reset  # it arrived only once the window had reset
    assert sandbox.count("GET", r"/repos/.*") == 2  # and it was not refused (no 403 sent)


def test_a_long_wait_is_raised_not_slept_and_sends_nothing(
    sandbox: GitHubSandbox, budget: RateBudget, run_id: int
) -> None:
    sandbox.set_rate_limit(remaining=1, reset_in_s=600)
    with gateway_for(sandbox, budget) as gateway:
        gateway.get_run(REPO, run_id)
        with pytest.raises(RateLimitedError) as caught:
            gateway.get_run(REPO, run_id)

    assert caught.value.retry_after_s is not None
    assert caught.value.retry_after_s > 500
    assert len(api_arrivals(sandbox)) == 1


def test_the_budget_is_shared_by_every_worker(
    sandbox: GitHubSandbox, coordinator: RedisCoordinator, run_id: int
) -> None:
    sandbox.set_rate_limit(remaining=1, reset_in_s=600)
    worker_a = RateBudget(coordinator, credential="shared", max_per_minute=6000, max_wait_s=5)
    worker_b = RateBudget(coordinator, credential="shared", max_per_minute=6000, max_wait_s=5)
    with gateway_for(sandbox, worker_a) as first, gateway_for(sandbox, worker_b) as second:
        first.get_run(REPO, run_id)
        with pytest.raises(RateLimitedError):
            second.get_run(REPO, run_id)  # b never saw the header, but the budget did

    assert len(api_arrivals(sandbox)) == 1


def test_retry_after_holds_back_every_request_that_long(
    sandbox: GitHubSandbox, budget: RateBudget, run_id: int
) -> None:
    sandbox.inject_error(429, path_pattern=r".*/actions/runs/\d+", retry_after_s=1)
    with gateway_for(sandbox, budget) as gateway:
        with pytest.raises(RateLimitedError) as caught:
            gateway.get_run(REPO, run_id)  # not retried at once by the read retries
        assert caught.value.retry_after_s == pytest.approx(1.0, abs=0.2)
        gateway.get_run(REPO, run_id)

    refused, answered = api_arrivals(sandbox)
    assert answered - refused >= 1.0


def test_a_secondary_limit_without_retry_after_backs_off_a_minute_then_longer(
    sandbox: GitHubSandbox, budget: RateBudget, run_id: int
) -> None:
    sandbox.inject_error(
        403, path_pattern=r".*/actions/runs/\d+", message="You have exceeded a secondary rate limit"
    )
    with gateway_for(sandbox, budget) as gateway, pytest.raises(RateLimitedError) as caught:
        gateway.get_run(REPO, run_id)
    assert caught.value.retry_after_s == pytest.approx(60, abs=1)

    again = budget.rate_limited(RateLimitedError("again", secondary=True))
    assert again.retry_after_s == pytest.approx(120, abs=1)


def test_pacing_holds_the_cap_across_threads(
    sandbox: GitHubSandbox, coordinator: RedisCoordinator, run_id: int
) -> None:
    cap = 600  # per minute: a burst of 10, then one request every 60/590 s
    granted: list[float] = []  # when each request was allowed to go, by the shared budget
    reserve = coordinator.reserve_slot

    def recording_reserve(name: str, **options: float) -> float | None:
        wait = reserve(name, **options)  # type: ignore[arg-type]
        if wait is not None:
            granted.append(time.time() + wait)
        return wait

    coordinator.reserve_slot = recording_reserve  # type: ignore[method-assign]
    budget = RateBudget(coordinator, credential="paced", max_per_minute=cap, max_wait_s=10)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with gateway_for(sandbox, budget) as gateway:
                for _ in range(10):
                    gateway.get_run(REPO, run_id)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    arrivals = sorted(api_arrivals(sandbox))
    assert len(arrivals) == len(granted) == 40
    interval = 60 / (cap - 10)
    # In any window of one second the budget lets go at most 1/interval requests plus the
    # burst (and one for the window's edge), where 40 unpaced requests would all go within a
    # fraction of it. Judged on the grant times: arrivals add the machine's scheduling jitter.
    granted.sort()
    for index, start in enumerate(granted):
        in_window = sum(1 for at in granted[index:] if at < start + 1.0)
        assert in_window <= 1 / interval + 10 + 1
    # Nothing arrives before its grant, so the arrivals span at least what the grants span.
    assert arrivals[-1] - arrivals[0] >= (40 - 11) * interval * 0.9


def test_304_answers_cost_no_primary_budget(sandbox: GitHubSandbox, run_id: int) -> None:
    with GitHubGateway(base_url=sandbox.url, token="ghp_etag") as gateway:
        first = gateway.runs_page(REPO)
        started = time.time()
        again = gateway.runs_page(REPO, etag=first.etag)

    assert first.etag
    assert not first.not_modified
    assert again.not_modified
    assert again.runs == ()
    assert sandbox.counted_requests(since=started) == []


def test_a_new_run_changes_the_first_page(sandbox: GitHubSandbox, run_id: int) -> None:
    with GitHubGateway(base_url=sandbox.url, token="ghp_etag") as gateway:
        first = gateway.runs_page(REPO)
        newer = sandbox.add_failed_run(REPO, workflow_name="CI", job_name="t", log_text=LOG)
        changed = gateway.runs_page(REPO, etag=first.etag)

    assert not changed.not_modified
    assert changed.runs[0].run_id == newer
    assert changed.etag != first.etag
