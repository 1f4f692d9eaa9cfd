"""A GitHub REST stand-in that the real PyGithub client talks to over HTTP.

The machines ci-remediator is built and tested on cannot reach GitHub, so this server speaks
the same protocol for the endpoints the service uses: runs, attempts, jobs, job logs (through a
302 to a signed blob URL, as GitHub does), rerun-failed-jobs and rate_limit. Every body starts
as a deep copy of GitHub's published example (``data/github_examples.json``) with ids, names,
urls, states and timestamps overridden, so field names and types match what PyGithub expects.

Outcomes are scripted per run (what each rerun concludes, how many polls a rerun stays
running) and every request is recorded so tests can assert on what was asked.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from importlib import resources
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlencode, urlsplit

from ci_remediator.sandbox.server import LoopbackSandbox

__all__ = ["GitHubSandbox", "RecordedRequest"]

_T = TypeVar("_T")

_DOCS = "https://docs.github.com/rest"
_RERUN_DOCS = (
    "https://docs.github.com/rest/actions/workflow-runs#re-run-failed-jobs-from-a-workflow-run"
)
_DEFAULT_PER_PAGE = 30
_MAX_PER_PAGE = 100
_RATE_LIMIT = 5000
_RATE_WINDOW_S = 3600
_BLOB_LINK_TTL_S = 60  # GitHub's signed log links expire after one minute
_RUN_STATUSES = frozenset(
    {"completed", "in_progress", "queued", "requested", "waiting", "pending", "action_required"}
)
_FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled", "startup_failure"})
_PASSING_JOB = "prepare"
_STEPS = ("Set up job", "Run actions/checkout@v4", "{failed_step}", "Post Run actions/checkout@v4")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the sandbox received it. Header names are lower-cased (HTTP header
    names are case-insensitive; PyGithub lower-cases response headers the same way)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass(slots=True)
class _Repository:
    repo_id: int
    owner_id: int
    full_name: str
    default_branch: str
    private: bool
    created_at: datetime

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass(slots=True)
class _Job:
    job_id: int
    name: str
    failed_step: str | None  # the step to mark failed when the attempt fails; None: always passes
    log_text: str


@dataclass(slots=True)
class _Attempt:
    number: int
    final_conclusion: str
    jobs: list[_Job]
    started_at: datetime
    polls_until_complete: int
    polls_served: int = 0
    completed_at: datetime | None = None

    @property
    def status(self) -> str:
        if self.polls_served >= self.polls_until_complete:
            return "completed"
        return "queued" if self.polls_served == 0 else "in_progress"

    @property
    def conclusion(self) -> str | None:
        return self.final_conclusion if self.status == "completed" else None

    def observe(self) -> None:
        """Count one GET of this attempt: a rerun completes after its scripted number of polls."""
        if self.status == "completed":
            return
        self.polls_served += 1
        if self.status == "completed":
            self.completed_at = _now()


@dataclass(slots=True)
class _Run:
    run_id: int
    repository: str
    workflow_name: str
    workflow_id: int
    run_number: int
    head_branch: str
    head_sha: str
    event: str
    created_at: datetime
    log_text: str
    failed_job_name: str
    failed_step: str
    rerun_conclusions: tuple[str, ...]
    polls_until_complete: int
    attempts: list[_Attempt] = field(default_factory=list)
    logs_expired: bool = False

    @property
    def latest(self) -> _Attempt:
        return self.attempts[-1]

    def attempt(self, number: int) -> _Attempt | None:
        return self.attempts[number - 1] if 1 <= number <= len(self.attempts) else None


@dataclass(slots=True)
class _InjectedError:
    status: int
    method: str | None
    path_pattern: str
    remaining: int
    message: str
    retry_after_s: int | None


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    counts_against_rate_limit: bool = True


class _Route:
    def __init__(self, method: str, pattern: str, handler: Callable[..., _Response]) -> None:
        self.method = method
        self.regex = re.compile(pattern)
        self.handler = handler


class GitHubSandbox(LoopbackSandbox):
    """A thread-safe, in-memory GitHub Actions REST server on 127.0.0.1 (OS-chosen port)."""

    server_name = "GitHub.com"

    def __init__(self) -> None:
        super().__init__()
        self._examples = _load_examples()
        self._signing_key = secrets.token_bytes(32)
        self._requests: list[RecordedRequest] = []
        self._repositories: dict[str, _Repository] = {}
        self._runs: dict[int, _Run] = {}
        self._jobs: dict[int, tuple[_Run, _Attempt, _Job]] = {}
        self._owner_ids: dict[str, int] = {}
        self._ids = {"repo": 100_000, "owner": 1_000, "run": 7_000_000, "job": 20_000_000}
        self._workflow_ids: dict[tuple[str, str], int] = {}
        self._run_numbers: dict[str, int] = {}
        self._injected: list[_InjectedError] = []
        self._revoked_tokens: set[str] = set()
        self._rate_limit = _RATE_LIMIT
        self._rate_remaining = _RATE_LIMIT
        self._rate_reset = int(time.time()) + _RATE_WINDOW_S
        self._routes = self._build_routes()

    # -- scripting -------------------------------------------------------------------------

    def add_repository(
        self, full_name: str, *, default_branch: str = "main", private: bool = False
    ) -> None:
        """Add (or reconfigure) a repository. Adding a run adds its repository implicitly."""
        _validate_full_name(full_name)
        with self._lock:
            existing = self._repositories.get(full_name)
            if existing is not None:
                existing.default_branch, existing.private = default_branch, private
                return
            owner = full_name.split("/", 1)[0]
            if owner not in self._owner_ids:
                self._owner_ids[owner] = self._next_id("owner")
            self._repositories[full_name] = _Repository(
                repo_id=self._next_id("repo"),
                owner_id=self._owner_ids[owner],
                full_name=full_name,
                default_branch=default_branch,
                private=private,
                created_at=_now() - timedelta(days=400),
            )

    def add_failed_run(
        self,
        repository: str,
        *,
        workflow_name: str,
        job_name: str,
        log_text: str,
        rerun_conclusions: Sequence[str] = ("success",),
        conclusion: str = "failure",
        head_branch: str = "main",
        event: str = "push",
        polls_until_complete: int = 1,
        created_at: datetime | None = None,
        head_sha: str | None = None,
        failed_step: str = "Run tests",
    ) -> int:
        """Add a completed run whose job `job_name` failed at `failed_step`; returns its id.

        Each rerun-failed-jobs concludes with the next item of `rerun_conclusions` (the last
        repeats) after staying queued/in progress for `polls_until_complete` GETs of the run.
        """
        if not rerun_conclusions:
            raise ValueError("rerun_conclusions must not be empty")
        if polls_until_complete < 0:
            raise ValueError("polls_until_complete must be >= 0")
        started = (created_at or _now()).astimezone(UTC).replace(microsecond=0)
        with self._lock:
            if repository not in self._repositories:
                self.add_repository(repository)
            run_id = self._next_id("run")
            run = _Run(
                run_id=run_id,
                repository=repository,
                workflow_name=workflow_name,
                workflow_id=self._workflow_id(repository, workflow_name),
                run_number=self._next_run_number(repository),
                head_branch=head_branch,
                head_sha=head_sha or _fake_sha(f"{repository}:{run_id}"),
                event=event,
                created_at=started,
                log_text=log_text,
                failed_job_name=job_name,
                failed_step=failed_step,
                rerun_conclusions=tuple(rerun_conclusions),
                polls_until_complete=polls_until_complete,
            )
            self._runs[run.run_id] = run
            first = self._new_attempt(run, conclusion, started_at=started, polls=0)
            first.completed_at = started + timedelta(minutes=2)
            return run.run_id

    def expire_logs(self, repository: str, run_id: int) -> None:
        """Make every job log of the run answer 410 Gone, as GitHub does after retention."""
        with self._lock:
            self._get_run_or_raise(repository, run_id).logs_expired = True

    def inject_error(
        self,
        status: int,
        *,
        path_pattern: str = ".*",
        method: str | None = None,
        times: int = 1,
        message: str | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        """Answer the next `times` matching API requests with `status` (5xx, 429, ...)."""
        with self._lock:
            self._injected.append(
                _InjectedError(
                    status=status,
                    method=method.upper() if method else None,
                    path_pattern=path_pattern,
                    remaining=times,
                    message=message or HTTPStatus(status).phrase,
                    retry_after_s=retry_after_s,
                )
            )

    def set_rate_limit(
        self, *, remaining: int, limit: int = _RATE_LIMIT, reset_in_s: int = _RATE_WINDOW_S
    ) -> None:
        """Set the primary rate budget; at 0, API requests get GitHub's 403 rate-limit answer."""
        with self._lock:
            self._rate_limit, self._rate_remaining = limit, remaining
            self._rate_reset = int(time.time()) + reset_in_s

    def revoke_token(self, token: str) -> None:
        """Requests with this token get 401 "Bad credentials"."""
        with self._lock:
            self._revoked_tokens.add(token)

    # -- inspection ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def count(self, method: str, path_pattern: str) -> int:
        regex = re.compile(path_pattern)
        return sum(
            1
            for request in self.requests
            if request.method == method.upper() and regex.fullmatch(request.path)
        )

    def run_attempt(self, repository: str, run_id: int) -> int:
        with self._lock:
            return self._get_run_or_raise(repository, run_id).latest.number

    # -- request handling ------------------------------------------------------------------

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> _Response:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self._requests.append(
                RecordedRequest(method, parts.path, query, headers, body, time.monotonic())
            )
            if parts.path.startswith("/_blobs/"):
                return self._serve_blob(parts.path, query)
            response = self._handle_api(method, parts.path, query, headers)
            if response.counts_against_rate_limit and self._rate_remaining > 0:
                self._rate_remaining -= 1
            response.headers.update(self._rate_headers())
            response.headers.setdefault("X-GitHub-Api-Version-Selected", "2022-11-28")
            response.headers["X-GitHub-Request-Id"] = secrets.token_hex(8).upper()
            return response

    def _handle_api(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> _Response:
        auth_error = self._check_auth(headers)
        if auth_error is not None:
            return auth_error
        self._refill_rate_budget()
        if path != "/rate_limit" and self._rate_remaining <= 0:
            return _rate_limited()
        injected = self._take_injected_error(method, path)
        if injected is not None:
            return injected
        for route in self._routes:
            match = route.regex.fullmatch(path)
            if match is not None and route.method == method:
                response = route.handler(query, *match.groups())
                return _conditional(response, headers.get("if-none-match"))
        return _not_found()

    def _check_auth(self, headers: dict[str, str]) -> _Response | None:
        authorization = headers.get("authorization")
        if not authorization:
            return _error(HTTPStatus.UNAUTHORIZED, "Requires authentication", counts=False)
        token = authorization.split(" ", 1)[-1]
        if token in self._revoked_tokens:
            return _error(HTTPStatus.UNAUTHORIZED, "Bad credentials", counts=False)
        return None

    def _take_injected_error(self, method: str, path: str) -> _Response | None:
        for injected in self._injected:
            if injected.method not in (None, method):
                continue
            if not re.fullmatch(injected.path_pattern, path):
                continue
            injected.remaining -= 1
            if injected.remaining <= 0:
                self._injected.remove(injected)
            response = _error(injected.status, injected.message)
            if injected.retry_after_s is not None:
                response.headers["Retry-After"] = str(injected.retry_after_s)
            return response
        return None

    def _refill_rate_budget(self) -> None:
        if time.time() >= self._rate_reset:
            self._rate_remaining = self._rate_limit
            self._rate_reset = int(time.time()) + _RATE_WINDOW_S

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self._rate_limit),
            "x-ratelimit-remaining": str(self._rate_remaining),
            "x-ratelimit-reset": str(self._rate_reset),
            "x-ratelimit-used": str(self._rate_limit - self._rate_remaining),
            "x-ratelimit-resource": "core",
        }

    def _build_routes(self) -> list[_Route]:
        repo = r"/repos/([^/]+/[^/]+)"
        return [
            _Route("GET", r"/rate_limit", self._get_rate_limit),
            _Route("GET", repo, self._get_repository),
            _Route("GET", repo + r"/actions/runs", self._list_runs),
            _Route("GET", repo + r"/actions/runs/(\d+)", self._get_run),
            _Route("GET", repo + r"/actions/runs/(\d+)/attempts/(\d+)", self._get_run),
            _Route("GET", repo + r"/actions/runs/(\d+)/jobs", self._list_jobs),
            _Route("GET", repo + r"/actions/runs/(\d+)/attempts/(\d+)/jobs", self._list_jobs),
            _Route("GET", repo + r"/actions/jobs/(\d+)", self._get_job),
            _Route("GET", repo + r"/actions/jobs/(\d+)/logs", self._get_job_logs),
            _Route("POST", repo + r"/actions/runs/(\d+)/rerun-failed-jobs", self._rerun_failed),
        ]

    # -- endpoints -------------------------------------------------------------------------

    def _get_rate_limit(self, query: dict[str, list[str]]) -> _Response:
        body = copy.deepcopy(self._examples["rate-limit-overview"])
        core = {
            "limit": self._rate_limit,
            "used": self._rate_limit - self._rate_remaining,
            "remaining": self._rate_remaining,
            "reset": self._rate_reset,
        }
        body["resources"]["core"] = core
        body["rate"] = dict(core)
        # GitHub: "Accessing this endpoint does not count against your REST API rate limit."
        return _json(body, counts=False)

    def _get_repository(self, query: dict[str, list[str]], full_name: str) -> _Response:
        repository = self._repositories.get(full_name)
        if repository is None:
            return _not_found()
        return _json(self._repository_json(repository))

    def _list_runs(self, query: dict[str, list[str]], full_name: str) -> _Response:
        if full_name not in self._repositories:
            return _not_found()
        runs = [run for run in self._runs.values() if run.repository == full_name]
        runs = [run for run in runs if _run_matches(run, query)]
        runs.sort(key=lambda run: (run.created_at, run.run_id), reverse=True)
        page, links = _paginate(runs, query, self.url + f"/repos/{full_name}/actions/runs")
        body = {
            "total_count": len(runs),
            "workflow_runs": [self._run_json(run, run.latest) for run in page],
        }
        return _json(body, headers=links)

    def _get_run(
        self, query: dict[str, list[str]], full_name: str, run_id: str, number: str | None = None
    ) -> _Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return _not_found()
        attempt = run.latest if number is None else run.attempt(int(number))
        if attempt is None:
            return _not_found()
        body = self._run_json(run, attempt)
        attempt.observe()  # the answer shows the state before this poll advanced it
        return _json(body)

    def _list_jobs(
        self, query: dict[str, list[str]], full_name: str, run_id: str, number: str | None = None
    ) -> _Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return _not_found()
        if number is not None:
            attempt = run.attempt(int(number))
            if attempt is None:
                return _not_found()
            attempts = [attempt]
        elif _first(query, "filter") == "all":
            attempts = list(run.attempts)
        else:
            attempts = [run.latest]
        jobs = [(attempt, job) for attempt in attempts for job in attempt.jobs]
        base = self.url + f"/repos/{full_name}/actions/runs/{run_id}"
        base += f"/attempts/{number}/jobs" if number is not None else "/jobs"
        page, links = _paginate(jobs, query, base)
        body = {
            "total_count": len(jobs),
            "jobs": [self._job_json(run, attempt, job) for attempt, job in page],
        }
        return _json(body, headers=links)

    def _get_job(self, query: dict[str, list[str]], full_name: str, job_id: str) -> _Response:
        found = self._find_job(full_name, int(job_id))
        if found is None:
            return _not_found()
        return _json(self._job_json(*found))

    def _get_job_logs(self, query: dict[str, list[str]], full_name: str, job_id: str) -> _Response:
        found = self._find_job(full_name, int(job_id))
        if found is None:
            return _not_found()
        run, attempt, _job = found
        if run.logs_expired:
            return _error(HTTPStatus.GONE, "Logs have expired and are no longer available.")
        if attempt.status != "completed":
            return _not_found()  # GitHub has no downloadable log until the job finishes
        expires = int(time.time()) + _BLOB_LINK_TTL_S
        location = f"{self.url}/_blobs/joblogs/{job_id}?" + urlencode(
            {"expires": expires, "sig": self._sign(job_id, expires)}
        )
        return _Response(HTTPStatus.FOUND, headers={"Location": location})

    def _rerun_failed(self, query: dict[str, list[str]], full_name: str, run_id: str) -> _Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return _not_found()
        if run.latest.status != "completed":
            return _error(HTTPStatus.FORBIDDEN, "This workflow is already running", _RERUN_DOCS)
        if run.latest.final_conclusion not in _FAILING_CONCLUSIONS:
            return _error(HTTPStatus.FORBIDDEN, "This workflow run has no failed jobs", _RERUN_DOCS)
        rerun_index = min(len(run.attempts) - 1, len(run.rerun_conclusions) - 1)
        self._new_attempt(
            run,
            run.rerun_conclusions[rerun_index],
            started_at=_now(),
            polls=run.polls_until_complete,
        )
        return _json({}, status=HTTPStatus.CREATED)

    def _serve_blob(self, path: str, query: dict[str, list[str]]) -> _Response:
        """The signed log download GitHub redirects to: no auth header, a short-lived link."""
        match = re.fullmatch(r"/_blobs/joblogs/(\d+)", path)
        if match is None:
            return _text(HTTPStatus.NOT_FOUND, "BlobNotFound")
        job_id, expires = match.group(1), _first(query, "expires") or "0"
        signature = _first(query, "sig") or ""
        if not hmac.compare_digest(signature, self._sign(job_id, int(expires))):
            return _text(HTTPStatus.FORBIDDEN, "AuthenticationFailed")
        if int(expires) < time.time():
            return _text(HTTPStatus.FORBIDDEN, "AuthenticationFailed: link expired")
        found = self._jobs.get(int(job_id))
        if found is None:
            return _text(HTTPStatus.NOT_FOUND, "BlobNotFound")
        run, attempt, job = found
        return _text(HTTPStatus.OK, self._job_log(run, attempt, job))

    # -- state helpers ---------------------------------------------------------------------

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _workflow_id(self, repository: str, workflow_name: str) -> int:
        key = (repository, workflow_name)
        if key not in self._workflow_ids:
            self._workflow_ids[key] = 160_000 + len(self._workflow_ids) + 1
        return self._workflow_ids[key]

    def _next_run_number(self, repository: str) -> int:
        self._run_numbers[repository] = self._run_numbers.get(repository, 0) + 1
        return self._run_numbers[repository]

    def _new_attempt(
        self, run: _Run, conclusion: str, *, started_at: datetime, polls: int
    ) -> _Attempt:
        failed_log = run.log_text
        jobs = [
            _Job(self._next_id("job"), _PASSING_JOB, None, ""),
            _Job(self._next_id("job"), run.failed_job_name, run.failed_step, failed_log),
        ]
        attempt = _Attempt(
            number=len(run.attempts) + 1,
            final_conclusion=conclusion,
            jobs=jobs,
            started_at=started_at,
            polls_until_complete=polls,
            completed_at=started_at if polls == 0 else None,
        )
        run.attempts.append(attempt)
        for job in jobs:
            self._jobs[job.job_id] = (run, attempt, job)
        return attempt

    def _find_run(self, full_name: str, run_id: int) -> _Run | None:
        run = self._runs.get(run_id)
        return run if run is not None and run.repository == full_name else None

    def _get_run_or_raise(self, repository: str, run_id: int) -> _Run:
        run = self._find_run(repository, run_id)
        if run is None:
            raise KeyError(f"no run {run_id} in {repository}")
        return run

    def _find_job(self, full_name: str, job_id: int) -> tuple[_Run, _Attempt, _Job] | None:
        found = self._jobs.get(job_id)
        return found if found is not None and found[0].repository == full_name else None

    def _sign(self, job_id: str, expires: int) -> str:
        message = f"{job_id}:{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    # -- JSON builders (each starts from GitHub's published example) -----------------------

    def _rebranded(self, example: str, full_name: str) -> dict[str, Any]:
        """Deep-copy an example and point its urls and names at this sandbox and repository."""
        owner = full_name.split("/", 1)[0]
        replacements = (
            ("https://api.github.com", self.url),
            ("https://github.com", self.url),
            ("octocat/Hello-World", full_name),
            ("octo-org/octo-repo", full_name),
            ("/users/octocat", f"/users/{owner}"),
            ("/orgs/octocat", f"/orgs/{owner}"),
        )
        return cast(dict[str, Any], _replace_strings(self._examples[example], replacements))

    def _owner_json(self, template: dict[str, Any], repository: _Repository) -> dict[str, Any]:
        owner = copy.deepcopy(template)
        owner.update(
            login=repository.owner,
            id=repository.owner_id,
            node_id=_node_id("User", repository.owner_id),
        )
        return owner

    def _minimal_repository_json(
        self, template: dict[str, Any], repository: _Repository
    ) -> dict[str, Any]:
        body = copy.deepcopy(template)
        body.update(
            id=repository.repo_id,
            node_id=_node_id("Repository", repository.repo_id),
            name=repository.name,
            full_name=repository.full_name,
            private=repository.private,
            owner=self._owner_json(template["owner"], repository),
            description=f"Sandbox repository {repository.full_name}",
        )
        return body

    def _repository_json(self, repository: _Repository) -> dict[str, Any]:
        body = self._rebranded("full-repository", repository.full_name)
        body = self._minimal_repository_json(body, repository)
        # parent/source only exist for forks; a sandbox repository is never a fork.
        body.pop("parent", None)
        body.pop("source", None)
        body.update(
            fork=False,
            template_repository=None,
            default_branch=repository.default_branch,
            visibility="private" if repository.private else "public",
            organization=self._owner_json(body["organization"], repository),
            created_at=_iso(repository.created_at),
            updated_at=_iso(repository.created_at),
            pushed_at=_iso(repository.created_at),
        )
        return body

    def _run_json(self, run: _Run, attempt: _Attempt) -> dict[str, Any]:
        repository = self._repositories[run.repository]
        body = self._rebranded("workflow-run", run.repository)
        api = f"{self.url}/repos/{run.repository}"
        run_url = f"{api}/actions/runs/{run.run_id}"
        workflow_file = re.sub(r"[^a-z0-9]+", "-", run.workflow_name.lower()).strip("-") or "ci"
        updated = attempt.completed_at or attempt.started_at
        body.update(
            id=run.run_id,
            name=run.workflow_name,
            node_id=_node_id("WorkflowRun", run.run_id),
            check_suite_id=run.run_id * 10 + attempt.number,
            check_suite_node_id=_node_id("CheckSuite", run.run_id * 10 + attempt.number),
            head_branch=run.head_branch,
            head_sha=run.head_sha,
            path=f".github/workflows/{workflow_file}.yml@{run.head_branch}",
            run_number=run.run_number,
            event=run.event,
            display_title=f"{run.workflow_name} on {run.head_branch}",
            status=attempt.status,
            conclusion=attempt.conclusion,
            workflow_id=run.workflow_id,
            url=run_url,
            html_url=f"{self.url}/{run.repository}/actions/runs/{run.run_id}",
            created_at=_iso(run.created_at),
            updated_at=_iso(updated),
            run_attempt=attempt.number,
            referenced_workflows=[],
            run_started_at=_iso(attempt.started_at),
            jobs_url=f"{run_url}/jobs",
            logs_url=f"{run_url}/logs",
            check_suite_url=f"{api}/check-suites/{run.run_id * 10 + attempt.number}",
            artifacts_url=f"{run_url}/artifacts",
            cancel_url=f"{run_url}/cancel",
            rerun_url=f"{run_url}/rerun",
            previous_attempt_url=(
                f"{run_url}/attempts/{attempt.number - 1}" if attempt.number > 1 else None
            ),
            workflow_url=f"{api}/actions/workflows/{run.workflow_id}",
            repository=self._minimal_repository_json(body["repository"], repository),
            head_repository=self._minimal_repository_json(body["head_repository"], repository),
        )
        body["head_commit"].update(id=run.head_sha, timestamp=_iso(run.created_at))
        return body

    def _job_json(self, run: _Run, attempt: _Attempt, job: _Job) -> dict[str, Any]:
        body = self._rebranded("job", run.repository)
        api = f"{self.url}/repos/{run.repository}"
        conclusion = _job_conclusion(attempt, job)
        status = attempt.status
        completed = attempt.completed_at if status == "completed" else None
        body.update(
            id=job.job_id,
            run_id=run.run_id,
            run_url=f"{api}/actions/runs/{run.run_id}",
            run_attempt=attempt.number,
            node_id=_node_id("CheckRun", job.job_id),
            head_sha=run.head_sha,
            url=f"{api}/actions/jobs/{job.job_id}",
            html_url=f"{self.url}/{run.repository}/actions/runs/{run.run_id}/job/{job.job_id}",
            status=status,
            conclusion=conclusion,
            created_at=_iso(attempt.started_at),
            started_at=_iso(attempt.started_at),
            completed_at=_iso(completed) if completed else None,
            name=job.name,
            steps=_steps_json(body["steps"][0], attempt, job, conclusion),
            check_run_url=f"{api}/check-runs/{job.job_id}",
            labels=["ubuntu-latest"],
            runner_id=None if status == "queued" else 1,
            runner_name=None if status == "queued" else "GitHub Actions 1",
            runner_group_id=None if status == "queued" else 1,
            runner_group_name=None if status == "queued" else "GitHub Actions",
            workflow_name=run.workflow_name,
            head_branch=run.head_branch,
        )
        return body

    def _job_log(self, run: _Run, attempt: _Attempt, job: _Job) -> str:
        if _job_conclusion(attempt, job) in _FAILING_CONCLUSIONS:
            return job.log_text
        return _success_log(job, attempt.started_at)


# -- module helpers ------------------------------------------------------------------------


def _load_examples() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data/github_examples.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text)["examples"])


def _validate_full_name(full_name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", full_name):
        raise ValueError(f"repository must look like 'owner/name', got {full_name!r}")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fake_sha(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:40]


def _node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _replace_strings(value: Any, replacements: Sequence[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: _replace_strings(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_strings(item, replacements) for item in value]
    return value


def _job_conclusion(attempt: _Attempt, job: _Job) -> str | None:
    if attempt.status != "completed":
        return None
    if job.failed_step is None or attempt.final_conclusion not in _FAILING_CONCLUSIONS:
        return "success"
    return attempt.final_conclusion


def _steps_json(
    template: dict[str, Any], attempt: _Attempt, job: _Job, conclusion: str | None
) -> list[dict[str, Any]]:
    if attempt.status == "queued":
        return []
    names = [name.format(failed_step=job.failed_step or "Run make") for name in _STEPS]
    names.append("Complete job")
    if attempt.status == "in_progress":
        names = names[:1]
    steps = []
    for number, name in enumerate(names, start=1):
        step = copy.deepcopy(template)
        step_conclusion: str | None = "success"
        if attempt.status != "completed":
            step_conclusion = None
        elif job.failed_step is not None and name == job.failed_step:
            step_conclusion = conclusion
        step.update(
            name=name,
            number=number,
            status="completed" if step_conclusion else "in_progress",
            conclusion=step_conclusion,
            started_at=_iso(attempt.started_at + timedelta(seconds=number)),
            completed_at=(
                _iso(attempt.started_at + timedelta(seconds=number + 1))
                if step_conclusion
                else None
            ),
        )
        steps.append(step)
    return steps


def _success_log(job: _Job, started_at: datetime) -> str:
    stamp = started_at.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    lines = [
        "##[group]Run actions/checkout@v4",
        "Syncing repository",
        "##[endgroup]",
        f"##[group]{job.failed_step or 'Run make'}",
        "All checks passed.",
        "##[endgroup]",
        "Cleaning up orphan processes",
    ]
    return "\ufeff" + "".join(f"{stamp} {line}\n" for line in lines)


def _run_matches(run: _Run, query: dict[str, list[str]]) -> bool:
    attempt = run.latest
    status = _first(query, "status")
    if status:
        observed = attempt.status if status in _RUN_STATUSES else attempt.conclusion
        if observed != status:
            return False
    for name, actual in (("branch", run.head_branch), ("event", run.event)):
        wanted = _first(query, name)
        if wanted and wanted != actual:
            return False
    head_sha = _first(query, "head_sha")
    if head_sha and head_sha != run.head_sha:
        return False
    created = _first(query, "created")
    return not created or _created_matches(run.created_at, created)


def _created_matches(created_at: datetime, expression: str) -> bool:
    """GitHub's `created` search qualifier: >=X, >X, <=X, <X, X..Y (dates or datetimes)."""
    if ".." in expression:
        low, high = expression.split("..", 1)
        return (low == "*" or created_at >= _parse_when(low)) and (
            high == "*" or created_at <= _parse_when(high)
        )
    for operator, test in _CREATED_OPERATORS:
        if expression.startswith(operator):
            return test(created_at, _parse_when(expression[len(operator) :]))
    return created_at.date() == _parse_when(expression).date()


_CREATED_OPERATORS: tuple[tuple[str, Callable[[datetime, datetime], bool]], ...] = (
    (">=", lambda a, b: a >= b),
    ("<=", lambda a, b: a <= b),
    (">", lambda a, b: a > b),
    ("<", lambda a, b: a < b),
)


def _parse_when(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _page_numbers(query: dict[str, list[str]]) -> tuple[int, int]:
    def as_int(name: str, default: int) -> int:
        try:
            return int(_first(query, name) or default)
        except ValueError:
            return default

    per_page = min(max(as_int("per_page", _DEFAULT_PER_PAGE), 1), _MAX_PER_PAGE)
    return max(as_int("page", 1), 1), per_page


def _paginate(
    items: list[_T], query: dict[str, list[str]], base_url: str
) -> tuple[list[_T], dict[str, str]]:
    """Slice one page and build GitHub's Link header (prev, next, last, first)."""
    page, per_page = _page_numbers(query)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]

    def link(number: int, rel: str) -> str:
        params = {key: values for key, values in query.items() if key != "page"}
        params["page"] = [str(number)]
        return f'<{base_url}?{urlencode(params, doseq=True)}>; rel="{rel}"'

    rels: list[str] = []
    if page > 1:
        rels.append(link(min(page - 1, last), "prev"))
    if page < last:
        rels += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        rels.append(link(1, "first"))
    return chunk, ({"Link": ", ".join(rels)} if rels else {})


def _json(
    body: Any,
    *,
    status: int = HTTPStatus.OK,
    headers: dict[str, str] | None = None,
    counts: bool = True,
) -> _Response:
    payload = json.dumps(body, separators=(",", ":")).encode()
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return _Response(status, payload, all_headers, counts)


def _text(status: int, text: str) -> _Response:
    return _Response(status, text.encode("utf-8"), {"Content-Type": "text/plain; charset=utf-8"})


def _error(
    status: int, message: str, documentation_url: str = _DOCS, *, counts: bool = True
) -> _Response:
    body = {"message": message, "documentation_url": documentation_url, "status": str(status)}
    return _json(body, status=status, counts=counts)


def _not_found() -> _Response:
    return _error(HTTPStatus.NOT_FOUND, "Not Found")


def _rate_limited() -> _Response:
    # GitHub's primary-limit answer; PyGithub recognises it by this message prefix.
    return _error(
        HTTPStatus.FORBIDDEN,
        "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
        "please include the request ID.",
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        counts=False,
    )


def _conditional(response: _Response, if_none_match: str | None) -> _Response:
    """ETag / If-None-Match: a 304 costs no rate budget on GitHub, so pollers can use it."""
    if response.status != HTTPStatus.OK:
        return response
    etag = 'W/"' + hashlib.sha256(response.body).hexdigest() + '"'
    response.headers["ETag"] = etag
    if if_none_match and if_none_match in (etag, etag.removeprefix("W/")):
        return _Response(
            HTTPStatus.NOT_MODIFIED, b"", {"ETag": etag}, counts_against_rate_limit=False
        )
    return response
