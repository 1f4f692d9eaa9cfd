"""Dispatch the configured remediation workflow (`remediation_workflows`), with the ref and
inputs the gate filled from its templates. Its run's conclusion is the outcome; a run still
going at the verify deadline is cancelled.

GitHub answers a dispatch with 204 and no run id, so the run is found afterwards: the first
`workflow_dispatch` run of that workflow on the ref created since the remediation row was
written (less a minute for clock skew between us and GitHub). A redelivered execute that finds
one does not dispatch again.
"""

from __future__ import annotations

from datetime import timedelta
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

CLOCK_SKEW = timedelta(seconds=60)


def _dispatched_run(gateway: GitHubGateway, target: RemediationTarget) -> RunInfo | None:
    runs = gateway.workflow_runs_since(
        target.repository,
        workflow=str(target.parameters["workflow"]),
        event="workflow_dispatch",
        branch=str(target.parameters["ref"]),
        since=target.created_at - CLOCK_SKEW,
    )
    return runs[0] if runs else None


def _current_dispatched_run(gateway: GitHubGateway, target: RemediationTarget) -> RunInfo | None:
    """The dispatched run as it is now (a listing can lag the run's own status)."""
    found = _dispatched_run(gateway, target)
    return gateway.get_run(target.repository, found.run_id) if found is not None else None


class DispatchRemediationWorkflow:
    def prepare(self, gateway: GitHubGateway, target: RemediationTarget) -> Executed | None:
        return None  # one call does it all

    def execute(self, gateway: GitHubGateway, target: RemediationTarget) -> Executed:
        workflow, ref = str(target.parameters["workflow"]), str(target.parameters["ref"])
        existing = _dispatched_run(gateway, target)
        if existing is not None:
            return Executed(
                f"{workflow} run {existing.run_id} exists already; not dispatched again",
                {"dispatched_run_id": existing.run_id, "html_url": existing.html_url},
            )
        inputs = {str(k): str(v) for k, v in dict(target.parameters.get("inputs", {})).items()}
        gateway.dispatch_workflow(target.repository, workflow=workflow, ref=ref, inputs=inputs)
        return Executed(f"dispatched {workflow} on {ref}", {"workflow": workflow, "ref": ref})

    def outcome(self, gateway: GitHubGateway, target: RemediationTarget) -> Outcome:
        run = _current_dispatched_run(gateway, target)
        if run is None:
            return Outcome(completed=False, detail="the dispatched run has not appeared yet")
        found = {"dispatched_run_id": run.run_id, "html_url": run.html_url}
        if not run.is_completed:
            return Outcome(completed=False, detail=f"run {run.run_id} {run.status}", result=found)
        return Outcome(
            completed=True,
            succeeded=run.succeeded,
            detail=f"{target.parameters['workflow']} run {run.run_id} concluded {run.conclusion}",
            result={**found, "conclusion": run.conclusion},
        )

    def rollback(self, gateway: GitHubGateway, target: RemediationTarget) -> str | None:
        run = _current_dispatched_run(gateway, target)
        if run is None or run.is_completed:
            if run is not None and run.conclusion == "cancelled":
                return f"dispatched run {run.run_id} was cancelled"
            return None
        if not cancel_if_still_running(gateway, target.repository, run.run_id):
            return None
        return f"cancelled dispatched run {run.run_id}, still {run.status} at the deadline"


DISPATCH_REMEDIATION_WORKFLOW = DispatchRemediationWorkflow()
