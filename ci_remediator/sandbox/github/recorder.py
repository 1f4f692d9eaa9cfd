"""What tests read back from the GitHub sandbox: every request as it arrived (with counts and
the busiest window, what GitHub's rate limits watch), and the state the requests left behind
(a run's attempts, issues, dispatches, tokens issued, runs and jobs as GET would answer them).
Reading never counts as a request or as a poll of a run.
"""

from __future__ import annotations

import re
from typing import Any

from ci_remediator.sandbox.github.base import SandboxBase
from ci_remediator.sandbox.github.model import (
    Attempt,
    AttemptRecord,
    DispatchRecord,
    IssueRecord,
    RecordedRequest,
    Run,
)
from ci_remediator.sandbox.github.rest import Request

__all__ = ["RecordedRequest", "Recorder"]

# Requests that are not REST API calls: excluded from the request-rate measurement.
_NOT_API = re.compile(r"/rate_limit|/_blobs/.*")


class Recorder(SandboxBase):
    """Recording requests, and reading requests and state back."""

    def _record(
        self,
        request: Request,
        *,
        at: float,
        arrived_at: float,
        counted: bool,
    ) -> None:
        """Keep one request as it arrived; `counted`: whether its answer spent rate budget."""
        self._requests.append(
            RecordedRequest(
                request.method,
                request.path,
                request.query,
                request.headers,
                request.body,
                at,
                counted,
                arrived_at,
            )
        )

    # -- requests --------------------------------------------------------------------------

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

    # -- state -----------------------------------------------------------------------------

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

    def _attempt_or_raise(
        self, repository: str, run_id: int, number: int | None
    ) -> tuple[Run, Attempt]:
        run = self._get_run_or_raise(repository, run_id)
        attempt = run.latest if number is None else run.attempt(number)
        if attempt is None:
            raise KeyError(f"run {run_id} has no attempt {number}")
        return run, attempt
