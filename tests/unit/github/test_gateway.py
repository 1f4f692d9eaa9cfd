"""The gateway against a started GitHub sandbox, over real HTTP with the real PyGithub."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ci_remediator.github import (
    AuthenticationError,
    GitHubGateway,
    PermanentGitHubError,
    RateLimitedError,
    RerunRefusedError,
    TransientGitHubError,
)
from ci_remediator.sandbox.github import GitHubSandbox
from tests.unit.github.conftest import REPO

FAILING_LOG = "\ufeff2024-05-01T10:00:00.0000000Z ##[error]AssertionError: expected 2, got 3\n"


def add_run(sandbox: GitHubSandbox, **overrides: object) -> int:
    arguments: dict[str, object] = {
        "workflow_name": "CI",
        "job_name": "tests",
        "log_text": FAILING_LOG,
    }
    arguments.update(overrides)
    return sandbox.add_failed_run(REPO, **arguments)  # type: ignore[arg-type]


def test_list_failed_runs_pages_through_every_run(sandbox: GitHubSandbox) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    run_ids = [add_run(sandbox, created_at=start + timedelta(minutes=i)) for i in range(75)]

    with GitHubGateway(base_url=sandbox.url, token="t", per_page=30) as gateway:
        runs = gateway.list_failed_runs(REPO)

    assert [run.run_id for run in runs] == list(reversed(run_ids))
    assert sandbox.count("GET", r"/repos/acme/widgets/actions/runs") == 3
    assert all(run.conclusion == "failure" and run.is_completed for run in runs)


def test_list_failed_runs_stops_at_max_pages(sandbox: GitHubSandbox) -> None:
    for _ in range(75):
        add_run(sandbox)

    with GitHubGateway(base_url=sandbox.url, token="t", per_page=30) as gateway:
        runs = gateway.list_failed_runs(REPO, max_pages=2)

    assert len(runs) == 60
    assert sandbox.count("GET", r"/repos/acme/widgets/actions/runs") == 2


def test_list_failed_runs_since_keeps_only_newer_runs(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    for hours in range(10):
        add_run(sandbox, created_at=start + timedelta(hours=hours))

    runs = gateway.list_failed_runs(REPO, since=start + timedelta(hours=7))

    assert [run.created_at for run in runs] == [
        start + timedelta(hours=9),
        start + timedelta(hours=8),
        start + timedelta(hours=7),
    ]


def test_list_failed_runs_rejects_naive_since(gateway: GitHubGateway) -> None:
    with pytest.raises(ValueError, match="timezone"):
        gateway.list_failed_runs(REPO, since=datetime(2024, 5, 1))  # noqa: DTZ001


def test_get_run_maps_every_field(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    created = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    run_id = add_run(
        sandbox, workflow_name="Build", head_branch="feature/x", event="pull_request",
        created_at=created, head_sha="a" * 40,
    )  # fmt: skip

    run = gateway.get_run(REPO, run_id)

    assert run.repository == REPO
    assert run.run_id == run_id
    assert run.run_attempt == 1
    assert run.workflow_name == "Build"
    assert run.workflow_id > 0
    assert (run.event, run.head_branch, run.head_sha) == ("pull_request", "feature/x", "a" * 40)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert run.created_at == created
    assert run.created_at.tzinfo is not None
    assert run.updated_at >= run.created_at
    assert run.html_url.endswith(f"/actions/runs/{run_id}")
    assert run.actor == "octocat"
    assert not run.succeeded


def test_list_failed_jobs_returns_failed_steps(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    run_id = add_run(sandbox, job_name="unit tests", failed_step="Run pytest")

    jobs = gateway.list_failed_jobs(REPO, run_id, 1)

    assert len(jobs) == 1
    assert jobs[0].name == "unit tests"
    assert jobs[0].conclusion == "failure"
    assert jobs[0].failed_steps == ("Run pytest",)
    assert jobs[0].html_url


def test_timed_out_job_counts_as_failed(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    run_id = add_run(sandbox, conclusion="timed_out")

    (job,) = gateway.list_failed_jobs(REPO, run_id, 1)

    assert job.conclusion == "timed_out"
    assert job.failed_steps == ("Run tests",)


def test_read_job_log_follows_the_redirect_without_the_token(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    run_id = add_run(sandbox)
    (job,) = gateway.list_failed_jobs(REPO, run_id, 1)

    log = gateway.read_job_log(REPO, job.job_id, b"".join)

    assert log == FAILING_LOG.encode()
    (blob_request,) = [r for r in sandbox.requests if r.path.startswith("/_blobs/")]
    assert "authorization" not in blob_request.headers


def test_read_job_log_streams_the_log_in_bounded_chunks(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    log_text = "".join(f"line {i:07d} of the build\n" for i in range(300_000))  # ~7.5 MB
    run_id = add_run(sandbox, log_text=log_text + "FATAL: the real error\n")
    (job,) = gateway.list_failed_jobs(REPO, run_id, 1)
    sizes: list[int] = []

    def read(chunks: Iterator[bytes]) -> bytes:
        last = b""
        for chunk in chunks:
            sizes.append(len(chunk))
            last = (last + chunk)[-100:]
        return last

    end = gateway.read_job_log(REPO, job.job_id, read)

    assert end is not None
    assert end.endswith(b"FATAL: the real error\n")
    # Handed over as it arrives, never as one string: many chunks, none over 1 MiB.
    assert len(sizes) >= 7
    assert max(sizes) <= 1 << 20
    assert sum(sizes) == len(log_text.encode()) + len("FATAL: the real error\n")


def test_read_job_log_skips_to_a_line_start_of_the_last_max_bytes(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    log_text = "".join(f"line {i:06d}\n" for i in range(50_000)) + "FATAL: the real error\n"
    run_id = add_run(sandbox, log_text=log_text)
    (job,) = gateway.list_failed_jobs(REPO, run_id, 1)

    kept = gateway.read_job_log(REPO, job.job_id, b"".join, max_bytes=1_000)

    assert kept is not None
    assert kept.endswith(b"FATAL: the real error\n")
    assert log_text.encode().endswith(kept)
    assert kept.startswith(b"line ")
    assert len(kept) <= 1_000


def test_read_job_log_is_none_when_the_log_is_gone(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    run_id = add_run(sandbox)
    (job,) = gateway.list_failed_jobs(REPO, run_id, 1)
    sandbox.expire_logs(REPO, run_id)

    assert gateway.read_job_log(REPO, job.job_id, b"".join) is None
    assert gateway.read_job_log(REPO, 999_999_999, b"".join) is None


def test_unknown_run_is_permanent(gateway: GitHubGateway) -> None:
    with pytest.raises(PermanentGitHubError) as caught:
        gateway.get_run(REPO, 424242)

    assert caught.value.status == 404
    assert not isinstance(caught.value, AuthenticationError)


def test_unknown_repository_is_permanent(gateway: GitHubGateway) -> None:
    with pytest.raises(PermanentGitHubError):
        gateway.list_failed_runs("acme/missing")


def test_missing_token_is_an_authentication_error(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox)
    with (
        GitHubGateway(base_url=sandbox.url, token="") as anonymous,
        pytest.raises(AuthenticationError) as caught,
    ):
        anonymous.get_run(REPO, run_id)

    assert caught.value.status == 401
    assert "authorization" not in sandbox.requests[-1].headers


def test_revoked_token_is_an_authentication_error(sandbox: GitHubSandbox) -> None:
    sandbox.revoke_token("ghp_revoked")
    with (
        GitHubGateway(base_url=sandbox.url, token="ghp_revoked") as revoked,
        pytest.raises(AuthenticationError),
    ):
        revoked.list_failed_runs(REPO)


def test_reads_retry_server_errors_three_times_in_all(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox)
    sandbox.inject_error(502, path_pattern=r".*/actions/runs/\d+", times=3)

    with GitHubGateway(base_url=sandbox.url, token="t", read_retry_wait_s=0.01) as gateway:
        with pytest.raises(TransientGitHubError) as caught:
            gateway.get_run(REPO, run_id)
        assert caught.value.status == 502
        assert sandbox.count("GET", r".*/actions/runs/\d+") == 3

        sandbox.inject_error(503, path_pattern=r".*/actions/runs/\d+", times=2)
        assert gateway.get_run(REPO, run_id).run_id == run_id  # the third attempt answers
    assert sandbox.count("GET", r".*/actions/runs/\d+") == 6


def test_connection_refused_is_transient(sandbox: GitHubSandbox) -> None:
    gateway = GitHubGateway(base_url=sandbox.url, token="t", timeout_s=2)
    sandbox.stop()

    with pytest.raises(TransientGitHubError):
        gateway.get_run(REPO, 1)
    gateway.close()


def test_spent_rate_budget_is_rate_limited(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    sandbox.set_rate_limit(remaining=0, reset_in_s=120)

    with pytest.raises(RateLimitedError) as caught:
        gateway.list_failed_runs(REPO)

    assert caught.value.reset_at is not None
    assert caught.value.reset_at > datetime.now(UTC)


def test_secondary_rate_limit_carries_retry_after(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    sandbox.inject_error(429, message="Too many requests", retry_after_s=30)

    with pytest.raises(RateLimitedError) as caught:
        gateway.list_failed_runs(REPO)

    assert caught.value.retry_after_s == 30.0


def test_rerun_starts_a_queued_attempt_that_completes_after_polls(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    run_id = add_run(sandbox, rerun_conclusions=("failure", "success"), polls_until_complete=2)

    gateway.rerun_failed_jobs(REPO, run_id)

    assert sandbox.run_attempt(REPO, run_id) == 2
    first_poll = gateway.get_run(REPO, run_id)
    second_poll = gateway.get_run(REPO, run_id)
    third_poll = gateway.get_run(REPO, run_id)
    assert (first_poll.run_attempt, first_poll.status) == (2, "queued")
    assert second_poll.status == "in_progress"
    assert (third_poll.status, third_poll.conclusion) == ("completed", "failure")
    assert not third_poll.succeeded
    # The rerun failed again with the same log; the next one passes.
    (job,) = gateway.list_failed_jobs(REPO, run_id, 2)
    assert gateway.read_job_log(REPO, job.job_id, b"".join) == FAILING_LOG.encode()

    gateway.rerun_failed_jobs(REPO, run_id)
    gateway.get_run_attempt(REPO, run_id, 3)
    gateway.get_run_attempt(REPO, run_id, 3)
    final = gateway.get_run(REPO, run_id)
    assert (final.run_attempt, final.status, final.conclusion) == (3, "completed", "success")
    assert final.succeeded
    assert gateway.list_failed_jobs(REPO, run_id, 3) == []
    assert gateway.get_run_attempt(REPO, run_id, 1).conclusion == "failure"


def test_rerun_while_running_is_refused(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    run_id = add_run(sandbox, polls_until_complete=5)
    gateway.rerun_failed_jobs(REPO, run_id)

    with pytest.raises(RerunRefusedError) as caught:
        gateway.rerun_failed_jobs(REPO, run_id)

    assert caught.value.reason == "This workflow is already running"
    assert caught.value.status == 403
    assert sandbox.run_attempt(REPO, run_id) == 2


def test_rerun_of_unknown_run_is_permanent_not_refused(gateway: GitHubGateway) -> None:
    with pytest.raises(PermanentGitHubError) as caught:
        gateway.rerun_failed_jobs(REPO, 424242)

    assert not isinstance(caught.value, RerunRefusedError)
    assert caught.value.status == 404


def test_lazy_repository_costs_no_request(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    run_id = add_run(sandbox)

    gateway.get_run(REPO, run_id)
    gateway.rerun_failed_jobs(REPO, run_id)

    assert sandbox.count("GET", r"/repos/[^/]+/[^/]+") == 0
    assert [r.method for r in sandbox.requests] == ["GET", "POST"]


def test_deep_scan_asks_every_page_conditionally(sandbox: GitHubSandbox) -> None:
    start = datetime.now(UTC) - timedelta(hours=5)
    run_ids = [
        add_run(sandbox, created_at=start + timedelta(minutes=i), rerun_conclusions=("failure",))
        for i in range(5)
    ]
    since_day = start.date()
    with GitHubGateway(base_url=sandbox.url, token="t", per_page=2) as gateway:
        first = gateway.deep_scan(REPO, since_day=since_day)
        assert sorted(run.run_id for run in first.runs) == sorted(run_ids)
        assert len(first.etags) == 3  # 2 + 2 + 1 runs

        before = time.time()
        again = gateway.deep_scan(REPO, since_day=since_day, etags=first.etags)
        assert again.runs == ()
        assert again.pages_unchanged == 3
        assert sandbox.counted_requests(since=before) == []

        # The oldest run (on the last page) gets a new attempt: only its page is read.
        gateway.rerun_failed_jobs(REPO, run_ids[0])
        for _ in range(3):
            gateway.get_run(REPO, run_ids[0])  # the attempt completes as it is watched
        changed = gateway.deep_scan(REPO, since_day=since_day, etags=again.etags)
    assert [run.run_id for run in changed.runs] == [run_ids[0]]
    assert changed.runs[0].run_attempt == 2
    assert changed.pages_unchanged == 2
