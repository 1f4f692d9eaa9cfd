"""The reruns: the failed jobs, the whole run, the failed jobs with debug logging, and the
failed jobs after deleting the configured caches. Each changes no code or configuration; what
can be undone is an attempt still running at the verify deadline, which is cancelled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ci_remediator.actions.base import (
    Executed,
    Outcome,
    RemediationTarget,
    cancel_if_still_running,
)

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway
    from ci_remediator.github.values import RunInfo


CACHES_DELETED = "caches_deleted"


def _latest(gateway: GitHubGateway, target: RemediationTarget) -> RunInfo:
    """The run as the execute step read it just before, or as GitHub says now."""
    return target.latest or gateway.get_run(target.repository, target.run_id)


def _deleted_words(deleted: dict[str, int]) -> str:
    named = ", ".join(deleted)
    count = sum(deleted.values())
    return (
        f"deleted {count} cache(s) ({named}); "
        if count
        else f"found no cache to delete ({named}); "
    )


def _failed_jobs(gateway: GitHubGateway, target: RemediationTarget) -> None:
    gateway.rerun_failed_jobs(target.repository, target.run_id)


def _failed_jobs_with_debug_logging(gateway: GitHubGateway, target: RemediationTarget) -> None:
    gateway.rerun_failed_jobs(target.repository, target.run_id, enable_debug_logging=True)


def _whole_run(gateway: GitHubGateway, target: RemediationTarget) -> None:
    gateway.rerun_run(target.repository, target.run_id)


@dataclass(frozen=True, slots=True)
class Rerun:
    what: str
    send: Callable[[GitHubGateway, RemediationTarget], None]
    # Delete the caches named in the parameters (`cache_keys`) before the rerun.
    clears_caches: bool = False

    def prepare(self, gateway: GitHubGateway, target: RemediationTarget) -> Executed | None:
        """Delete the configured caches (once: the record of it is kept before the rerun)."""
        if not self.clears_caches or CACHES_DELETED in target.result:
            return None
        if _latest(gateway, target).run_attempt >= target.target_attempt:
            return None  # GitHub has the rerun already: execute says so, nothing is deleted
        keys = [str(key) for key in target.parameters.get("cache_keys", ())]
        deleted = {key: gateway.delete_caches(target.repository, key=key) for key in keys}
        return Executed(_deleted_words(deleted).removesuffix("; "), {CACHES_DELETED: deleted})

    def execute(self, gateway: GitHubGateway, target: RemediationTarget) -> Executed:
        latest = _latest(gateway, target)
        if latest.run_attempt >= target.target_attempt:
            # A redelivered task after GitHub acted (the worker died before the commit).
            return Executed(
                f"attempt {latest.run_attempt} already exists; the rerun was not sent again",
                {"attempt": target.target_attempt, "html_url": latest.html_url},
            )
        deleted = target.result.get(CACHES_DELETED)
        said = _deleted_words(deleted) if self.clears_caches and deleted is not None else ""
        self.send(gateway, target)
        return Executed(
            f"{said}{self.what} requested (attempt {target.target_attempt})",
            {"attempt": target.target_attempt, "html_url": latest.html_url},
        )

    def outcome(self, gateway: GitHubGateway, target: RemediationTarget) -> Outcome:
        if target.observed_conclusion == "success":
            # GitHub said so in a signed delivery, and an attempt concludes once. A failed one is
            # read again: its escalation shows the attempt's own diagnosis.
            return Outcome(
                completed=True,
                succeeded=True,
                detail=f"attempt {target.target_attempt} concluded success"
                " (GitHub's delivery said so)",
                result={"conclusion": "success"},
                passed_attempt=target.target_attempt,
            )
        attempt = gateway.get_run_attempt(target.repository, target.run_id, target.target_attempt)
        if not attempt.is_completed:
            said = f"attempt {attempt.run_attempt} {attempt.status}"
            return Outcome(completed=False, detail=said)
        return Outcome(
            completed=True,
            succeeded=attempt.succeeded,
            detail=f"attempt {attempt.run_attempt} concluded {attempt.conclusion}",
            result={"conclusion": attempt.conclusion},
            passed_attempt=attempt.run_attempt if attempt.succeeded else None,
            attempt=attempt,
        )

    def rollback(self, gateway: GitHubGateway, target: RemediationTarget) -> str | None:
        attempt = gateway.get_run_attempt(target.repository, target.run_id, target.target_attempt)
        kept = "; the deleted caches stay deleted" if self.clears_caches else ""
        if attempt.is_completed:
            if attempt.conclusion == "cancelled":  # a redelivered rollback after GitHub acted
                return f"attempt {attempt.run_attempt} was cancelled{kept}"
            return None
        if not cancel_if_still_running(gateway, target.repository, target.run_id):
            return None
        return (
            f"cancelled attempt {attempt.run_attempt}, still {attempt.status} at the deadline{kept}"
        )


RERUN_FAILED_JOBS = Rerun("re-run of the failed jobs", _failed_jobs)
RERUN_WORKFLOW = Rerun("re-run of every job", _whole_run)
RERUN_WITH_DEBUG_LOGGING = Rerun(
    "re-run of the failed jobs with debug logging", _failed_jobs_with_debug_logging
)
CLEAR_CACHE_AND_RERUN = Rerun("re-run of the failed jobs", _failed_jobs, clears_caches=True)
