"""Catalog metadata: the gate reads it; the executor dispatches on it (`ci_remediator.actions`).

Nothing here runs a shell command or builds a parameter from analysis text. What reaches GitHub
is the repository and run id GitHub itself reported, plus parameters filled from configured
templates (`policy.parameters`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ci_remediator.domain import ActionKind


@dataclass(frozen=True, slots=True)
class ActionSpec:
    kind: ActionKind
    min_risk: int
    always_needs_approval: bool
    # Something is left to undo at the verify deadline (an attempt or run still going).
    reversible: bool
    # Its success means the failed run was fixed: only these count for the circuit breaker.
    fixes_run: bool
    description: str
    # The config key that must name its parameters before it can be chosen, if any.
    requires: str | None = None

    @property
    def remediates(self) -> bool:
        return self.kind is not ActionKind.NONE


_SPECS = (
    ActionSpec(
        kind=ActionKind.RERUN_FAILED_JOBS,
        min_risk=1,
        always_needs_approval=False,
        # A rerun changes no code and no configuration: what can be undone is an attempt still
        # running at the verify deadline (cancelled).
        reversible=True,
        fixes_run=True,
        description="Re-run the failed jobs of the workflow run",
    ),
    ActionSpec(
        kind=ActionKind.RERUN_WORKFLOW,
        min_risk=2,  # every job again, the passing ones too: more runner time, more side effects
        always_needs_approval=False,
        reversible=True,
        fixes_run=True,
        description="Re-run every job of the workflow run",
    ),
    ActionSpec(
        kind=ActionKind.RERUN_WITH_DEBUG_LOGGING,
        min_risk=3,  # runner and step debug logs show more of the environment than usual
        always_needs_approval=False,
        reversible=True,
        fixes_run=True,
        description="Re-run the failed jobs with runner and step debug logging",
    ),
    ActionSpec(
        kind=ActionKind.CLEAR_CACHE_AND_RERUN,
        min_risk=3,  # a deleted cache cannot be restored; the next runs rebuild it
        always_needs_approval=False,
        reversible=True,  # the rerun can be cancelled; the deleted caches stay deleted
        fixes_run=True,
        description="Delete the Actions caches of the configured keys, then re-run the failed jobs",
        requires="cache_key_templates",
    ),
    ActionSpec(
        kind=ActionKind.OPEN_TRACKING_ISSUE,
        min_risk=2,  # the analysis becomes an issue, public on a public repository
        always_needs_approval=False,
        # The issue is how people take over: it stays open until a later run passes.
        reversible=False,
        fixes_run=False,
        description="Open a tracking issue with the analysis (one per failure fingerprint)",
    ),
    ActionSpec(
        kind=ActionKind.DISPATCH_REMEDIATION_WORKFLOW,
        min_risk=4,  # runs the repository's own remediation code with its secrets
        always_needs_approval=False,
        reversible=True,  # a dispatched run still going at the deadline is cancelled
        fixes_run=True,
        description="Dispatch the configured remediation workflow",
        requires="remediation_workflows",
    ),
    ActionSpec(
        kind=ActionKind.NONE,
        min_risk=0,
        always_needs_approval=False,
        reversible=False,
        fixes_run=False,
        description="Report only: a human must look",
    ),
)

CATALOG: dict[ActionKind, ActionSpec] = {spec.kind: spec for spec in _SPECS}

# The actions whose outcome is a new attempt of the failed run itself.
RERUNS = frozenset(
    {
        ActionKind.RERUN_FAILED_JOBS,
        ActionKind.RERUN_WORKFLOW,
        ActionKind.RERUN_WITH_DEBUG_LOGGING,
        ActionKind.CLEAR_CACHE_AND_RERUN,
    }
)


FIXES_RUN = frozenset(spec.kind for spec in _SPECS if spec.fixes_run)


def action_spec(kind: ActionKind) -> ActionSpec:
    return CATALOG[kind]
