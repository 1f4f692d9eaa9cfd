"""Plain values the gateway hands out: no PyGithub object ever leaves `ci_remediator.github`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ci_remediator.text import strip_controls

FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
# Job conclusions that do not need remediation: the job passed, was skipped, or is unfinished.
_NOT_FAILED = frozenset({"success", "skipped", "neutral"})
_FAILED_STEP_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled"})


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
    # The repository the run's code came from: another one than `repository` for a fork's PR.
    head_repository: str | None = None
    # The workflow file (".github/workflows/ci.yml"): names can be renamed, paths are the file.
    workflow_path: str | None = None

    @property
    def from_fork(self) -> bool:
        return self.head_repository is not None and (
            self.head_repository.lower() != self.repository.lower()
        )

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"

    @property
    def succeeded(self) -> bool:
        return self.conclusion == "success"

    @property
    def failed(self) -> bool:
        return self.conclusion in FAILING_CONCLUSIONS


@dataclass(frozen=True, slots=True)
class JobInfo:
    job_id: int
    name: str
    conclusion: str | None
    failed_steps: tuple[str, ...]
    html_url: str

    @property
    def failed(self) -> bool:
        return self.conclusion is not None and self.conclusion not in _NOT_FAILED


@dataclass(frozen=True, slots=True)
class RunsPage:
    """One page of a repository's runs list; `not_modified` when GitHub answered 304."""

    not_modified: bool
    etag: str | None
    runs: tuple[RunInfo, ...]
    next_url: str | None


@dataclass(frozen=True, slots=True)
class DeepScan:
    """A deep scan's failed runs (of the pages that changed) and each page's ETag, for the
    next scan to ask conditionally."""

    runs: tuple[RunInfo, ...]
    etags: tuple[str, ...]
    pages_unchanged: int


@dataclass(frozen=True, slots=True)
class CreatedIssue:
    number: int
    html_url: str


@dataclass(frozen=True, slots=True)
class IssueInfo:
    number: int
    html_url: str
    state: str
    body: str


def issue_info(data: dict[str, Any]) -> IssueInfo:
    return IssueInfo(
        number=int(data["number"]),
        html_url=str(data.get("html_url") or ""),
        state=str(data.get("state") or ""),
        body=str(data.get("body") or ""),
    )


def parse_time(value: str) -> datetime:
    """GitHub's ISO-8601 timestamps ("2024-05-01T12:00:00Z") as aware UTC datetimes."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def run_info(repository: str, data: dict[str, Any]) -> RunInfo:
    actor = data.get("actor") or data.get("triggering_actor")
    return RunInfo(
        repository=repository,
        run_id=int(data["id"]),
        run_attempt=int(data.get("run_attempt") or 1),
        # The workflow file's own `name:` (YAML's "\0" makes a NUL Postgres cannot store).
        workflow_name=strip_controls(str(data.get("name") or data.get("display_title") or "")),
        workflow_id=int(data["workflow_id"]),
        event=str(data.get("event") or ""),
        head_branch=data.get("head_branch"),
        head_sha=str(data.get("head_sha") or ""),
        status=str(data.get("status") or ""),
        conclusion=data.get("conclusion"),
        html_url=str(data.get("html_url") or ""),
        created_at=parse_time(data["created_at"]),
        updated_at=parse_time(data.get("updated_at") or data["created_at"]),
        actor=actor.get("login") if isinstance(actor, dict) else None,
        head_repository=_full_name(data.get("head_repository")),
        workflow_path=str(data["path"]) if data.get("path") else None,
    )


def _full_name(repository: object) -> str | None:
    if isinstance(repository, dict) and isinstance(repository.get("full_name"), str):
        return repository["full_name"]
    return None


def job_info(data: dict[str, Any]) -> JobInfo:
    failed_steps = tuple(
        strip_controls(str(step.get("name")))
        for step in data.get("steps") or ()
        if step.get("conclusion") in _FAILED_STEP_CONCLUSIONS
    )
    return JobInfo(
        job_id=int(data["id"]),
        name=strip_controls(str(data.get("name") or "")),
        conclusion=data.get("conclusion"),
        failed_steps=failed_steps,
        html_url=str(data.get("html_url") or ""),
    )


# What `run_info` and `job_info` read, and nothing else: the read cache keeps these projections
# (no commit message, no free text beyond the names the failure rows hold anyway).
_RUN_KEYS = (
    "id",
    "run_attempt",
    "name",
    "display_title",
    "workflow_id",
    "event",
    "head_branch",
    "head_sha",
    "status",
    "conclusion",
    "html_url",
    "created_at",
    "updated_at",
    "path",
)


def run_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = {key: data[key] for key in _RUN_KEYS if key in data}
    for key in ("actor", "triggering_actor"):
        if isinstance(data.get(key), dict):
            fields[key] = {"login": data[key].get("login")}
    if isinstance(data.get("head_repository"), dict):
        fields["head_repository"] = {"full_name": data["head_repository"].get("full_name")}
    return fields


def runs_list_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {"workflow_runs": [run_fields(run) for run in data.get("workflow_runs") or ()]}


def jobs_list_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "jobs": [
            {
                "id": job["id"],
                "name": job.get("name"),
                "conclusion": job.get("conclusion"),
                "html_url": job.get("html_url"),
                "steps": [
                    {"name": step.get("name"), "conclusion": step.get("conclusion")}
                    for step in job.get("steps") or ()
                    if step.get("conclusion") in _FAILED_STEP_CONCLUSIONS
                ],
            }
            for job in data.get("jobs") or ()
        ]
    }


def branch_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {"commit": {"sha": data["commit"]["sha"]}}


def approvals_fields(data: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [
        {"environments": [{"name": env.get("name")} for env in review.get("environments") or ()]}
        for review in data or ()
    ]


def environments_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "total_count": data.get("total_count"),
        "environments": [
            {
                "name": environment.get("name"),
                "rules": [rule.get("type") for rule in environment.get("protection_rules") or ()],
            }
            for environment in data.get("environments") or ()
        ],
    }


def newer_than(listed: Sequence[RunInfo], run: RunInfo) -> RunInfo | None:
    """The first of `listed` created after `run` (ties broken by run id), if any."""
    for other in listed:
        if other.run_id != run.run_id and (other.created_at, other.run_id) > (
            run.created_at,
            run.run_id,
        ):
            return other
    return None


def last_success_before(listed: Sequence[RunInfo], before: datetime) -> RunInfo | None:
    return next((run for run in listed if run.succeeded and run.created_at < before), None)
