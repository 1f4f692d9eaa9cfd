"""Remediations against GitHub, one module per kind of action: execute, check the outcome, undo.

The gate reads each action's metadata from `policy.catalog`; the execute, verify and rollback
steps dispatch here. Nothing in an action builds a parameter from analysis text: it takes the
repository and run id GitHub itself reported and the parameters the gate filled from
configured templates (`policy.templates`).
"""

from __future__ import annotations

from ci_remediator.actions import dispatch, reruns, tracking_issue
from ci_remediator.actions.base import (
    Executed,
    IssueDraft,
    Outcome,
    RemediationAction,
    RemediationTarget,
)
from ci_remediator.domain import ActionKind

ACTIONS: dict[ActionKind, RemediationAction] = {
    ActionKind.RERUN_FAILED_JOBS: reruns.RERUN_FAILED_JOBS,
    ActionKind.RERUN_WORKFLOW: reruns.RERUN_WORKFLOW,
    ActionKind.RERUN_WITH_DEBUG_LOGGING: reruns.RERUN_WITH_DEBUG_LOGGING,
    ActionKind.CLEAR_CACHE_AND_RERUN: reruns.CLEAR_CACHE_AND_RERUN,
    ActionKind.OPEN_TRACKING_ISSUE: tracking_issue.OPEN_TRACKING_ISSUE,
    ActionKind.DISPATCH_REMEDIATION_WORKFLOW: dispatch.DISPATCH_REMEDIATION_WORKFLOW,
}


def action_for(kind: ActionKind) -> RemediationAction:
    """The action that carries out `kind`; LookupError for one the catalog cannot execute."""
    try:
        return ACTIONS[kind]
    except KeyError:
        raise LookupError(f"no remediation action carries out {kind}") from None


__all__ = [
    "ACTIONS",
    "Executed",
    "IssueDraft",
    "Outcome",
    "RemediationAction",
    "RemediationTarget",
    "action_for",
]
