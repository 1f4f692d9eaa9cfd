"""The safety gate: a pure function from (analysis, policy, action, run, history) to a verdict.

It never performs I/O and never trusts text: it reads only enums and numbers from the analysis,
so nothing a log line or a model says can widen what it allows. The model can raise the risk,
never lower it below what the rules alone said (`rules_risk`).

A remembered human decision ("Approve and always", "Reject and never ask") stands in for the
human's judgement of the risk and of an action that always asks, up to the risk they saw; it
never covers a protected repository or a sensitive run, and never lifts a cap or an open breaker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ci_remediator.config import RepositoryPolicy
from ci_remediator.domain import Decision, GateDecisionResult, Verdict
from ci_remediator.policy.catalog import ActionSpec

PROTECTED_BRANCH_RISK = 2
MAX_RISK = 10


@dataclass(frozen=True, slots=True)
class RunContext:
    """What the gate knows of the run, all of it as GitHub's API reported it."""

    workflow_name: str
    event: str
    head_branch: str | None
    from_fork: bool = False
    deployment_environments: tuple[str, ...] = ()
    workflow_path: str | None = None
    job_names: tuple[str, ...] = ()
    # A newer run of the same workflow on the same branch (its id): this one is not re-run.
    superseded_by_run_id: int | None = None
    # Or the commit its branch points at now, past the run's own: not re-run either.
    superseded_by_commit: str | None = None

    def sensitive_names(self, policy: RepositoryPolicy) -> tuple[str, ...]:
        """The workflow name, its file and the failed jobs that match sensitive_workflows."""
        candidates = [self.workflow_name, *self.job_names]
        if self.workflow_path:
            # ".github/workflows/deploy.yml", sometimes with "@<ref>" after it: the file name.
            candidates.append(self.workflow_path.split("@", 1)[0].rsplit("/", 1)[-1])
        return tuple(name for name in candidates if policy.is_sensitive_workflow(name))


@dataclass(frozen=True, slots=True)
class AutoHistory:
    """Automatic remediations already spent, counted by the caller from the database."""

    on_this_run: int = 0
    on_this_workflow_today: int = 0
    organization_last_hour: int = 0


@dataclass(frozen=True, slots=True)
class RememberedDecision:
    """An unrevoked, unexpired memory for this repository, failure fingerprint and action."""

    memory_id: int
    decision: Decision
    decided_by: str
    expires_at: datetime
    # The effective risk the human saw when deciding: an approval covers no more than that.
    approved_risk: int

    def describe(self) -> str:
        said = "approval" if self.decision is Decision.APPROVE else "rejection"
        return (
            f"remembered {said} #{self.memory_id} by {self.decided_by} "
            f"(until {self.expires_at:%Y-%m-%d %H:%M} UTC)"
        )


@dataclass(frozen=True, slots=True)
class GateInput:
    model_risk: int
    rules_risk: int
    policy: RepositoryPolicy
    action: ActionSpec
    run: RunContext
    history: AutoHistory = AutoHistory()
    max_auto_per_hour: int = 30
    breaker_open: bool = False
    remembered: RememberedDecision | None = None


def effective_risk(gate_input: GateInput) -> int:
    risk = max(gate_input.model_risk, gate_input.rules_risk, gate_input.action.min_risk)
    if gate_input.policy.is_protected_branch(gate_input.run.head_branch):
        risk += PROTECTED_BRANCH_RISK
    return min(risk, MAX_RISK)


def never_remembered_reasons(gate_input: GateInput) -> tuple[str, ...]:
    """Why this run always goes to a human, whatever anyone remembered: a protected repository
    or a sensitive run (DESIGN.md section 7). Empty when a memory may cover it."""
    policy, run = gate_input.policy, gate_input.run
    sensitive = run.sensitive_names(policy)
    checks = (
        (policy.protected, "repository is protected"),
        (bool(sensitive), f"{', '.join(map(repr, sensitive))} matches sensitive_workflows"),
        (
            run.event == "pull_request_target",
            "pull_request_target runs carry secrets into untrusted code",
        ),
        (run.from_fork, "run comes from a fork"),
        (
            bool(run.deployment_environments),
            f"a job deploys to {', '.join(run.deployment_environments)}",
        ),
    )
    return tuple(reason for applies, reason in checks if applies)


def blocked_reason(gate_input: GateInput) -> str | None:
    """Why nothing may run at all, whoever asks: no remediation, a newer run, the run's cap."""
    policy, run, history = gate_input.policy, gate_input.run, gate_input.history
    if not gate_input.action.remediates:
        return "no safe remediation exists for this failure"
    if run.superseded_by_run_id is not None:
        return (
            f"superseded: run {run.superseded_by_run_id} of this workflow on "
            f"{run.head_branch} is newer, so this run is not re-run"
        )
    if run.superseded_by_commit is not None:
        return (
            f"superseded: {run.head_branch} has moved on to {run.superseded_by_commit[:7]} "
            "past this run's commit, so this run is not re-run"
        )
    if history.on_this_run >= policy.max_auto_attempts_per_run:
        return (
            f"{history.on_this_run} automatic attempt(s) already made on this run "
            f"(cap {policy.max_auto_attempts_per_run})"
        )
    return None


def evaluate_gate(gate_input: GateInput) -> GateDecisionResult:
    policy, action, history = gate_input.policy, gate_input.action, gate_input.history
    risk = effective_risk(gate_input)
    blocked = blocked_reason(gate_input)
    if blocked is not None:
        return GateDecisionResult(Verdict.BLOCKED, risk, (blocked,))

    always_asked = never_remembered_reasons(gate_input)
    memory = gate_input.remembered if not always_asked else None
    if memory is not None and memory.decision is Decision.REJECT:
        return GateDecisionResult(
            Verdict.BLOCKED,
            risk,
            (f"{memory.describe()}: not remediated, not asked again",),
            memory_id=memory.memory_id,
        )
    judged = [
        reason
        for applies, reason in (
            (action.always_needs_approval, f"{action.kind} always needs approval"),
            (
                risk > policy.risk_threshold,
                f"risk {risk} is above the threshold {policy.risk_threshold}",
            ),
        )
        if applies
    ]
    covering = memory if judged and memory is not None and risk <= memory.approved_risk else None
    limits = [
        reason
        for applies, reason in (
            (
                history.on_this_workflow_today >= policy.max_auto_per_workflow_per_day,
                "daily automatic remediation cap for this workflow reached",
            ),
            (
                history.organization_last_hour >= gate_input.max_auto_per_hour,
                "hourly automatic remediation cap reached",
            ),
            (
                gate_input.breaker_open,
                "circuit breaker is open: automatic success rate collapsed",
            ),
        )
        if applies
    ]
    approval_reasons = [*always_asked, *([] if covering else judged), *limits]
    if approval_reasons:
        return GateDecisionResult(Verdict.NEEDS_APPROVAL, risk, tuple(approval_reasons))
    if covering is not None:
        return GateDecisionResult(
            Verdict.AUTO,
            risk,
            (f"{covering.describe()} covers {action.kind} at risk {risk}",),
            memory_id=covering.memory_id,
        )
    return GateDecisionResult(
        Verdict.AUTO, risk, (f"risk {risk} is within the threshold {policy.risk_threshold}",)
    )
