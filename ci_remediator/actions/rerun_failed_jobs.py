"""Re-run the failed jobs of a run. Nothing to undo: it changes no code or configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci_remediator.actions.base import RemediationTarget

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


ACTION = RerunFailedJobs()
