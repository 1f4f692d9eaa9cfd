from __future__ import annotations

from datetime import UTC, datetime

from ci_remediator.config import FileConfig, resolve_policy
from ci_remediator.domain import ActionKind, Decision, Verdict
from ci_remediator.policy.catalog import action_spec
from ci_remediator.policy.safety_gate import (
    AutoHistory,
    GateInput,
    RememberedDecision,
    RunContext,
    evaluate_gate,
)

RERUN = action_spec(ActionKind.RERUN_FAILED_JOBS)
NONE = action_spec(ActionKind.NONE)
CI_PUSH = RunContext(workflow_name="CI", event="push", head_branch="main")


def gate(risk: int = 2, *, config: dict | None = None, repo: str = "acme/web", **kwargs) -> tuple:
    policy = resolve_policy(FileConfig.model_validate(config or {}), repo)
    decision = evaluate_gate(
        GateInput(
            model_risk=kwargs.pop("model_risk", risk),
            rules_risk=risk,
            policy=policy,
            action=kwargs.pop("action", RERUN),
            run=kwargs.pop("run", CI_PUSH),
            **kwargs,
        )
    )
    return decision.verdict, decision.effective_risk, decision.reasons


def test_low_risk_rerun_is_auto() -> None:
    assert gate(2)[0] is Verdict.AUTO


def test_risk_at_threshold_is_auto_and_above_needs_approval() -> None:
    assert gate(5)[0] is Verdict.AUTO
    verdict, risk, reasons = gate(6)
    assert verdict is Verdict.NEEDS_APPROVAL
    assert risk == 6
    assert any("above the threshold 5" in reason for reason in reasons)


def test_per_repository_threshold_applies() -> None:
    config = {"repository_configs": {"acme/web": {"risk_threshold": 1}}}
    assert gate(2, config=config)[0] is Verdict.NEEDS_APPROVAL
    assert gate(2, config=config, repo="acme/other")[0] is Verdict.AUTO


def test_protected_repository_needs_approval_even_at_zero_risk() -> None:
    verdict, _, reasons = gate(0, config={"protected_repositories": ["acme/web"]})
    assert verdict is Verdict.NEEDS_APPROVAL
    assert "repository is protected" in reasons


def test_nothing_to_do_is_blocked() -> None:
    assert gate(1, action=NONE)[0] is Verdict.BLOCKED


def test_model_cannot_lower_rules_risk() -> None:
    verdict, risk, _ = gate(7, model_risk=0)
    assert (verdict, risk) == (Verdict.NEEDS_APPROVAL, 7)


def test_model_can_raise_risk() -> None:
    verdict, risk, _ = gate(2, model_risk=9)
    assert (verdict, risk) == (Verdict.NEEDS_APPROVAL, 9)


def test_action_floor_applies() -> None:
    assert gate(0)[1] == RERUN.min_risk


def test_protected_branch_raises_risk() -> None:
    assert gate(4, config={"protected_branches": ["main"]})[1] == 6


def test_sensitive_runs_need_approval() -> None:
    deploy = RunContext(workflow_name="Deploy production", event="push", head_branch="main")
    target = RunContext(workflow_name="CI", event="pull_request_target", head_branch="main")
    fork = RunContext(workflow_name="CI", event="pull_request", head_branch="x", from_fork=True)
    for run in (deploy, target, fork):
        assert gate(1, run=run)[0] is Verdict.NEEDS_APPROVAL


def test_attempt_cap_on_a_run_blocks() -> None:
    verdict, _, reasons = gate(1, history=AutoHistory(on_this_run=1))
    assert verdict is Verdict.BLOCKED
    assert "cap 1" in reasons[0]


def test_daily_and_hourly_caps_and_breaker_need_approval() -> None:
    assert gate(1, history=AutoHistory(on_this_workflow_today=5))[0] is Verdict.NEEDS_APPROVAL
    assert gate(1, history=AutoHistory(organization_last_hour=30))[0] is Verdict.NEEDS_APPROVAL
    assert gate(1, breaker_open=True)[0] is Verdict.NEEDS_APPROVAL


# -- what the gate says: people read these reasons in Slack and the audit trail -----------

UNTIL = datetime(2026, 12, 9, 8, 30, tzinfo=UTC)


def remembered(decision: Decision, approved_risk: int = 10) -> RememberedDecision:
    return RememberedDecision(
        memory_id=7,
        decision=decision,
        decided_by="U0ALICE",
        expires_at=UNTIL,
        approved_risk=approved_risk,
    )


def test_a_remembered_rejection_blocks_and_says_whose_rejection_it_was() -> None:
    decision = evaluate_gate(
        GateInput(
            model_risk=8,
            rules_risk=8,
            policy=resolve_policy(FileConfig.model_validate({}), "acme/web"),
            action=RERUN,
            run=CI_PUSH,
            remembered=remembered(Decision.REJECT),
        )
    )
    assert decision.verdict is Verdict.BLOCKED
    assert decision.effective_risk == 8
    assert decision.memory_id == 7
    assert decision.reasons == (
        "remembered rejection #7 by U0ALICE (until 2026-12-09 08:30 UTC): "
        "not remediated, not asked again",
    )


def test_a_remembered_approval_says_it_covers_the_action_at_its_risk() -> None:
    decision = evaluate_gate(
        GateInput(
            model_risk=8,
            rules_risk=8,
            policy=resolve_policy(FileConfig.model_validate({}), "acme/web"),
            action=RERUN,
            run=CI_PUSH,
            remembered=remembered(Decision.APPROVE, approved_risk=8),
        )
    )
    assert decision.verdict is Verdict.AUTO
    assert decision.memory_id == 7
    assert decision.reasons == (
        "remembered approval #7 by U0ALICE (until 2026-12-09 08:30 UTC) covers "
        f"{ActionKind.RERUN_FAILED_JOBS} at risk 8",
    )


def test_each_reason_a_run_always_goes_to_a_human_is_said_in_full() -> None:
    run = RunContext(
        workflow_name="Release",
        event="pull_request_target",
        head_branch="x",
        from_fork=True,
        deployment_environments=("staging", "production"),
        job_names=("publish",),
    )
    verdict, _, reasons = gate(1, run=run)
    assert verdict is Verdict.NEEDS_APPROVAL
    assert reasons == (
        "'Release', 'publish' matches sensitive_workflows",
        "pull_request_target runs carry secrets into untrusted code",
        "run comes from a fork",
        "a job deploys to staging, production",
    )


def test_nothing_to_do_says_so() -> None:
    assert gate(2, action=NONE)[2] == ("no safe remediation exists for this failure",)


def test_the_workflow_file_is_matched_by_its_name_whatever_ref_follows_it() -> None:
    # "@<ref>" after the path, and a ref holding "@" and "/" of its own.
    run = RunContext(
        workflow_name="CI",
        event="push",
        head_branch="main",
        workflow_path=".github/workflows/deploy.yml@refs/heads/fix@2/x",
    )
    verdict, _, reasons = gate(1, run=run)
    assert verdict is Verdict.NEEDS_APPROVAL
    assert reasons == ("'deploy.yml' matches sensitive_workflows",)


def test_each_cap_and_the_breaker_say_which_limit_sent_the_run_to_a_human() -> None:
    assert gate(1, history=AutoHistory(on_this_workflow_today=5))[2] == (
        "daily automatic remediation cap for this workflow reached",
    )
    assert gate(1, history=AutoHistory(organization_last_hour=30))[2] == (
        "hourly automatic remediation cap reached",
    )
    assert gate(1, breaker_open=True)[2] == (
        "circuit breaker is open: automatic success rate collapsed",
    )
