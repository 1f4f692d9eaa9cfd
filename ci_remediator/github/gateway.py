"""The one place ci-remediator talks to GitHub, over PyGithub.

Callers get plain frozen values (`RunInfo`, `JobInfo`) and a small error hierarchy that says
what to do next (retry later or give up), never a PyGithub or requests exception. Retries and
request pacing belong to the caller (a task's retry policy, the shared rate budget), so
PyGithub's own retry and sleep-between-requests are switched off here: stacked retry layers
multiply attempts and hide how long a call really took.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import github
import requests
from github.GithubException import (
    BadCredentialsException,
    GithubException,
    RateLimitExceededException,
)
from github.PaginatedList import PaginatedList
from github.WorkflowJob import WorkflowJob
from github.WorkflowRun import WorkflowRun

__all__ = [
    "AuthenticationError",
    "GitHubError",
    "GitHubGateway",
    "JobInfo",
    "PermanentGitHubError",
    "RateLimitedError",
    "RerunRefusedError",
    "RunInfo",
    "TransientGitHubError",
]

# Job conclusions that do not need remediation: the job passed, was skipped, or is unfinished.
_NOT_FAILED = frozenset({"success", "skipped", "neutral"})
_FAILED_STEP_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled"})
# Statuses GitHub uses when it will not start a rerun (already running, too old, no failed jobs).
_RERUN_REFUSAL_STATUSES = frozenset({403, 409, 422})
_LOG_GONE_STATUSES = frozenset({403, 404, 410})  # 403: the signed blob link expired
_LOG_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class RunInfo:
    repository: str
    run_id: int
    run_attempt: int
    workflow_name: str
    workflow_id: int
    event: str
    head_branch: str | None
    head_sha: str
    status: str
    conclusion: str | None
    html_url: str
    created_at: datetime
    updated_at: datetime
    actor: str | None

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"

    @property
    def succeeded(self) -> bool:
        return self.conclusion == "success"


@dataclass(frozen=True, slots=True)
class JobInfo:
    job_id: int
    name: str
    conclusion: str | None
    failed_steps: tuple[str, ...]
    html_url: str


class GitHubError(Exception):
    """Base of every error the gateway raises; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientGitHubError(GitHubError):
    """5xx, connection errors, timeouts: the same call may well succeed later."""


class PermanentGitHubError(GitHubError):
    """A 4xx that retrying will not change (404, 422, ...)."""


class AuthenticationError(PermanentGitHubError):
    """401: the token is missing, wrong or revoked."""


class RateLimitedError(TransientGitHubError):
    """GitHub's primary or secondary rate limit. Wait until `reset_at` / `retry_after_s`."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reset_at: datetime | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.reset_at = reset_at
        self.retry_after_s = retry_after_s


class RerunRefusedError(PermanentGitHubError):
    """GitHub would not start a rerun; `reason` is GitHub's own message."""

    def __init__(self, message: str, *, reason: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.reason = reason


class GitHubGateway:
    """GitHub Actions operations ci-remediator needs, with errors sorted into retry/give up.

    One instance per worker thread: PyGithub's requester keeps per-instance connection state.
    """

    def __init__(
        self, *, base_url: str, token: str, timeout_s: float = 15.0, per_page: int = 100
    ) -> None:
        self._timeout_s = timeout_s
        self._per_page = per_page
        self._github = github.Github(
            base_url=base_url.rstrip("/"),
            auth=github.Auth.Token(token) if token else None,
            timeout=math.ceil(timeout_s),  # PyGithub asserts an int
            per_page=per_page,
            user_agent="ci-remediator",
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            # Lazy objects cost no request until an attribute is read: get_repo() is free.
            lazy=True,
        )
        # Log downloads go to a signed storage URL that must not receive the token.
        self._blob_session = requests.Session()

    def close(self) -> None:
        self._github.close()
        self._blob_session.close()

    def __enter__(self) -> GitHubGateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def list_failed_runs(
        self, repository: str, *, since: datetime | None = None, max_pages: int = 5
    ) -> list[RunInfo]:
        """Failed runs, newest first, created at or after `since`, at most `max_pages` pages."""
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        filters: dict[str, Any] = {"status": "failure"}
        if since is not None:
            # GitHub filters server-side; the loop below still stops at older runs.
            filters["created"] = ">=" + _iso(since)
        found: list[RunInfo] = []
        with _github_errors(f"list failed runs of {repository}"):
            runs = self._repo(repository).get_workflow_runs(**filters)
            # islice never asks for the item after the limit, so no extra page is fetched.
            for run in itertools.islice(runs, max_pages * self._per_page):
                info = _run_info(repository, run)
                if since is not None and info.created_at < since:
                    break
                found.append(info)
        return found

    def get_run(self, repository: str, run_id: int) -> RunInfo:
        with _github_errors(f"get run {repository}#{run_id}"):
            run = self._repo(repository).get_workflow_run(run_id)
            return _run_info(repository, run)

    def get_run_attempt(self, repository: str, run_id: int, attempt: int) -> RunInfo:
        # PyGithub has no method for run attempts.
        path = f"/repos/{repository}/actions/runs/{run_id}/attempts/{attempt}"
        with _github_errors(f"get run {repository}#{run_id} attempt {attempt}"):
            headers, data = self._github.requester.requestJsonAndCheck("GET", path)
            run = self._github.create_from_raw_data(WorkflowRun, data, headers)
            return _run_info(repository, run)

    def list_failed_jobs(self, repository: str, run_id: int, attempt: int) -> list[JobInfo]:
        """Jobs of that attempt that finished without passing (failure, timed_out, ...)."""
        # PyGithub's WorkflowRun.jobs() lists the latest attempt only; attempts need their URL.
        path = f"/repos/{repository}/actions/runs/{run_id}/attempts/{attempt}/jobs"
        with _github_errors(f"list jobs of {repository}#{run_id} attempt {attempt}"):
            jobs = PaginatedList(WorkflowJob, self._github.requester, path, None, list_item="jobs")
            return [_job_info(job) for job in jobs if _job_failed(job.conclusion)]

    def download_job_log(
        self, repository: str, job_id: int, *, max_bytes: int = 5_000_000
    ) -> str | None:
        """The last `max_bytes` of a job's log, or None when GitHub no longer has it."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        action = f"download log of job {job_id} in {repository}"
        with _github_errors(action):
            try:
                location = _logs_location(self._repo(repository).get_workflow_job(job_id))
            except GithubException as exc:
                if exc.status in (404, 410):
                    return None
                raise
            return self._download_tail(location, max_bytes, action)

    def rerun_failed_jobs(self, repository: str, run_id: int) -> None:
        # WorkflowRun.rerun_failed_jobs() returns only a bool and drops GitHub's refusal
        # message, which the caller needs (already running vs too old), so call the endpoint.
        path = f"/repos/{repository}/actions/runs/{run_id}/rerun-failed-jobs"
        action = f"rerun failed jobs of {repository}#{run_id}"
        try:
            self._github.requester.requestJsonAndCheck("POST", path)
        except GithubException as exc:
            error = _translate(exc, action)
            if type(error) is PermanentGitHubError and exc.status in _RERUN_REFUSAL_STATUSES:
                reason = _message(exc)
                raise RerunRefusedError(
                    f"{action}: GitHub refused: {reason}", reason=reason, status=exc.status
                ) from exc
            raise error from exc
        except requests.RequestException as exc:
            raise _transient_from_requests(exc, action) from exc

    def _repo(self, repository: str) -> Any:
        return self._github.get_repo(repository)

    def _download_tail(self, location: str, max_bytes: int, action: str) -> str | None:
        with self._blob_session.get(location, stream=True, timeout=self._timeout_s) as response:
            if response.status_code in _LOG_GONE_STATUSES:
                return None
            if response.status_code >= 500:
                raise TransientGitHubError(
                    f"{action}: log storage answered {response.status_code}",
                    status=response.status_code,
                )
            if response.status_code >= 400:
                raise PermanentGitHubError(
                    f"{action}: log storage answered {response.status_code}",
                    status=response.status_code,
                )
            return _read_tail(response, max_bytes).decode("utf-8", errors="replace")


@contextmanager
def _github_errors(action: str) -> Iterator[None]:
    """Turn PyGithub and requests exceptions into the gateway's own errors."""
    try:
        yield
    except GithubException as exc:
        raise _translate(exc, action) from exc
    except requests.RequestException as exc:
        raise _transient_from_requests(exc, action) from exc


def _translate(exc: GithubException, action: str) -> GitHubError:
    status = exc.status
    headers = {str(key).lower(): str(value) for key, value in (exc.headers or {}).items()}
    text = f"{action}: {status} {_message(exc)}"
    if isinstance(exc, BadCredentialsException) or status == 401:
        return AuthenticationError(text, status=status)
    if _is_rate_limited(exc, headers):
        return RateLimitedError(
            text,
            status=status,
            reset_at=_reset_at(headers),
            retry_after_s=_retry_after_s(headers),
        )
    if status is None or status >= 500 or status == 408:
        return TransientGitHubError(text, status=status)
    return PermanentGitHubError(text, status=status)


def _is_rate_limited(exc: GithubException, headers: dict[str, str]) -> bool:
    if isinstance(exc, RateLimitExceededException) or exc.status == 429:
        return True
    # GitHub's documented signal for the primary limit: 403 with no budget left.
    return exc.status == 403 and headers.get("x-ratelimit-remaining") == "0"


def _transient_from_requests(exc: requests.RequestException, action: str) -> GitHubError:
    return TransientGitHubError(f"{action}: {type(exc).__name__}: {exc}")


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return exc.message or str(data or "")


def _reset_at(headers: dict[str, str]) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), tz=UTC)
    except (KeyError, ValueError):
        return None


def _retry_after_s(headers: dict[str, str]) -> float | None:
    try:
        return float(headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(moment: datetime) -> datetime:
    # PyGithub 2.x parses GitHub's "Z" timestamps as aware datetimes; older ones were naive UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _run_info(repository: str, run: WorkflowRun) -> RunInfo:
    actor = run.actor
    return RunInfo(
        repository=repository,
        run_id=run.id,
        run_attempt=run.run_attempt,
        workflow_name=run.name,
        workflow_id=run.workflow_id,
        event=run.event,
        head_branch=run.head_branch,
        head_sha=run.head_sha,
        status=run.status,
        conclusion=run.conclusion,
        html_url=run.html_url,
        created_at=_utc(run.created_at),
        updated_at=_utc(run.updated_at),
        actor=actor.login if actor is not None else None,
    )


def _job_failed(conclusion: str | None) -> bool:
    return conclusion is not None and conclusion not in _NOT_FAILED


def _job_info(job: WorkflowJob) -> JobInfo:
    failed_steps = tuple(
        step.name for step in job.steps if step.conclusion in _FAILED_STEP_CONCLUSIONS
    )
    return JobInfo(
        job_id=job.id,
        name=job.name,
        conclusion=job.conclusion,
        failed_steps=failed_steps,
        html_url=job.html_url,
    )


def _logs_location(job: WorkflowJob) -> str:
    """The signed URL GitHub redirects to (GET .../jobs/{id}/logs answers 302 + Location)."""
    logs_url: Any = job.logs_url
    # A method in PyGithub 2.10, a property in some earlier 2.x releases.
    return str(logs_url() if callable(logs_url) else logs_url)


def _read_tail(response: requests.Response, max_bytes: int) -> bytes:
    """Stream the body keeping only the last `max_bytes`: failures show at the end of logs."""
    tail = bytearray()
    for chunk in response.iter_content(chunk_size=_LOG_CHUNK_BYTES):
        tail += chunk
        if len(tail) > 2 * max_bytes:  # trim in batches, not on every chunk
            del tail[:-max_bytes]
    return bytes(tail[-max_bytes:])
