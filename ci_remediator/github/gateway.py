"""The one place ci-remediator talks to GitHub.

PyGithub provides the transport: authentication (a token, or a GitHub App whose installation
token it mints and refreshes), the base URL (GitHub Enterprise Server), the user agent and
connection reuse. Every request goes through `_send`, so each one:
- first takes a slot from the shared `RateBudget` (pacing, and GitHub's "wait until reset");
- has its rate headers read, whatever its status;
- turns a non-success answer into one error of `ci_remediator.github.errors`.
Retries live here and only here: PyGithub's own retry and sleep-between-requests are off.
Reads are retried with tenacity (3 attempts, exponential backoff with jitter); a mutating call
is never re-sent blindly: the caller checks what GitHub did first (see `actions.executor`).
Callers get plain frozen values (`RunInfo`, `JobInfo`, `RunsPage`), never PyGithub objects.
Reads of runs, attempts, jobs, branch heads and deployment reviews are conditional on the
shared read cache (`read_cache`): GitHub's 304s cost no primary rate budget.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import github
import requests
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ci_remediator.github.budget import RateBudget
from ci_remediator.github.errors import (
    AuthenticationError,
    GitHubError,
    PermanentGitHubError,
    RateLimitedError,
    RerunRefusedError,
    TransientGitHubError,
    error_for_response,
)
from ci_remediator.github.read_cache import CachedRead, ReadCache
from ci_remediator.github.values import (
    CreatedIssue,
    DeepScan,
    IssueInfo,
    JobInfo,
    RunInfo,
    RunsPage,
    approvals_fields,
    branch_fields,
    environments_fields,
    issue_info,
    job_info,
    jobs_list_fields,
    last_success_before,
    newer_than,
    run_fields,
    run_info,
    runs_list_fields,
)

__all__ = [
    "AuthenticationError",
    "CreatedIssue",
    "GitHubError",
    "GitHubGateway",
    "JobInfo",
    "PermanentGitHubError",
    "RateLimitedError",
    "RerunRefusedError",
    "RunInfo",
    "RunsPage",
    "TransientGitHubError",
]

# Statuses GitHub uses when it will not start a rerun (already running, too old, no failed jobs).
_RERUN_REFUSAL_STATUSES = frozenset({403, 409, 422})
T = TypeVar("T")
_LOG_GONE_STATUSES = frozenset({403, 404, 410})  # 403: the signed blob link expired
_LOG_STREAM_CHUNK_BYTES = 1 << 20
READ_ATTEMPTS = 3
# How many of a branch's newest runs one read brings (GitHub allows up to 100 a page).
BRANCH_RUNS = 20
# GitHub's largest page: a repository with more environments is asked about every run.
ENVIRONMENTS_PAGE = 100
# A repository that fails less often than the cache's TTL would otherwise pay a full read of
# its environments every failure; they change rarely and each read is still conditional.
ENVIRONMENTS_KEEP_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: dict[str, str]
    data: Any


def _retryable(error: BaseException) -> bool:
    # A rate-limited read waits for the budget's verdict, not for a quick retry.
    return isinstance(error, TransientGitHubError) and not isinstance(error, RateLimitedError)


class GitHubGateway:
    """GitHub Actions operations ci-remediator needs, with errors sorted into retry/give up.

    One instance per worker thread: PyGithub's requester keeps per-instance connection state.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str | None = None,
        auth: github.Auth.Auth | None = None,
        budget: RateBudget | None = None,
        timeout_s: float = 15.0,
        per_page: int = 100,
        read_retry_wait_s: float = 0.5,
        read_retry_sleep: Callable[[float], None] = time.sleep,
        read_cache: ReadCache | None = None,
        cache_scope: str = "",
    ) -> None:
        """`read_cache` makes the reads of runs, attempts, jobs, branches and reviews
        conditional on what was last read at the URL; `cache_scope` keeps one credential's
        entries apart from another's. `read_retry_sleep` waits between a read's attempts (a
        test passes a recorder, as the rate budget takes its clock and sleep)."""
        if token and auth is not None:
            raise ValueError("give a token or an auth, not both")
        self._timeout_s = timeout_s
        self._per_page = per_page
        self._budget = budget
        self._read_retry_wait_s = read_retry_wait_s
        self._read_retry_sleep = read_retry_sleep
        self._read_cache = read_cache
        self._cache_scope = f"{cache_scope}|{base_url.rstrip('/')}|"
        self._github = github.Github(
            base_url=base_url.rstrip("/"),
            auth=auth if auth is not None else github.Auth.Token(token) if token else None,
            timeout=max(1, round(timeout_s)),  # PyGithub asserts an int
            per_page=per_page,
            user_agent="ci-remediator",
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
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

    # ----------------------------------------------------------------------- runs ----

    def runs_page(self, repository: str, *, etag: str | None = None) -> RunsPage:
        """The newest page of completed runs, asked conditionally.

        The URL never changes between polls (no moving `created>=` filter), so GitHub can
        answer 304 Not Modified, which does not count against the primary rate limit.
        """
        path = f"/repos/{repository}/actions/runs"
        params = {"status": "completed", "per_page": str(self._per_page)}
        return self._runs_page(repository, path, params, etag=etag)

    def next_runs_page(self, repository: str, page: RunsPage) -> RunsPage | None:
        if page.next_url is None:
            return None
        return self._runs_page(repository, page.next_url, None, etag=None)

    def list_failed_runs(
        self, repository: str, *, since: datetime | None = None, max_pages: int = 10
    ) -> list[RunInfo]:
        """Completed runs with a failing conclusion created at or after `since`, newest first.

        An unconditional scan (the deep scan): it also catches new attempts of older runs.
        """
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        params = {"status": "completed", "per_page": str(self._per_page)}
        if since is not None:
            params["created"] = ">=" + since.strftime("%Y-%m-%dT%H:%M:%SZ")
        found: list[RunInfo] = []
        page: RunsPage | None = self._runs_page(
            repository, f"/repos/{repository}/actions/runs", params, etag=None
        )
        pages_read = 1
        while page is not None:
            found.extend(run for run in page.runs if run.failed)
            older_than_since = since is not None and page.runs and page.runs[-1].created_at < since
            if older_than_since or pages_read >= max_pages:
                break
            page = self.next_runs_page(repository, page)
            pages_read += 1
        return [run for run in found if since is None or run.created_at >= since]

    def deep_scan(
        self,
        repository: str,
        *,
        since_day: date,
        etags: Sequence[str] = (),
        max_pages: int = 10,
    ) -> DeepScan:
        """Completed failed runs created since the start of `since_day`, each page asked
        conditionally with the ETag the previous scan stored for it (`etags`, page by page).

        The URLs are stable for a day (numbered pages, a date bound), so a repository where
        nothing changed answers 304 on every page and the scan costs no rate budget; a new
        attempt of an old run changes its page's ETag, and that page is read.
        """
        params = {
            "status": "completed",
            "per_page": str(self._per_page),
            "created": ">=" + since_day.isoformat(),
        }
        path = f"/repos/{repository}/actions/runs"
        found: list[RunInfo] = []
        fresh: list[str] = []
        unchanged = 0
        for number in range(1, max_pages + 1):
            known = etags[number - 1] if number <= len(etags) else None
            page = self._runs_page(repository, path, {**params, "page": str(number)}, etag=known)
            if page.not_modified:
                unchanged += 1
                fresh.append(known or "")
                if number >= len(etags):
                    break  # the last page the previous scan saw, unchanged: nothing beyond
                continue
            fresh.append(page.etag or "")
            found.extend(run for run in page.runs if run.failed)
            if len(page.runs) < self._per_page:
                break
        return DeepScan(runs=tuple(found), etags=tuple(fresh), pages_unchanged=unchanged)

    def get_run(self, repository: str, run_id: int) -> RunInfo:
        answer = self._fresh(
            f"/repos/{repository}/actions/runs/{run_id}",
            f"get run {repository}#{run_id}",
            project=run_fields,
        )
        return run_info(repository, answer.data)

    def get_run_attempt(self, repository: str, run_id: int, attempt: int) -> RunInfo:
        answer = self._fresh(
            f"/repos/{repository}/actions/runs/{run_id}/attempts/{attempt}",
            f"get run {repository}#{run_id} attempt {attempt}",
            project=run_fields,
        )
        return run_info(repository, answer.data)

    def branch_runs(self, repository: str, *, workflow_id: int, branch: str) -> tuple[RunInfo, ...]:
        """The newest runs of the workflow on the branch (any status), newest first: one read
        that answers "is there a newer run?", "which attempt is this run at now?" and "which
        run passed last?", asked conditionally (the execute step's re-check is a free 304
        when nothing moved since the analysis)."""
        answer = self._fresh(
            f"/repos/{repository}/actions/workflows/{workflow_id}/runs",
            f"list runs of workflow {workflow_id} on {branch} in {repository}",
            params={"branch": branch, "per_page": str(BRANCH_RUNS)},
            project=runs_list_fields,
        )
        return tuple(run_info(repository, data) for data in answer.data.get("workflow_runs", ()))

    def last_successful_run(
        self, repository: str, *, workflow_id: int, branch: str | None, before: datetime
    ) -> RunInfo | None:
        """The newest successful run of the workflow created before `before`: among the
        branch's newest runs (`branch_runs`) when there is a branch."""
        if branch:
            listed = self.branch_runs(repository, workflow_id=workflow_id, branch=branch)
            return last_success_before(listed, before)
        answer = self._fresh(
            f"/repos/{repository}/actions/workflows/{workflow_id}/runs",
            f"find the last successful run of workflow {workflow_id} in {repository}",
            params={"status": "success", "per_page": "10"},
            project=runs_list_fields,
        )
        listed = tuple(run_info(repository, data) for data in answer.data.get("workflow_runs", ()))
        return last_success_before(listed, before)

    def newer_run(self, run: RunInfo) -> RunInfo | None:
        """A run of the same workflow on the same branch created after `run`, if any: the run
        that decides now whether the branch is green, so re-running `run` would be waste."""
        if not run.head_branch:
            return None
        listed = self.branch_runs(
            run.repository, workflow_id=run.workflow_id, branch=run.head_branch
        )
        return newer_than(listed, run)

    def branch_head(self, repository: str, branch: str) -> str | None:
        """The commit `branch` points at now; None when GitHub has no such branch (deleted)."""
        try:
            answer = self._fresh(
                f"/repos/{repository}/branches/{quote(branch, safe='/')}",
                f"read the head of {branch} in {repository}",
                project=branch_fields,
            )
        except PermanentGitHubError as error:
            if error.status == 404 and not isinstance(error, AuthenticationError):
                return None
            raise
        return str(answer.data["commit"]["sha"])

    def run_deployment_environments(self, repository: str, run_id: int) -> tuple[str, ...]:
        """The deployment environments the run's jobs asked to deploy to, from GitHub's review
        history of the run (environments with protection rules record a review there). Only
        an environment with required reviewers records one: in a repository that has none,
        the history is empty and is not asked for (`has_reviewed_environments`)."""
        if not self.has_reviewed_environments(repository):
            return ()
        answer = self._fresh(
            f"/repos/{repository}/actions/runs/{run_id}/approvals",
            f"list deployment reviews of {repository}#{run_id}",
            project=approvals_fields,
        )
        names = (
            environment.get("name")
            for review in answer.data or ()
            for environment in review.get("environments") or ()
        )
        return tuple(dict.fromkeys(name for name in names if isinstance(name, str)))

    def has_reviewed_environments(self, repository: str) -> bool:
        """Whether any environment of the repository requires reviewers: one read a repository,
        asked conditionally (a free 304 while the environments stay as they are). True when
        GitHub does not say (a page it did not list, a refusal other than rate or credential):
        then the run's review history is read, as always."""
        try:
            answer = self._fresh(
                f"/repos/{repository}/environments",
                f"list the environments of {repository}",
                params={"per_page": str(ENVIRONMENTS_PAGE)},
                project=environments_fields,
                keep_s=ENVIRONMENTS_KEEP_S,
            )
        except PermanentGitHubError as error:
            if isinstance(error, AuthenticationError):
                raise
            return True
        listed = answer.data["environments"]
        total = answer.data["total_count"]
        if not isinstance(total, int) or total > len(listed):
            return True
        return any("required_reviewers" in environment["rules"] for environment in listed)

    # ----------------------------------------------------------------------- jobs ----

    def list_failed_jobs(self, repository: str, run_id: int, attempt: int) -> list[JobInfo]:
        """Jobs of that attempt that finished without passing (failure, timed_out, ...)."""
        return [job for job in self.list_jobs(repository, run_id, attempt) if job.failed]

    def list_jobs(self, repository: str, run_id: int, attempt: int) -> list[JobInfo]:
        path = f"/repos/{repository}/actions/runs/{run_id}/attempts/{attempt}/jobs"
        action = f"list jobs of {repository}#{run_id} attempt {attempt}"
        jobs: list[JobInfo] = []
        params = {"per_page": str(self._per_page)}
        for data in self._paginate(path, params, "jobs", action, project=jobs_list_fields):
            jobs.append(job_info(data))
        return jobs

    def read_job_log(
        self,
        repository: str,
        job_id: int,
        read: Callable[[Iterator[bytes]], T],
        *,
        max_bytes: int = 50_000_000,
    ) -> T | None:
        """Stream a job's log into `read` as raw chunks and return what it returns, or None
        when GitHub no longer has the log. Nothing is held here: memory is what `read` keeps.

        A log longer than `max_bytes` (by its Content-Length) is read from its last
        `max_bytes`, where failures show; the rest is received and dropped unread.
        """
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        action = f"read log of job {job_id} in {repository}"
        location = self._job_log_location(repository, job_id, action)
        if location is None:
            return None
        try:
            with self._blob_session.get(location, stream=True, timeout=self._timeout_s) as response:
                if response.status_code in _LOG_GONE_STATUSES:
                    return None
                if response.status_code >= 400:
                    raise error_for_response(
                        response.status_code, {}, response.content[:500], action + " (storage)"
                    )
                length = int(response.headers.get("content-length") or 0)
                chunks = response.iter_content(chunk_size=_LOG_STREAM_CHUNK_BYTES)
                return read(_from_line_after(chunks, length - max_bytes))
        except requests.RequestException as exc:
            raise TransientGitHubError(f"{action}: {type(exc).__name__}: {exc}") from exc

    def _job_log_location(self, repository: str, job_id: int, action: str) -> str | None:
        """Where the job's log can be fetched (a signed blob URL), or None if it is gone."""
        try:
            answer = self._read(
                "GET", f"/repos/{repository}/actions/jobs/{job_id}/logs", action, expect=(302,)
            )
        except PermanentGitHubError as error:
            if error.status in (404, 410) and not isinstance(error, AuthenticationError):
                return None
            raise
        location = answer.headers.get("location")
        if not location:
            raise TransientGitHubError(f"{action}: 302 without a Location header", status=302)
        return location

    # ---------------------------------------------------------- remediation calls ----
    # None of these is retried here: a POST that timed out may have worked. The executor
    # reads the run's attempt before sending anything twice.

    def rerun_failed_jobs(
        self, repository: str, run_id: int, *, enable_debug_logging: bool = False
    ) -> None:
        self._rerun(
            f"/repos/{repository}/actions/runs/{run_id}/rerun-failed-jobs",
            f"rerun failed jobs of {repository}#{run_id}",
            body={"enable_debug_logging": True} if enable_debug_logging else None,
        )

    def rerun_run(
        self, repository: str, run_id: int, *, enable_debug_logging: bool = False
    ) -> None:
        self._rerun(
            f"/repos/{repository}/actions/runs/{run_id}/rerun",
            f"rerun {repository}#{run_id}",
            body={"enable_debug_logging": True} if enable_debug_logging else None,
        )

    def cancel_run(self, repository: str, run_id: int) -> None:
        self._send(
            "POST",
            f"/repos/{repository}/actions/runs/{run_id}/cancel",
            f"cancel {repository}#{run_id}",
            expect=(202,),
        )

    def delete_caches(self, repository: str, *, key: str, ref: str | None = None) -> int:
        """Delete the Actions caches with exactly this key; how many there were (0 if none)."""
        params = {"key": key} if ref is None else {"key": key, "ref": ref}
        try:
            answer = self._send(
                "DELETE",
                f"/repos/{repository}/actions/caches",
                f"delete caches of {repository}",
                params=params,
            )
        except PermanentGitHubError as error:
            if error.status == 404 and not isinstance(error, AuthenticationError):
                return 0
            raise
        return int(answer.data.get("total_count", 0)) if isinstance(answer.data, dict) else 0

    def create_issue(
        self, repository: str, *, title: str, body: str, labels: tuple[str, ...] = ()
    ) -> CreatedIssue:
        answer = self._send(
            "POST",
            f"/repos/{repository}/issues",
            f"create an issue in {repository}",
            body={"title": title, "body": body, "labels": list(labels)},
            expect=(201,),
        )
        return CreatedIssue(number=int(answer.data["number"]), html_url=answer.data["html_url"])

    def close_issue(self, repository: str, number: int) -> None:
        self._send(
            "PATCH",
            f"/repos/{repository}/issues/{number}",
            f"close issue {repository}#{number}",
            body={"state": "closed", "state_reason": "completed"},
        )

    def get_issue(self, repository: str, number: int) -> IssueInfo:
        answer = self._read(
            "GET", f"/repos/{repository}/issues/{number}", f"read issue {repository}#{number}"
        )
        return issue_info(answer.data)

    def open_issues_labelled(self, repository: str, label: str) -> list[IssueInfo]:
        """Open issues (not pull requests) carrying `label`, newest first."""
        params = {"state": "open", "labels": label, "per_page": str(self._per_page)}
        action = f"list open {label} issues of {repository}"
        return [
            issue_info(data)
            for data in self._paginate(f"/repos/{repository}/issues", params, None, action)
            if "pull_request" not in data
        ]

    def workflow_runs_since(
        self, repository: str, *, workflow: str, event: str, branch: str, since: datetime
    ) -> list[RunInfo]:
        """Runs of a workflow (file name or id) for `event` on `branch` created at or after
        `since`, oldest first: how a dispatch, which GitHub answers with no run id, is found."""
        answer = self._read(
            "GET",
            f"/repos/{repository}/actions/workflows/{workflow}/runs",
            f"list {event} runs of {workflow} in {repository}",
            params={
                "event": event,
                "branch": branch,
                "created": f">={since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
                "per_page": "20",
            },
        )
        runs = [run_info(repository, data) for data in answer.data.get("workflow_runs", ())]
        return sorted(runs, key=lambda run: (run.created_at, run.run_id))

    def dispatch_workflow(
        self, repository: str, *, workflow: str, ref: str, inputs: Mapping[str, str]
    ) -> None:
        """`workflow_dispatch` a configured workflow (its file name or id) at `ref`."""
        self._send(
            "POST",
            f"/repos/{repository}/actions/workflows/{workflow}/dispatches",
            f"dispatch {workflow} in {repository}",
            body={"ref": ref, "inputs": dict(inputs)},
            expect=(204,),
        )

    # -------------------------------------------------------------- repositories ----

    def list_org_repositories(self, org: str) -> list[str]:
        action = f"list repositories of {org}"
        params = {"per_page": str(self._per_page), "type": "all"}
        return [
            str(repo["full_name"])
            for repo in self._paginate(f"/orgs/{org}/repos", params, None, action)
            if not repo.get("archived")
        ]

    def list_installation_repositories(self) -> list[str]:
        params = {"per_page": str(self._per_page)}
        action = "list the App installation's repositories"
        return [
            str(repo["full_name"])
            for repo in self._paginate("/installation/repositories", params, "repositories", action)
            if not repo.get("archived")
        ]

    # ------------------------------------------------------------------ plumbing ----

    def _rerun(self, path: str, action: str, *, body: dict[str, Any] | None) -> None:
        try:
            self._send("POST", path, action, body=body, expect=(201,))
        except PermanentGitHubError as error:
            if type(error) is PermanentGitHubError and error.status in _RERUN_REFUSAL_STATUSES:
                raise RerunRefusedError(
                    f"{action}: GitHub refused: {error.github_message}",
                    reason=error.github_message,
                    status=error.status,
                ) from error
            raise

    def _runs_page(
        self,
        repository: str,
        path: str,
        params: dict[str, str] | None,
        *,
        etag: str | None,
    ) -> RunsPage:
        headers = {"If-None-Match": etag} if etag else None
        answer = self._read(
            "GET",
            path,
            f"list runs of {repository}",
            params=params,
            headers=headers,
            expect=(304,),
        )
        if answer.status == 304:
            return RunsPage(not_modified=True, etag=etag, runs=(), next_url=None)
        runs = tuple(run_info(repository, data) for data in answer.data.get("workflow_runs", ()))
        return RunsPage(
            not_modified=False,
            etag=answer.headers.get("etag"),
            runs=runs,
            next_url=_next_link(answer.headers.get("link")),
        )

    def _paginate(
        self,
        path: str,
        params: dict[str, str],
        list_key: str | None,
        action: str,
        *,
        project: Callable[[Any], Any] | None = None,
    ) -> Iterator[Any]:
        url: str | None = path
        query: dict[str, str] | None = params
        while url is not None:
            answer = (
                self._fresh(url, action, params=query, project=project)
                if project is not None
                else self._read("GET", url, action, params=query)
            )
            items = answer.data if list_key is None else answer.data.get(list_key, ())
            yield from items
            url, query = _next_link(answer.headers.get("link")), None

    def _fresh(
        self,
        path: str,
        action: str,
        *,
        params: dict[str, str] | None = None,
        project: Callable[[Any], Any],
        keep_s: int | None = None,
    ) -> _Answer:
        """A GET answered with `project(body)`: asked conditionally on the read cache's ETag
        for the URL, so an unchanged resource comes back as a free 304 and the cached
        projection (kept `keep_s`, or the cache's TTL)."""
        if self._read_cache is None:
            answer = self._read("GET", path, action, params=params)
            return _Answer(answer.status, answer.headers, project(answer.data))
        url = path if not params else f"{path}?{urlencode(params)}"
        key = self._cache_scope + url
        cached = self._read_cache.get(key)
        answer = self._read(
            "GET",
            path,
            action,
            params=params,
            headers={"If-None-Match": cached.etag} if cached else None,
            expect=(304,) if cached else (),
        )
        if answer.status == 304 and cached is not None:
            headers = dict(answer.headers)
            if cached.next_url:
                headers["link"] = f'<{cached.next_url}>; rel="next"'
            return _Answer(200, headers, cached.data)
        data = project(answer.data)
        etag = answer.headers.get("etag")
        if etag:
            next_url = _next_link(answer.headers.get("link"))
            self._read_cache.put(key, CachedRead(etag, data, next_url), keep_s=keep_s)
        return _Answer(answer.status, answer.headers, data)

    def _read(
        self,
        method: str,
        path: str,
        action: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (),
    ) -> _Answer:
        try:
            for attempt in Retrying(
                retry=retry_if_exception(_retryable),
                stop=stop_after_attempt(READ_ATTEMPTS),
                wait=wait_exponential_jitter(multiplier=self._read_retry_wait_s, max=8.0),
                sleep=self._read_retry_sleep,
                reraise=True,
            ):
                with attempt:
                    return self._send(
                        method, path, action, params=params, headers=headers, expect=expect
                    )
        except TransientGitHubError as error:
            error.retried = _retryable(error)
            raise
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _send(
        self,
        method: str,
        path: str,
        action: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        expect: tuple[int, ...] = (),
    ) -> _Answer:
        """One HTTP request, under the budget; a success or one of the gateway's errors."""
        if self._budget is not None:
            self._budget.acquire()
        url = path if not params else f"{path}?{urlencode(params)}"
        try:
            status, raw_headers, output = self._github.requester.requestJson(
                method, url, headers=headers, input=body
            )
        except requests.RequestException as exc:
            raise TransientGitHubError(f"{action}: {type(exc).__name__}: {exc}") from exc
        except github.GithubException as exc:  # App token exchange refused, etc.
            if exc.status == 401:
                raise AuthenticationError(f"{action}: 401 {exc.message}", status=401) from exc
            raise error_for_response(exc.status, {}, json.dumps(exc.data), action) from exc
        answer_headers = {str(key).lower(): str(value) for key, value in raw_headers.items()}
        if self._budget is not None:
            self._budget.observe(answer_headers)
        if status >= 300 and status not in expect:
            error = error_for_response(status, answer_headers, output, action)
            if isinstance(error, RateLimitedError) and self._budget is not None:
                self._budget.rate_limited(error)
            raise error
        data = json.loads(output) if output and status != 304 else None
        return _Answer(status, answer_headers, data)


def _next_link(header: str | None) -> str | None:
    """The `rel="next"` URL of a Link header."""
    if not header:
        return None
    for part in header.split(","):
        url, _, rest = part.partition(";")
        if 'rel="next"' in rest:
            return url.strip().strip("<>")
    return None


def _from_line_after(chunks: Iterator[bytes], skip: int) -> Iterator[bytes]:
    """`chunks` without their first `skip` bytes, starting at the next line (a half line
    would read as a real one)."""
    if skip <= 0:
        yield from chunks
        return
    seeking_line = True
    for chunk in chunks:
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        rest = chunk[skip:]
        skip = 0
        if seeking_line:
            newline = rest.find(b"\n")
            if newline == -1:
                continue
            rest = rest[newline + 1 :]
            seeking_line = False
        yield rest
