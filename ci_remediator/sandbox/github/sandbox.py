"""`GitHubSandbox`, assembled from its parts, and the table of the REST routes it serves."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from ci_remediator.sandbox.github.actions import ActionEndpoints
from ci_remediator.sandbox.github.apps import AppEndpoints
from ci_remediator.sandbox.github.faults import FaultScripting
from ci_remediator.sandbox.github.recorder import Recorder
from ci_remediator.sandbox.github.rest import Request, Response, Route
from ci_remediator.sandbox.github.runs import RunEndpoints
from ci_remediator.sandbox.github.scripting import Scripting
from ci_remediator.sandbox.github.serving import Serving

__all__ = ["GitHubSandbox"]


class GitHubSandbox(
    Scripting,
    FaultScripting,
    Recorder,
    Serving,
    RunEndpoints,
    ActionEndpoints,
    AppEndpoints,
):
    """A thread-safe, in-memory GitHub Actions REST server on 127.0.0.1 (OS-chosen port)."""

    server_name = "GitHub.com"

    def __init__(self) -> None:
        super().__init__()
        self._routes = self._build_routes()

    @property
    def routes(self) -> list[tuple[str, str]]:
        """(method, GitHub path template) of every endpoint served."""
        return [(route.method, route.template) for route in self._routes]

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        at, arrived_at = time.monotonic(), time.time()
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        request = Request(method, parts.path, query, headers, body)
        with self._lock:
            if parts.path.startswith("/_blobs/"):
                response = self._serve_blob(parts.path, query)
                response.counts_against_rate_limit = False
            else:
                response = self._answer_api(request)
            self._record(
                request,
                at=at,
                arrived_at=arrived_at,
                counted=response.counts_against_rate_limit,
            )
            delay = self._take_latency(method, parts.path)
        if delay:
            time.sleep(delay)
        return response

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
            Route("GET", runs + "/{run_id}/approvals", self._get_run_approvals),
            Route("GET", repo + "/environments", self._list_environments),
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
            Route("GET", repo + "/issues", self._list_issues),
            Route("GET", repo + "/branches/{branch}", self._get_branch),
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
