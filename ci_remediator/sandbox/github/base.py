"""What every part of the GitHub sandbox shares: the resources it holds, their id counters,
the scripted faults and rate budget, and the lookups both the endpoints and the scripting use.

`SandboxBase` is the common base of the parts `GitHubSandbox` is assembled from (scripting,
faults, recorder, serving, runs, actions, apps); each part reads and changes this state under
the lock `LoopbackSandbox` provides.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ci_remediator.sandbox.github.app_registry import AppRegistry
from ci_remediator.sandbox.github.model import (
    Attempt,
    Cache,
    DispatchRecord,
    Environment,
    Issue,
    Job,
    RecordedRequest,
    Repository,
    Run,
    Workflow,
)
from ci_remediator.sandbox.github.payloads import Payloads
from ci_remediator.sandbox.github.rest import Route
from ci_remediator.sandbox.server import LoopbackSandbox

__all__ = ["RATE_LIMIT", "RATE_WINDOW_S", "InjectedError", "Latency", "SandboxBase"]

RATE_LIMIT = 5000
RATE_WINDOW_S = 3600
_PASSING_JOB = "prepare"


@dataclass(slots=True)
class InjectedError:
    status: int
    method: str | None
    path_pattern: str
    remaining: int
    message: str | None
    retry_after_s: int | None


@dataclass(slots=True)
class Latency:
    seconds: float
    method: str | None
    path_pattern: str
    remaining: int | None  # None: every matching request


@dataclass(frozen=True, slots=True)
class RerunCompletion:
    """Each rerun completes `seconds` after GitHub accepted it; then `announce(repository,
    run_id)` is called, outside the lock (where GitHub would send its webhook deliveries)."""

    seconds: float
    announce: Callable[[str, int], None]


class SandboxBase(LoopbackSandbox):
    """The GitHub sandbox's state and shared lookups; `GitHubSandbox` sets `_routes`."""

    _routes: list[Route]

    def __init__(self) -> None:
        super().__init__()
        self._payloads = Payloads(base_url=lambda: self.url, owner_id=self._owner_id)
        self._signing_key = secrets.token_bytes(32)
        self._requests: list[RecordedRequest] = []
        self._repositories: dict[str, Repository] = {}
        self._forks: dict[str, Repository] = {}  # head repositories of runs from forks
        self._workflows: dict[int, Workflow] = {}
        self._runs: dict[int, Run] = {}
        self._jobs: dict[int, tuple[Run, Attempt, Job]] = {}
        self._environments: dict[tuple[str, str], Environment] = {}
        self._caches: dict[int, Cache] = {}
        self._issues: dict[tuple[str, int], Issue] = {}
        self._dispatches: dict[str, list[DispatchRecord]] = {}
        # Branches exist only once a test sets their head; any other answers 404, as GitHub
        # does for a branch that does not exist.
        self._branch_heads: dict[tuple[str, str], str] = {}
        self._owner_ids: dict[str, int] = {}
        self._ids = {
            "repo": 100_000,
            "owner": 1_000,
            "workflow": 160_000,
            "run": 7_000_000,
            "job": 20_000_000,
            "cache": 500,
            "issue": 900_000,
            "environment": 161_000_000,
        }
        self._run_numbers: dict[str, int] = {}
        self._issue_numbers: dict[str, int] = {}
        self._apps = AppRegistry()
        self._injected: list[InjectedError] = []
        self._latencies: list[Latency] = []
        self._revoked_tokens: set[str] = set()
        # Set by `complete_reruns_after`: reruns complete on a clock and announce it.
        self._rerun_completion: RerunCompletion | None = None
        self._rate_limit = RATE_LIMIT
        self._rate_remaining = RATE_LIMIT
        self._rate_reset = int(time.time()) + RATE_WINDOW_S

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _owner_id(self, owner: str) -> int:
        if owner not in self._owner_ids:
            self._owner_ids[owner] = self._next_id("owner")
        return self._owner_ids[owner]

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

    def _find_workflow(self, full_name: str, id_or_file_name: str) -> Workflow | None:
        for workflow in self._workflows.values():
            if workflow.repository != full_name:
                continue
            if id_or_file_name in (str(workflow.workflow_id), workflow.file_name):
                return workflow
        return None

    def _run_json(self, run: Run, attempt: Attempt) -> dict[str, Any]:
        return self._payloads.run(run, attempt, self._repositories[run.repository])
