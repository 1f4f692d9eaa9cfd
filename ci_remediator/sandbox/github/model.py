"""What the GitHub sandbox holds (repositories, workflows, runs with their attempts and jobs,
environments, caches, issues), what tests read back, and the rules GitHub applies: when a
rerun attempt completes, what a job concluded and printed, which runs a list filter keeps,
when a rerun is refused.

Nothing here is locked or speaks HTTP: the sandbox calls it under its own lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from ci_remediator.sandbox.github.rest import created_matches, first

__all__ = [
    "FAILING_CONCLUSIONS",
    "Attempt",
    "AttemptRecord",
    "Cache",
    "DispatchRecord",
    "Environment",
    "Issue",
    "IssueRecord",
    "Job",
    "RecordedRequest",
    "Repository",
    "Run",
    "Workflow",
    "iso",
    "job_conclusion",
    "job_log",
    "label_names",
    "now",
    "rerun_refusal",
    "run_matches",
]

FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled", "startup_failure"})
_RUN_STATUSES = frozenset(
    {"completed", "in_progress", "queued", "requested", "waiting", "pending", "action_required"}
)
_RERUN_WINDOW = timedelta(days=30)  # GitHub: runs can be re-run up to 30 days after they ran
_MAX_RERUNS = 50  # GitHub: "A workflow run can be re-run a maximum of 50 times"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- what tests read back ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the sandbox received it. Header names are lower-cased (HTTP header
    names are case-insensitive; PyGithub lower-cases response headers the same way).

    `at` is monotonic (for measuring intervals), `arrived_at` is wall-clock `time.time()` (for
    comparing with the rate-limit reset); `counted` says whether the request spent primary
    rate budget, which 304s, /rate_limit, auth failures and blob downloads do not.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float
    counted: bool
    arrived_at: float


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt of a run as the sandbox holds it (reading it does not count as a poll)."""

    number: int
    trigger: str  # "initial", "rerun" or "rerun-failed-jobs"
    status: str
    conclusion: str | None
    debug_logging: bool


@dataclass(frozen=True, slots=True)
class IssueRecord:
    number: int
    title: str
    body: str | None
    labels: tuple[str, ...]
    state: str
    state_reason: str | None


@dataclass(frozen=True, slots=True)
class DispatchRecord:
    workflow_id: int
    workflow_path: str
    ref: str
    inputs: dict[str, Any]
    at: float  # time.time() when it arrived


# -- state ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Repository:
    repo_id: int
    owner_id: int
    full_name: str
    default_branch: str
    private: bool
    created_at: datetime
    fork: bool = False  # only a run's head repository is ever a fork

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass(slots=True)
class Workflow:
    workflow_id: int
    repository: str
    name: str
    path: str
    dispatchable: bool  # has a `workflow_dispatch` trigger
    created_at: datetime
    # What a dispatched run of it concludes, after this many GETs of the run.
    dispatch_conclusion: str = "success"
    dispatch_polls: int = 1

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(slots=True)
class Environment:
    """A deployment environment of a repository, known from the runs that deployed to it."""

    environment_id: int
    repository: str
    name: str
    created_at: datetime


@dataclass(slots=True)
class Job:
    job_id: int
    name: str
    failed_step: str | None  # the step to mark failed when the attempt fails; None: always passes
    log_text: str
    passing_log: str | None = None  # what a passing job printed; None: a generated success log


@dataclass(slots=True)
class Attempt:
    number: int
    trigger: str
    final_conclusion: str
    jobs: list[Job]
    started_at: datetime
    polls_until_complete: int
    debug_logging: bool = False
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
            self.completed_at = now()

    def finish(self) -> None:
        """Complete now with the scripted conclusion, however few times it was read."""
        self.polls_served = self.polls_until_complete
        self.completed_at = now()

    def cancel(self) -> None:
        self.final_conclusion = "cancelled"
        self.finish()

    def record(self) -> AttemptRecord:
        return AttemptRecord(
            self.number, self.trigger, self.status, self.conclusion, self.debug_logging
        )


@dataclass(slots=True)
class Run:
    run_id: int
    repository: str
    workflow: Workflow
    run_number: int
    head_branch: str
    head_sha: str
    event: str
    created_at: datetime
    job_name: str
    failed_step: str | None  # None: a baseline run whose job passes
    log_text: str
    rerun_conclusions: tuple[str, ...]
    polls_until_complete: int
    head_repository: Repository | None = None  # None: the run's own repository; else a fork
    environments: tuple[Environment, ...] = ()  # where its jobs deployed, each one approved
    attempts: list[Attempt] = field(default_factory=list)
    logs_expired: bool = False
    refusal: tuple[int, str] | None = None  # scripted (status, message) for every rerun

    @property
    def latest(self) -> Attempt:
        return self.attempts[-1]

    def attempt(self, number: int) -> Attempt | None:
        return self.attempts[number - 1] if 1 <= number <= len(self.attempts) else None

    def next_rerun_conclusion(self) -> str:
        """The scripted outcome of the next rerun; the last one repeats."""
        return self.rerun_conclusions[min(len(self.attempts), len(self.rerun_conclusions)) - 1]


@dataclass(slots=True)
class Cache:
    cache_id: int
    repository: str
    key: str
    ref: str
    size_in_bytes: int
    created_at: datetime


@dataclass(slots=True)
class Issue:
    issue_id: int
    number: int
    repository: str
    title: str
    body: str | None
    labels: list[str]
    created_at: datetime
    state: str = "open"
    state_reason: str | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None

    def record(self) -> IssueRecord:
        return IssueRecord(
            self.number, self.title, self.body, tuple(self.labels), self.state, self.state_reason
        )

    def set_state(self, state: str, reason: Any) -> None:
        if state == self.state:
            return
        self.state = state
        if state == "closed":
            self.closed_at = now()
            self.state_reason = reason if reason in ("completed", "not_planned") else "completed"
        else:
            self.closed_at = None
            self.state_reason = "reopened"


# -- GitHub's rules ------------------------------------------------------------------------


def rerun_refusal(run: Run) -> tuple[int, str] | None:
    """GitHub's refusal (status, message) of a rerun, which callers record as "cannot remediate".

    The age and attempt-count wording is GitHub's for the age case; GitHub documents the
    50-rerun limit but its message for it was not found, so that one is ours.
    """
    if run.refusal is not None:
        return run.refusal
    if run.latest.status != "completed":
        return HTTPStatus.FORBIDDEN, "This workflow is already running"
    if run.created_at < now() - _RERUN_WINDOW:
        return (
            HTTPStatus.FORBIDDEN,
            "Unable to retry this workflow run because it was created over a month ago",
        )
    if len(run.attempts) - 1 >= _MAX_RERUNS:
        return (
            HTTPStatus.FORBIDDEN,
            "This workflow run has been re-run the maximum number of times (50)",
        )
    return None


def job_conclusion(attempt: Attempt, job: Job) -> str | None:
    if attempt.status != "completed":
        return None
    if job.failed_step is None or attempt.final_conclusion not in FAILING_CONCLUSIONS:
        return "success"
    return attempt.final_conclusion


def job_log(attempt: Attempt, job: Job) -> str:
    if job_conclusion(attempt, job) in FAILING_CONCLUSIONS:
        return job.log_text
    return job.passing_log if job.passing_log is not None else _success_log(job, attempt.started_at)


def _success_log(job: Job, started_at: datetime) -> str:
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


def run_matches(run: Run, query: dict[str, list[str]]) -> bool:
    attempt = run.latest
    status = first(query, "status")
    if status:
        # GitHub's `status` filter takes a status or a conclusion.
        observed = attempt.status if status in _RUN_STATUSES else attempt.conclusion
        if observed != status:
            return False
    for name, actual in (("branch", run.head_branch), ("event", run.event)):
        wanted = first(query, name)
        if wanted and wanted != actual:
            return False
    head_sha = first(query, "head_sha")
    if head_sha and head_sha != run.head_sha:
        return False
    created = first(query, "created")
    return not created or created_matches(run.created_at, created)


def label_names(labels: Any) -> list[str]:
    """Labels as GitHub takes them: names, or objects with a name."""
    if not isinstance(labels, list):
        return []
    names = [label.get("name") if isinstance(label, dict) else label for label in labels]
    return [str(name) for name in names if name]
