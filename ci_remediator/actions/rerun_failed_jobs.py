"""Re-run the failed jobs of a run. It changes no code or configuration; what can be undone is
an attempt still running at the verify deadline, which is cancelled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci_remediator.actions.base import RemediationTarget
from ci_remediator.github.errors import PermanentGitHubError

# GitHub's answer to cancelling a run that completed meanwhile.
_ALREADY_COMPLETED = 409

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway
    from ci_remediator.github.values import RunInfo


class RerunFailedJobs:
    def execute(self, gateway: GitHubGateway, target: RemediationTarget) -> str:
        latest = gateway.get_run(target.repository, target.run_id)
        if latest.run_attempt >= target.target_attempt:
            # A redelivered task after GitHub acted (the worker died before the commit).
            return f"attempt {latest.run_attempt} already exists; the rerun was not sent again"
        gateway.rerun_failed_jobs(target.repository, target.run_id)
        return f"re-run of the failed jobs requested (attempt {target.target_attempt})"

    def outcome(self, gateway: GitHubGateway, target: RemediationTarget) -> RunInfo:
        return gateway.get_run_attempt(target.repository, target.run_id, target.target_attempt)

    def rollback(self, gateway: GitHubGateway, target: RemediationTarget) -> str | None:
        attempt = self.outcome(gateway, target)
        if attempt.is_completed:
            if attempt.conclusion == "cancelled":  # a redelivered rollback after GitHub acted
                return f"attempt {attempt.run_attempt} was cancelled"
            return None
        try:
            gateway.cancel_run(target.repository, target.run_id)
        except PermanentGitHubError as error:
            if error.status == _ALREADY_COMPLETED:
                return None
            raise
        return f"cancelled attempt {attempt.run_attempt}, still {attempt.status} at the deadline"


ACTION = RerunFailedJobs()
