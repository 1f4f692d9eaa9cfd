"""Conditional reads through the read cache, against the GitHub sandbox over HTTP: a second
read of an unchanged resource is a 304 that spends no rate budget and gives the same value; a
changed one is read again; what is kept is the projection, never the whole response."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ci_remediator.github import GitHubGateway
from ci_remediator.github.read_cache import (
    MAX_ENTRY_BYTES,
    CachedRead,
    MemoryReadCache,
)
from ci_remediator.sandbox.github import GitHubSandbox
from tests.unit.github.conftest import REPO

LOG = "##[error]Process completed with exit code 1.\n"


@pytest.fixture
def cache() -> MemoryReadCache:
    return MemoryReadCache()


@pytest.fixture
def cached_gateway(sandbox: GitHubSandbox, cache: MemoryReadCache) -> Iterator[GitHubGateway]:
    with GitHubGateway(
        base_url=sandbox.url, token="ghp_test", timeout_s=5, read_cache=cache, cache_scope="t"
    ) as client:
        yield client


def counted(sandbox: GitHubSandbox) -> int:
    return len(sandbox.counted_requests())


def failed_run(sandbox: GitHubSandbox, **options: object) -> int:
    return sandbox.add_failed_run(
        REPO,
        workflow_name="CI",
        job_name="tests",
        log_text=LOG,
        **options,  # type: ignore[arg-type]
    )


def test_an_unchanged_run_is_read_again_for_free_and_the_same(
    sandbox: GitHubSandbox, cached_gateway: GitHubGateway
) -> None:
    run_id = failed_run(sandbox)
    first = cached_gateway.get_run(REPO, run_id)
    spent = counted(sandbox)

    again = cached_gateway.get_run(REPO, run_id)

    assert again == first
    assert counted(sandbox) == spent
    assert sandbox.count("GET", rf"/repos/{REPO}/actions/runs/{run_id}$") == 2


def test_a_changed_run_is_read_anew(sandbox: GitHubSandbox, cached_gateway: GitHubGateway) -> None:
    run_id = failed_run(sandbox, polls_until_complete=1)
    before = cached_gateway.get_run(REPO, run_id)
    cached_gateway.rerun_failed_jobs(REPO, run_id)
    spent = counted(sandbox)

    after = cached_gateway.get_run(REPO, run_id)

    assert (before.run_attempt, after.run_attempt) == (1, 2)
    assert counted(sandbox) == spent + 1


def test_without_a_cache_every_read_spends_budget(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    run_id = failed_run(sandbox)
    gateway.get_run(REPO, run_id)
    spent = counted(sandbox)
    gateway.get_run(REPO, run_id)
    assert counted(sandbox) == spent + 1


def test_jobs_branch_heads_and_reviews_are_conditional_too(
    sandbox: GitHubSandbox, cached_gateway: GitHubGateway
) -> None:
    run_id = failed_run(sandbox, environments=("production",))
    run = cached_gateway.get_run(REPO, run_id)
    sandbox.set_branch_head(REPO, "main", run.head_sha)

    def read_all() -> tuple[object, ...]:
        return (
            cached_gateway.list_jobs(REPO, run_id, 1),
            cached_gateway.branch_head(REPO, "main"),
            cached_gateway.run_deployment_environments(REPO, run_id),
            cached_gateway.branch_runs(REPO, workflow_id=run.workflow_id, branch="main"),
        )

    first = read_all()
    spent = counted(sandbox)
    assert read_all() == first
    assert counted(sandbox) == spent
    assert first[1:3] == (run.head_sha, ("production",))


def test_the_cache_keeps_the_fields_values_are_made_of_and_no_commit_text(
    sandbox: GitHubSandbox, cached_gateway: GitHubGateway, cache: MemoryReadCache
) -> None:
    run_id = failed_run(sandbox)
    cached_gateway.get_run(REPO, run_id)

    (key,) = [key for key in cache._entries if key.endswith(f"/actions/runs/{run_id}")]
    kept = json.loads(cache._entries[key])["data"]
    assert kept["id"] == run_id
    assert "head_commit" not in kept
    assert "repository" not in kept


def test_a_cache_entry_for_another_scope_is_not_used(
    sandbox: GitHubSandbox, cache: MemoryReadCache
) -> None:
    run_id = failed_run(sandbox)
    for scope in ("credential-a", "credential-b"):
        with GitHubGateway(
            base_url=sandbox.url, token="ghp_test", read_cache=cache, cache_scope=scope
        ) as client:
            client.get_run(REPO, run_id)
    assert len(cache._entries) == 2
    assert counted(sandbox) >= 2


def test_a_stale_entry_is_never_believed(
    sandbox: GitHubSandbox, cached_gateway: GitHubGateway, cache: MemoryReadCache
) -> None:
    """Whatever the cache holds, GitHub's answer decides: a wrong ETag is a plain read."""
    run_id = failed_run(sandbox)
    cached_gateway.get_run(REPO, run_id)
    (key,) = list(cache._entries)
    cache.put(key, CachedRead('W/"not-the-etag"', {"id": 1, "workflow_id": 1}))

    run = cached_gateway.get_run(REPO, run_id)

    assert run.run_id == run_id


def test_memory_cache_keeps_the_newest_entries_and_skips_huge_ones() -> None:
    cache = MemoryReadCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.put(key, CachedRead("e", {"key": key}))
    assert cache.get("a") is None
    assert cache.get("c") == CachedRead("e", {"key": "c"})
    cache.put("huge", CachedRead("e", "x" * MAX_ENTRY_BYTES))
    assert cache.get("huge") is None
