"""A GitHub REST stand-in that the real PyGithub client talks to over HTTP.

The machines ci-remediator is built and tested on cannot reach GitHub, so this server speaks
the same protocol for the endpoints the service uses: runs (per repository or per workflow),
attempts, jobs, job logs (through a 302 to a signed blob URL, as GitHub does), the
remediation actions (rerun, rerun-failed-jobs, cancel, cache deletion, workflow dispatch,
issues), organisation and installation repository lists, GitHub App installation tokens and
rate_limit. Bodies are GitHub's published examples filled in (`github_json`), so field names
and types match what PyGithub expects.

Outcomes are scripted per run (what each rerun concludes, how many polls a rerun stays
running, a refused rerun), errors, latency and the rate budget per request, and every request
is recorded so tests can assert on what was asked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ci_remediator.sandbox.github_app import (
    AppRegistry,
    Installation,
    JWTRejectedError,
    permissions_granted,
)
from ci_remediator.sandbox.github_http import (
    RecordedRequest,
    Request,
    Response,
    Route,
    conditional,
    error,
    first,
    json_response,
    not_found,
    paginate,
    rate_limited,
    secondary_rate_limited,
    text_response,
    validation_failed,
)
from ci_remediator.sandbox.github_json import Payloads
from ci_remediator.sandbox.github_state import (
    FAILING_CONCLUSIONS,
    Attempt,
    AttemptRecord,
    Cache,
    DispatchRecord,
    Issue,
    IssueRecord,
    Job,
    Repository,
    Run,
    Workflow,
    job_log,
    label_names,
    now,
    rerun_refusal,
    run_matches,
)
from ci_remediator.sandbox.server import LoopbackSandbox

__all__ = [
    "AttemptRecord",
    "DispatchRecord",
    "GitHubSandbox",
    "IssueRecord",
    "RecordedRequest",
]

_RUNS_DOCS = "https://docs.github.com/rest/actions/workflow-runs"
_RERUN_DOCS = f"{_RUNS_DOCS}#re-run-failed-jobs-from-a-workflow-run"
_DISPATCH_DOCS = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"
_APP_DOCS = "https://docs.github.com/rest/apps/apps"
_RATE_LIMIT = 5000
_RATE_WINDOW_S = 3600
_BLOB_LINK_TTL_S = 60  # GitHub's signed log links expire after one minute
_PASSING_JOB = "prepare"
# Requests that are not REST API calls: excluded from the request-rate measurement.
_NOT_API = re.compile(r"/rate_limit|/_blobs/.*")


@dataclass(slots=True)
class _InjectedError:
    status: int
    method: str | None
    path_pattern: str
    remaining: int
    message: str | None
    retry_after_s: int | None


@dataclass(slots=True)
class _Latency:
    seconds: float
    method: str | None
    path_pattern: str
    remaining: int | None  # None: every matching request


class GitHubSandbox(LoopbackSandbox):
    """A thread-safe, in-memory GitHub Actions REST server on 127.0.0.1 (OS-chosen port)."""

    server_name = "GitHub.com"

    def __init__(self) -> None:
        super().__init__()
        self._payloads = Payloads(base_url=lambda: self.url, owner_id=self._owner_id)
        self._signing_key = secrets.token_bytes(32)
        self._requests: list[RecordedRequest] = []
        self._repositories: dict[str, Repository] = {}
        self._workflows: dict[int, Workflow] = {}
        self._runs: dict[int, Run] = {}
        self._jobs: dict[int, tuple[Run, Attempt, Job]] = {}
        self._caches: dict[int, Cache] = {}
        self._issues: dict[tuple[str, int], Issue] = {}
        self._dispatches: dict[str, list[DispatchRecord]] = {}
        self._owner_ids: dict[str, int] = {}
        self._ids = {
            "repo": 100_000,
            "owner": 1_000,
            "workflow": 160_000,
            "run": 7_000_000,
            "job": 20_000_000,
            "cache": 500,
            "issue": 900_000,
        }
        self._run_numbers: dict[str, int] = {}
        self._issue_numbers: dict[str, int] = {}
        self._apps = AppRegistry()
        self._injected: list[_InjectedError] = []
        self._latencies: list[_Latency] = []
        self._revoked_tokens: set[str] = set()
        self._rate_limit = _RATE_LIMIT
        self._rate_remaining = _RATE_LIMIT
        self._rate_reset = int(time.time()) + _RATE_WINDOW_S
        self._routes = self._build_routes()

    # -- scripting: repositories, workflows, runs ------------------------------------------

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
            self._repositories[full_name] = Repository(
                repo_id=self._next_id("repo"),
                owner_id=self._owner_id(full_name.split("/", 1)[0]),
                full_name=full_name,
                default_branch=default_branch,
                private=private,
                created_at=now() - timedelta(days=400),
            )

    def add_workflow(
        self, repository: str, name: str, path: str | None = None, dispatchable: bool = True
    ) -> int:
        """Add (or reconfigure) a workflow; returns its id.

        `path` defaults to `.github/workflows/<name as a slug>.yml`. Only a `dispatchable`
        workflow (one with a `workflow_dispatch` trigger) accepts dispatches. Workflows that
        only appear through `add_failed_run`/`add_successful_run` are not dispatchable.
        """
        with self._lock:
            workflow = self._workflow(repository, name)
            workflow.path = path or workflow.path
            workflow.dispatchable = dispatchable
            return workflow.workflow_id

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

        `conclusion` is one of failure, timed_out, cancelled or startup_failure. Each rerun
        concludes with the next item of `rerun_conclusions` (the last repeats) after staying
        queued/in progress for `polls_until_complete` GETs of the run.
        """
        if conclusion not in FAILING_CONCLUSIONS:
            raise ValueError(f"conclusion must be one of {sorted(FAILING_CONCLUSIONS)}")
        return self._add_run(
            repository,
            workflow_name=workflow_name,
            job_name=job_name,
            log_text=log_text,
            conclusion=conclusion,
            failed_step=failed_step,
            rerun_conclusions=rerun_conclusions,
            polls_until_complete=polls_until_complete,
            head_branch=head_branch,
            event=event,
            created_at=created_at,
            head_sha=head_sha,
        )

    def add_successful_run(
        self,
        repository: str,
        *,
        workflow_name: str,
        job_name: str,
        log_text: str,
        head_branch: str = "main",
        created_at: datetime | None = None,
        event: str = "push",
        head_sha: str | None = None,
    ) -> int:
        """Add a completed, successful run (a baseline) with one job whose log is `log_text`."""
        return self._add_run(
            repository,
            workflow_name=workflow_name,
            job_name=job_name,
            log_text=log_text,
            conclusion="success",
            failed_step=None,
            rerun_conclusions=("success",),
            polls_until_complete=1,
            head_branch=head_branch,
            event=event,
            created_at=created_at,
            head_sha=head_sha,
        )

    def expire_logs(self, repository: str, run_id: int) -> None:
        """Make every job log of the run answer 410 Gone, as GitHub does after retention."""
        with self._lock:
            self._get_run_or_raise(repository, run_id).logs_expired = True

    def refuse_rerun(self, repository: str, run_id: int, status: int, message: str) -> None:
        """Answer every rerun request of this run (either kind) with `status` and `message`."""
        with self._lock:
            self._get_run_or_raise(repository, run_id).refusal = (status, message)

    def add_cache(
        self,
        repository: str,
        key: str,
        ref: str = "refs/heads/main",
        *,
        size_in_bytes: int = 1024,
    ) -> int:
        """Add an Actions cache entry; returns its id."""
        with self._lock:
            if repository not in self._repositories:
                self.add_repository(repository)
            cache = Cache(self._next_id("cache"), repository, key, ref, size_in_bytes, now())
            self._caches[cache.cache_id] = cache
            return cache.cache_id

    # -- scripting: GitHub App -------------------------------------------------------------

    def register_app(
        self,
        app_id: int,
        *,
        installation_id: int,
        repositories: list[str] | None = None,
        account: str | None = None,
        token_ttl_s: int = 3600,
    ) -> str:
        """Install GitHub App `app_id`; returns the app's private key PEM (one per app).

        The installation covers `repositories` ("selected"), or with None every repository of
        `account` ("all"; every repository of the sandbox when `account` is None too).
        Installation tokens expire after `token_ttl_s` (GitHub: one hour).
        """
        with self._lock:
            for full_name in repositories or ():
                if full_name not in self._repositories:
                    self.add_repository(full_name)
            if account is None and repositories:
                account = repositories[0].split("/", 1)[0]
            return self._apps.register(
                app_id,
                installation_id=installation_id,
                repositories=tuple(repositories) if repositories is not None else None,
                account=account,
                token_ttl_s=token_ttl_s,
            )

    # -- scripting: failures, latency, rate limits, credentials ------------------------------

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
        """Answer the next `times` matching API requests with `status` (5xx, 429, ...).

        Without `message`, 403 and 429 carry GitHub's secondary-rate-limit body (what those
        statuses mean when they come back unasked); other statuses their reason phrase.
        """
        with self._lock:
            self._injected.append(
                _InjectedError(
                    status=status,
                    method=method.upper() if method else None,
                    path_pattern=path_pattern,
                    remaining=times,
                    message=message,
                    retry_after_s=retry_after_s,
                )
            )

    def set_latency(
        self,
        seconds: float,
        *,
        path_pattern: str = ".*",
        method: str | None = None,
        times: int | None = None,
    ) -> None:
        """Delay the answers to matching requests (the next `times`, or all when None).

        The most recently set matching rule applies, so `set_latency(0)` turns latency off.
        The sleep happens after the request took effect and outside the lock: other requests
        proceed meanwhile, and a client that times out cannot tell whether its POST happened,
        as with a slow GitHub.
        """
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        with self._lock:
            self._latencies.append(
                _Latency(seconds, method.upper() if method else None, path_pattern, times)
            )

    def set_rate_limit(
        self, *, remaining: int, limit: int = _RATE_LIMIT, reset_in_s: int = _RATE_WINDOW_S
    ) -> None:
        """Set the primary rate budget; at 0, API requests get GitHub's 403 rate-limit answer."""
        with self._lock:
            self._rate_limit, self._rate_remaining = limit, remaining
            self._rate_reset = int(time.time()) + reset_in_s

    def revoke_token(self, token: str) -> None:
        """Requests with this token (a PAT or an installation token) get 401 "Bad credentials"."""
        with self._lock:
            self._revoked_tokens.add(token)

    # -- inspection ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def counted_requests(self, since: float | None = None) -> list[RecordedRequest]:
        """Requests that spent primary rate budget, arrived at or after `since` (time.time())."""
        return [
            request
            for request in self.requests
            if request.counted and (since is None or request.arrived_at >= since)
        ]

    def max_requests_in_window(self, window_s: float = 60.0) -> int:
        """The most API requests that arrived within any `window_s` seconds (what GitHub's
        secondary limits watch); /rate_limit and log blob downloads are not API requests."""
        arrivals = sorted(r.arrived_at for r in self.requests if not _NOT_API.fullmatch(r.path))
        most, start = 0, 0
        for end, arrived in enumerate(arrivals):
            while arrived - arrivals[start] >= window_s:
                start += 1
            most = max(most, end - start + 1)
        return most

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

    def attempts(self, repository: str, run_id: int) -> list[AttemptRecord]:
        with self._lock:
            return [a.record() for a in self._get_run_or_raise(repository, run_id).attempts]

    def issues(self, repository: str) -> list[IssueRecord]:
        with self._lock:
            found = [issue for (repo, _), issue in self._issues.items() if repo == repository]
            return [issue.record() for issue in sorted(found, key=lambda i: i.number)]

    def dispatches(self, repository: str) -> list[DispatchRecord]:
        with self._lock:
            return list(self._dispatches.get(repository, ()))

    @property
    def tokens_issued(self) -> int:
        with self._lock:
            return self._apps.tokens_issued

    @property
    def routes(self) -> list[tuple[str, str]]:
        """(method, GitHub path template) of every endpoint served."""
        return [(route.method, route.template) for route in self._routes]

    def run_json(
        self, repository: str, run_id: int, *, attempt: int | None = None
    ) -> dict[str, Any]:
        """The run as GET would answer it, without counting as a poll (for webhook payloads)."""
        with self._lock:
            run, found = self._attempt_or_raise(repository, run_id, attempt)
            return self._run_json(run, found)

    def jobs_json(
        self, repository: str, run_id: int, *, attempt: int | None = None
    ) -> list[dict[str, Any]]:
        """The attempt's jobs as GET .../jobs would list them (for webhook payloads)."""
        with self._lock:
            run, found = self._attempt_or_raise(repository, run_id, attempt)
            return [self._payloads.job(run, found, job) for job in found.jobs]

    def repository_json(self, repository: str) -> dict[str, Any]:
        with self._lock:
            found = self._repositories.get(repository)
            if found is None:
                raise KeyError(f"no repository {repository}")
            return self._payloads.repository(found)

    # -- request handling ------------------------------------------------------------------

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        at, arrived_at = time.monotonic(), time.time()
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            if parts.path.startswith("/_blobs/"):
                response = self._serve_blob(parts.path, query)
                response.counts_against_rate_limit = False
            else:
                request = Request(method, parts.path, query, headers, body)
                response = self._answer_api(request)
            self._requests.append(
                RecordedRequest(
                    method,
                    parts.path,
                    query,
                    headers,
                    body,
                    at,
                    response.counts_against_rate_limit,
                    arrived_at,
                )
            )
            delay = self._take_latency(method, parts.path)
        if delay:
            time.sleep(delay)
        return response

    def _answer_api(self, request: Request) -> Response:
        request_id = secrets.token_hex(8).upper()
        response = self._handle_api(request, request_id)
        if response.counts_against_rate_limit and self._rate_remaining > 0:
            self._rate_remaining -= 1
        response.headers.update(self._rate_headers())
        response.headers.setdefault("X-GitHub-Api-Version-Selected", "2022-11-28")
        response.headers["X-GitHub-Request-Id"] = request_id
        return response

    def _handle_api(self, request: Request, request_id: str) -> Response:
        refused = (
            self._check_auth(request)
            or self._check_rate_budget(request)
            or self._take_injected_error(request, request_id)
        )
        return refused if refused is not None else self._route(request)

    def _route(self, request: Request) -> Response:
        for route in self._routes:
            params = route.match(request.method, request.path)
            if params is None:
                continue
            if not self._token_reaches(request.token, params.get("full_name")):
                return not_found()  # GitHub hides repositories an installation cannot see
            response = route.handler(request, **params)
            if request.method != "GET":
                return response
            return conditional(response, request.headers.get("if-none-match"))
        return not_found()

    def _check_auth(self, request: Request) -> Response | None:
        if not request.headers.get("authorization"):
            return error(HTTPStatus.UNAUTHORIZED, "Requires authentication", counts=False)
        token = request.token
        issued = self._apps.token(token)
        # An installation token is good only if this sandbox issued it and it has not expired.
        dead_installation_token = issued.expired if issued else token.startswith("ghs_")
        if token in self._revoked_tokens or dead_installation_token:
            return error(HTTPStatus.UNAUTHORIZED, "Bad credentials", counts=False)
        return None

    def _token_reaches(self, token: str, full_name: str | None) -> bool:
        issued = self._apps.token(token)
        if issued is None or full_name is None:
            return True
        installation = self._apps.installation(issued.installation_id)
        return installation is not None and installation.covers(full_name)

    def _take_injected_error(self, request: Request, request_id: str) -> Response | None:
        for injected in self._injected:
            if injected.method not in (None, request.method):
                continue
            if not re.fullmatch(injected.path_pattern, request.path):
                continue
            injected.remaining -= 1
            if injected.remaining <= 0:
                self._injected.remove(injected)
            if injected.message is None and injected.status in (403, 429):
                response = secondary_rate_limited(injected.status, request_id)
            else:
                message = injected.message or HTTPStatus(injected.status).phrase
                response = error(injected.status, message)
            if injected.retry_after_s is not None:
                response.headers["Retry-After"] = str(injected.retry_after_s)
            return response
        return None

    def _take_latency(self, method: str, path: str) -> float:
        for latency in reversed(self._latencies):
            if latency.method not in (None, method):
                continue
            if not re.fullmatch(latency.path_pattern, path):
                continue
            if latency.remaining is not None:
                latency.remaining -= 1
                if latency.remaining <= 0:
                    self._latencies.remove(latency)
            return latency.seconds
        return 0.0

    def _check_rate_budget(self, request: Request) -> Response | None:
        if time.time() >= self._rate_reset:
            self._rate_remaining = self._rate_limit
            self._rate_reset = int(time.time()) + _RATE_WINDOW_S
        if request.path != "/rate_limit" and self._rate_remaining <= 0:
            return rate_limited()
        return None

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self._rate_limit),
            "x-ratelimit-remaining": str(self._rate_remaining),
            "x-ratelimit-reset": str(self._rate_reset),
            "x-ratelimit-used": str(self._rate_limit - self._rate_remaining),
            "x-ratelimit-resource": "core",
        }

    def _build_routes(self) -> list[Route]:
        repo = "/repos/{owner}/{repo}"
        runs = repo + "/actions/runs"
        return [
            Route("GET", "/rate_limit", self._get_rate_limit),
            Route("GET", repo, self._get_repository),
            Route("GET", runs, self._list_runs),
            Route("GET", runs + "/{run_id}", self._get_run),
            Route("GET", runs + "/{run_id}/attempts/{attempt_number}", self._get_run),
            Route("GET", runs + "/{run_id}/jobs", self._list_jobs),
            Route("GET", runs + "/{run_id}/attempts/{attempt_number}/jobs", self._list_jobs),
            Route("GET", repo + "/actions/jobs/{job_id}", self._get_job),
            Route("GET", repo + "/actions/jobs/{job_id}/logs", self._get_job_logs),
            Route("POST", runs + "/{run_id}/rerun-failed-jobs", self._rerun_failed_jobs),
            Route("POST", runs + "/{run_id}/rerun", self._rerun),
            Route("POST", runs + "/{run_id}/cancel", self._cancel),
            Route("GET", repo + "/actions/workflows", self._list_workflows),
            Route("GET", repo + "/actions/workflows/{workflow_id}", self._get_workflow),
            Route("GET", repo + "/actions/workflows/{workflow_id}/runs", self._list_runs),
            Route("POST", repo + "/actions/workflows/{workflow_id}/dispatches", self._dispatch),
            Route("GET", repo + "/actions/caches", self._list_caches),
            Route("DELETE", repo + "/actions/caches", self._delete_caches),
            Route("POST", repo + "/issues", self._create_issue),
            Route("GET", repo + "/issues/{issue_number}", self._get_issue),
            Route("PATCH", repo + "/issues/{issue_number}", self._update_issue),
            Route("GET", "/orgs/{org}/repos", self._list_org_repositories),
            Route("GET", repo + "/installation", self._get_repository_installation),
            Route("GET", "/app/installations/{installation_id}", self._get_installation),
            Route(
                "POST",
                "/app/installations/{installation_id}/access_tokens",
                self._create_installation_token,
            ),
            Route("GET", "/installation/repositories", self._list_installation_repositories),
        ]

    # -- endpoints: rate limit, repositories, runs, jobs, logs -------------------------------

    def _get_rate_limit(self, request: Request) -> Response:
        core = {
            "limit": self._rate_limit,
            "used": self._rate_limit - self._rate_remaining,
            "remaining": self._rate_remaining,
            "reset": self._rate_reset,
        }
        body = self._payloads.rate_limit(core)
        # GitHub: "Accessing this endpoint does not count against your REST API rate limit."
        return json_response(body, counts=False)

    def _get_repository(self, request: Request, full_name: str) -> Response:
        repository = self._repositories.get(full_name)
        if repository is None:
            return not_found()
        return json_response(self._payloads.repository(repository))

    def _list_runs(
        self, request: Request, full_name: str, workflow_id: str | None = None
    ) -> Response:
        if full_name not in self._repositories:
            return not_found()
        runs = [run for run in self._runs.values() if run.repository == full_name]
        if workflow_id is not None:
            workflow = self._find_workflow(full_name, workflow_id)
            if workflow is None:
                return not_found()
            runs = [run for run in runs if run.workflow is workflow]
        runs = [run for run in runs if run_matches(run, request.query)]
        runs.sort(key=lambda run: (run.created_at, run.run_id), reverse=True)
        page, links = paginate(runs, request.query, self.url + request.path)
        body = {
            "total_count": len(runs),
            "workflow_runs": [self._run_json(run, run.latest) for run in page],
        }
        return json_response(body, headers=links)

    def _get_run(
        self,
        request: Request,
        full_name: str,
        run_id: str,
        attempt_number: str | None = None,
    ) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        attempt = run.latest if attempt_number is None else run.attempt(int(attempt_number))
        if attempt is None:
            return not_found()
        body = self._run_json(run, attempt)
        attempt.observe()  # the answer shows the state before this poll advanced it
        return json_response(body)

    def _list_jobs(
        self,
        request: Request,
        full_name: str,
        run_id: str,
        attempt_number: str | None = None,
    ) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        if attempt_number is not None:
            attempt = run.attempt(int(attempt_number))
            if attempt is None:
                return not_found()
            attempts = [attempt]
        elif first(request.query, "filter") == "all":
            attempts = list(run.attempts)
        else:
            attempts = [run.latest]
        jobs = [(attempt, job) for attempt in attempts for job in attempt.jobs]
        page, links = paginate(jobs, request.query, self.url + request.path)
        body = {
            "total_count": len(jobs),
            "jobs": [self._payloads.job(run, attempt, job) for attempt, job in page],
        }
        return json_response(body, headers=links)

    def _get_job(self, request: Request, full_name: str, job_id: str) -> Response:
        found = self._find_job(full_name, int(job_id))
        if found is None:
            return not_found()
        return json_response(self._payloads.job(*found))

    def _get_job_logs(self, request: Request, full_name: str, job_id: str) -> Response:
        found = self._find_job(full_name, int(job_id))
        if found is None:
            return not_found()
        run, attempt, _job = found
        if run.logs_expired:
            return error(HTTPStatus.GONE, "Logs have expired and are no longer available.")
        if attempt.status != "completed":
            return not_found()  # GitHub has no downloadable log until the job finishes
        expires = int(time.time()) + _BLOB_LINK_TTL_S
        location = f"{self.url}/_blobs/joblogs/{job_id}?" + urlencode(
            {"expires": expires, "sig": self._sign(job_id, expires)}
        )
        return Response(HTTPStatus.FOUND, headers={"Location": location})

    def _serve_blob(self, path: str, query: dict[str, list[str]]) -> Response:
        """The signed log download GitHub redirects to: no auth header, a short-lived link."""
        match = re.fullmatch(r"/_blobs/joblogs/(\d+)", path)
        if match is None:
            return text_response(HTTPStatus.NOT_FOUND, "BlobNotFound")
        job_id, expires = match.group(1), first(query, "expires") or "0"
        signature = first(query, "sig") or ""
        if not hmac.compare_digest(signature, self._sign(job_id, int(expires))):
            return text_response(HTTPStatus.FORBIDDEN, "AuthenticationFailed")
        if int(expires) < time.time():
            return text_response(HTTPStatus.FORBIDDEN, "AuthenticationFailed: link expired")
        found = self._jobs.get(int(job_id))
        if found is None:
            return text_response(HTTPStatus.NOT_FOUND, "BlobNotFound")
        _run, attempt, job = found
        return text_response(HTTPStatus.OK, job_log(attempt, job))

    # -- endpoints: remediation actions ----------------------------------------------------

    def _rerun_failed_jobs(self, request: Request, full_name: str, run_id: str) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        refused = rerun_refusal(run)
        if refused is not None:
            return error(*refused, _RERUN_DOCS)
        if run.latest.final_conclusion not in FAILING_CONCLUSIONS:
            return error(HTTPStatus.FORBIDDEN, "This workflow run has no failed jobs", _RERUN_DOCS)
        self._start_rerun(run, "rerun-failed-jobs", debug_logging=False)
        return json_response({}, status=HTTPStatus.CREATED)

    def _rerun(self, request: Request, full_name: str, run_id: str) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        refused = rerun_refusal(run)
        if refused is not None:
            return error(*refused, _RERUN_DOCS)
        self._start_rerun(run, "rerun", debug_logging=body.get("enable_debug_logging") is True)
        return json_response({}, status=HTTPStatus.CREATED)

    def _cancel(self, request: Request, full_name: str, run_id: str) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        if run.latest.status == "completed":
            return error(
                HTTPStatus.CONFLICT,
                "Cannot cancel a workflow run that is completed.",
                f"{_RUNS_DOCS}#cancel-a-workflow-run",
            )
        run.latest.cancel()
        return json_response({}, status=HTTPStatus.ACCEPTED)

    def _list_workflows(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        workflows = [w for w in self._workflows.values() if w.repository == full_name]
        page, links = paginate(workflows, request.query, self.url + request.path)
        body = {
            "total_count": len(workflows),
            "workflows": [
                self._payloads.workflow(workflow, self._default_branch(workflow))
                for workflow in page
            ],
        }
        return json_response(body, headers=links)

    def _get_workflow(self, request: Request, full_name: str, workflow_id: str) -> Response:
        workflow = self._find_workflow(full_name, workflow_id)
        if workflow is None:
            return not_found()
        return json_response(self._payloads.workflow(workflow, self._default_branch(workflow)))

    def _dispatch(self, request: Request, full_name: str, workflow_id: str) -> Response:
        workflow = self._find_workflow(full_name, workflow_id)
        if workflow is None:
            return not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON", _DISPATCH_DOCS)
        ref = body.get("ref")
        if not isinstance(ref, str) or not ref:
            return validation_failed("ref", _DISPATCH_DOCS)
        if not workflow.dispatchable:
            return error(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "Workflow does not have 'workflow_dispatch' trigger",
                _DISPATCH_DOCS,
            )
        inputs = body.get("inputs") or {}
        if not isinstance(inputs, dict):
            return error(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                'Invalid request.\n\n"inputs" is not an object.',
                _DISPATCH_DOCS,
            )
        record = DispatchRecord(workflow.workflow_id, workflow.path, ref, inputs, time.time())
        self._dispatches.setdefault(full_name, []).append(record)
        return Response(HTTPStatus.NO_CONTENT)

    def _list_caches(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        key, ref = first(request.query, "key"), first(request.query, "ref")
        caches = [
            cache
            for cache in self._caches.values()
            if cache.repository == full_name
            and (key is None or cache.key.startswith(key))  # GitHub: "a key or prefix"
            and (ref is None or cache.ref == ref)
        ]
        sort = first(request.query, "sort") or "last_accessed_at"
        ascending = first(request.query, "direction") == "asc"
        caches.sort(key=lambda cache: _cache_sort_key(cache, sort), reverse=not ascending)
        page, links = paginate(caches, request.query, self.url + request.path)
        body = {
            "total_count": len(caches),
            "actions_caches": [self._payloads.cache(cache) for cache in page],
        }
        return json_response(body, headers=links)

    def _delete_caches(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        key, ref = first(request.query, "key"), first(request.query, "ref")
        if not key:
            return validation_failed("key")
        deleted = [
            cache
            for cache in self._caches.values()
            if cache.repository == full_name
            and cache.key == key  # deletion takes the complete key, not a prefix
            and (ref is None or cache.ref == ref)
        ]
        if not deleted:
            return not_found()
        for cache in deleted:
            del self._caches[cache.cache_id]
        body = {
            "total_count": len(deleted),
            "actions_caches": [self._payloads.cache(cache) for cache in deleted],
        }
        return json_response(body)

    def _create_issue(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            return validation_failed("title")
        number = self._issue_numbers.get(full_name, 0) + 1
        self._issue_numbers[full_name] = number
        issue = Issue(
            issue_id=self._next_id("issue"),
            number=number,
            repository=full_name,
            title=title,
            body=body.get("body"),
            labels=label_names(body.get("labels")),
            created_at=now(),
        )
        self._issues[(full_name, number)] = issue
        payload = self._payloads.issue(issue)
        return json_response(
            payload, status=HTTPStatus.CREATED, headers={"Location": payload["url"]}
        )

    def _get_issue(self, request: Request, full_name: str, issue_number: str) -> Response:
        issue = self._issues.get((full_name, int(issue_number)))
        if issue is None:
            return not_found()
        return json_response(self._payloads.issue(issue))

    def _update_issue(self, request: Request, full_name: str, issue_number: str) -> Response:
        issue = self._issues.get((full_name, int(issue_number)))
        if issue is None:
            return not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        state = body.get("state", issue.state)
        if state not in ("open", "closed"):
            return error(HTTPStatus.UNPROCESSABLE_ENTITY, "Validation Failed")
        issue.title = str(body.get("title", issue.title))
        issue.body = body.get("body", issue.body)
        if "labels" in body:
            issue.labels = label_names(body["labels"])
        issue.set_state(state, body.get("state_reason"))
        issue.updated_at = now()
        return json_response(self._payloads.issue(issue))

    # -- endpoints: organisations and GitHub App installations -------------------------------

    def _list_org_repositories(self, request: Request, org: str) -> Response:
        repositories = [r for r in self._repositories.values() if r.owner.lower() == org.lower()]
        if not repositories:
            return not_found()
        if first(request.query, "sort") == "full_name":
            repositories.sort(key=lambda r: r.full_name.lower())
        else:  # GitHub's default: newest first
            repositories.sort(key=lambda r: (r.created_at, r.repo_id), reverse=True)
        page, links = paginate(repositories, request.query, self.url + request.path)
        return json_response([self._payloads.org_repository(r) for r in page], headers=links)

    def _get_repository_installation(self, request: Request, full_name: str) -> Response:
        app_id, rejected = self._authenticate_app(request)
        if rejected is not None:
            return rejected
        for installation in self._apps.installations():
            if installation.app_id == app_id and installation.covers(full_name):
                return json_response(self._installation_json(installation))
        return not_found()

    def _own_installation(
        self, request: Request, installation_id: str
    ) -> tuple[Installation | None, Response | None]:
        """The app's installation, or the answer GitHub gives when it is not the app's."""
        app_id, rejected = self._authenticate_app(request)
        if rejected is not None:
            return None, rejected
        installation = self._apps.installation(int(installation_id))
        if installation is None or installation.app_id != app_id:
            return None, not_found()
        return installation, None

    def _get_installation(self, request: Request, installation_id: str) -> Response:
        installation, rejected = self._own_installation(request, installation_id)
        if installation is None:
            return rejected or not_found()
        return json_response(self._installation_json(installation))

    def _create_installation_token(self, request: Request, installation_id: str) -> Response:
        installation, rejected = self._own_installation(request, installation_id)
        if installation is None:
            return rejected or not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        requested = body.get("permissions") or {}
        if not permissions_granted(requested, installation.permissions):
            return error(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "The permissions requested are not granted to this installation.",
                f"{_APP_DOCS}#create-an-installation-access-token-for-an-app",
            )
        issued = self._apps.issue_token(installation, requested)
        return json_response(
            self._payloads.installation_token(
                installation, issued, self._covered_repositories(installation)
            ),
            status=HTTPStatus.CREATED,
        )

    def _list_installation_repositories(self, request: Request) -> Response:
        issued = self._apps.token(request.token)
        installation = self._apps.installation(issued.installation_id) if issued else None
        if installation is None:
            return error(
                HTTPStatus.FORBIDDEN,
                "You must authenticate with an installation access token in order to list "
                "repositories for an installation.",
                "https://docs.github.com/rest/apps/installations",
            )
        repositories = self._covered_repositories(installation)
        page, links = paginate(repositories, request.query, self.url + request.path)
        body = {
            "total_count": len(repositories),
            "repository_selection": installation.repository_selection,
            "repositories": [self._payloads.installation_repository(r) for r in page],
        }
        return json_response(body, headers=links)

    def _authenticate_app(self, request: Request) -> tuple[int, Response | None]:
        try:
            return self._apps.authenticate_app(request.headers.get("authorization", "")), None
        except JWTRejectedError as exc:
            return 0, error(HTTPStatus.UNAUTHORIZED, str(exc), counts=False)

    # -- state helpers ---------------------------------------------------------------------

    def _add_run(
        self,
        repository: str,
        *,
        workflow_name: str,
        job_name: str,
        log_text: str,
        conclusion: str,
        failed_step: str | None,
        rerun_conclusions: Sequence[str],
        polls_until_complete: int,
        head_branch: str,
        event: str,
        created_at: datetime | None,
        head_sha: str | None,
    ) -> int:
        if not rerun_conclusions:
            raise ValueError("rerun_conclusions must not be empty")
        if polls_until_complete < 0:
            raise ValueError("polls_until_complete must be >= 0")
        started = (created_at or now()).astimezone(UTC).replace(microsecond=0)
        with self._lock:
            if repository not in self._repositories:
                self.add_repository(repository)
            run_id = self._next_id("run")
            run = Run(
                run_id=run_id,
                repository=repository,
                workflow=self._workflow(repository, workflow_name),
                run_number=self._next_run_number(repository),
                head_branch=head_branch,
                head_sha=head_sha or _fake_sha(f"{repository}:{run_id}"),
                event=event,
                created_at=started,
                job_name=job_name,
                failed_step=failed_step,
                log_text=log_text,
                rerun_conclusions=tuple(rerun_conclusions),
                polls_until_complete=polls_until_complete,
            )
            self._runs[run.run_id] = run
            first_attempt = self._new_attempt(
                run, conclusion, started_at=started, polls=0, trigger="initial"
            )
            first_attempt.completed_at = started + timedelta(minutes=2)
            return run.run_id

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _owner_id(self, owner: str) -> int:
        if owner not in self._owner_ids:
            self._owner_ids[owner] = self._next_id("owner")
        return self._owner_ids[owner]

    def _workflow(self, repository: str, name: str) -> Workflow:
        """The repository's workflow called `name`, registered on first use."""
        for workflow in self._workflows.values():
            if workflow.repository == repository and workflow.name == name:
                return workflow
        if repository not in self._repositories:
            self.add_repository(repository)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "ci"
        workflow = Workflow(
            workflow_id=self._next_id("workflow"),
            repository=repository,
            name=name,
            path=f".github/workflows/{slug}.yml",
            dispatchable=False,
            created_at=self._repositories[repository].created_at,
        )
        self._workflows[workflow.workflow_id] = workflow
        return workflow

    def _find_workflow(self, full_name: str, id_or_file_name: str) -> Workflow | None:
        for workflow in self._workflows.values():
            if workflow.repository != full_name:
                continue
            if id_or_file_name in (str(workflow.workflow_id), workflow.file_name):
                return workflow
        return None

    def _next_run_number(self, repository: str) -> int:
        self._run_numbers[repository] = self._run_numbers.get(repository, 0) + 1
        return self._run_numbers[repository]

    def _start_rerun(self, run: Run, trigger: str, *, debug_logging: bool) -> None:
        attempt = self._new_attempt(
            run,
            run.next_rerun_conclusion(),
            started_at=now(),
            polls=run.polls_until_complete,
            trigger=trigger,
        )
        attempt.debug_logging = debug_logging

    def _new_attempt(
        self, run: Run, conclusion: str, *, started_at: datetime, polls: int, trigger: str
    ) -> Attempt:
        passing_log = run.log_text if run.failed_step is None else None
        # A failed run has a passing job beside the failing one; a baseline run has one job.
        jobs = [Job(self._next_id("job"), _PASSING_JOB, None, "")] if run.failed_step else []
        jobs.append(
            Job(self._next_id("job"), run.job_name, run.failed_step, run.log_text, passing_log)
        )
        attempt = Attempt(
            number=len(run.attempts) + 1,
            trigger=trigger,
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

    def _find_run(self, full_name: str, run_id: int) -> Run | None:
        run = self._runs.get(run_id)
        return run if run is not None and run.repository == full_name else None

    def _get_run_or_raise(self, repository: str, run_id: int) -> Run:
        run = self._find_run(repository, run_id)
        if run is None:
            raise KeyError(f"no run {run_id} in {repository}")
        return run

    def _attempt_or_raise(
        self, repository: str, run_id: int, number: int | None
    ) -> tuple[Run, Attempt]:
        run = self._get_run_or_raise(repository, run_id)
        attempt = run.latest if number is None else run.attempt(number)
        if attempt is None:
            raise KeyError(f"run {run_id} has no attempt {number}")
        return run, attempt

    def _find_job(self, full_name: str, job_id: int) -> tuple[Run, Attempt, Job] | None:
        found = self._jobs.get(job_id)
        return found if found is not None and found[0].repository == full_name else None

    def _covered_repositories(self, installation: Installation) -> list[Repository]:
        covered = [r for r in self._repositories.values() if installation.covers(r.full_name)]
        return sorted(covered, key=lambda r: r.full_name)

    def _default_branch(self, workflow: Workflow) -> str:
        return self._repositories[workflow.repository].default_branch

    def _run_json(self, run: Run, attempt: Attempt) -> dict[str, Any]:
        return self._payloads.run(run, attempt, self._repositories[run.repository])

    def _installation_json(self, installation: Installation) -> dict[str, Any]:
        covered = self._covered_repositories(installation)
        # An "all" installation without a named account shows the owner it covers first.
        account = installation.account or (covered[0].owner if covered else "sandbox")
        return self._payloads.installation(installation, account)

    def _sign(self, job_id: str, expires: int) -> str:
        message = f"{job_id}:{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()


# -- module helpers ------------------------------------------------------------------------


def _validate_full_name(full_name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", full_name):
        raise ValueError(f"repository must look like 'owner/name', got {full_name!r}")


def _fake_sha(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:40]


def _cache_sort_key(cache: Cache, sort: str) -> tuple[Any, int]:
    if sort == "size_in_bytes":
        return (cache.size_in_bytes, cache.cache_id)
    return (cache.created_at, cache.cache_id)  # created and last accessed are the same here
