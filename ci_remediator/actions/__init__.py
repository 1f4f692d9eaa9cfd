"""Remediations against GitHub, one module per ActionKind: execute, check the outcome, undo.

The gate reads each action's metadata from `policy.catalog`; the execute and verify steps
dispatch here. Nothing in an action builds a parameter from analysis text: a rerun takes only
the repository and run id GitHub itself reported.
"""

from __future__ import annotations

from ci_remediator.actions import rerun_failed_jobs
from ci_remediator.actions.base import RemediationAction, RemediationTarget
from ci_remediator.domain import ActionKind

ACTIONS: dict[ActionKind, RemediationAction] = {
    ActionKind.RERUN_FAILED_JOBS: rerun_failed_jobs.ACTION,
}


def action_for(kind: ActionKind) -> RemediationAction:
    """The action that carries out `kind`; LookupError for one the catalog cannot execute."""
    try:
        return ACTIONS[kind]
    except KeyError:
        raise LookupError(f"no remediation action carries out {kind}") from None


__all__ = ["ACTIONS", "RemediationAction", "RemediationTarget", "action_for"]
