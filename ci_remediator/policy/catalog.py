"""Catalog metadata: the gate reads it; the executor dispatches on it.

Nothing here runs a shell command or builds a parameter from analysis text. A rerun takes only
the repository and run id that GitHub itself reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from ci_remediator.domain import ActionKind


@dataclass(frozen=True, slots=True)
class ActionSpec:
    kind: ActionKind
    min_risk: int
    always_needs_approval: bool
    reversible: bool
    description: str

    @property
    def remediates(self) -> bool:
        return self.kind is not ActionKind.NONE


CATALOG: dict[ActionKind, ActionSpec] = {
    ActionKind.RERUN_FAILED_JOBS: ActionSpec(
        kind=ActionKind.RERUN_FAILED_JOBS,
        min_risk=1,
        always_needs_approval=False,
        # A rerun changes no code and no configuration: what can be undone is an attempt still
        # running at the verify deadline (cancelled).
        reversible=True,
        description="Re-run the failed jobs of the workflow run",
    ),
    ActionKind.NONE: ActionSpec(
        kind=ActionKind.NONE,
        min_risk=0,
        always_needs_approval=False,
        reversible=False,
        description="Report only: a human must look",
    ),
}


def action_spec(kind: ActionKind) -> ActionSpec:
    return CATALOG[kind]
