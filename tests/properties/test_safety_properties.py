"""Invariants of the safety gate over every combination of inputs hypothesis can find."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ci_remediator.config import FileConfig, resolve_policy
from ci_remediator.domain import ActionKind, Decision, Verdict
from ci_remediator.policy.catalog import CATALOG
from ci_remediator.policy.safety_gate import (
    AutoHistory,
    GateInput,
    RememberedDecision,
    RunContext,
    effective_risk,
    evaluate_gate,
    never_remembered_reasons,
)

risks = st.integers(min_value=0, max_value=10)
STRICTNESS = {Verdict.AUTO: 0, Verdict.NEEDS_APPROVAL: 1, Verdict.BLOCKED: 2}


def memories(decision: Decision | None = None) -> st.SearchStrategy[RememberedDecision]:
    return st.builds(
        RememberedDecision,
        memory_id=st.integers(1, 10**6),
        decision=st.just(decision) if decision else st.sampled_from(list(Decision)),
        decided_by=st.just("U012AB3CD"),
        expires_at=st.just(datetime(2026, 12, 9, tzinfo=UTC)),
        approved_risk=risks,
    )


@st.composite
def gate_inputs(draw: st.DrawFn) -> GateInput:
    policy = resolve_policy(
        FileConfig.model_validate(
            {
                "risk_threshold": draw(risks),
                "protected_repositories": ["acme/web"] if draw(st.booleans()) else [],
                "protected_branches": ["main"] if draw(st.booleans()) else [],
            }
        ),
        "acme/web",
    )
    run = RunContext(
        workflow_name=draw(st.sampled_from(["CI", "Deploy prod", "Release", "lint"])),
        event=draw(st.sampled_from(["push", "pull_request", "pull_request_target", "schedule"])),
        head_branch=draw(st.sampled_from(["main", "feature/x", None])),
        from_fork=draw(st.booleans()),
        deployment_environments=draw(st.sampled_from([(), ("production",), ("staging", "qa")])),
        workflow_path=draw(st.sampled_from([None, ".github/workflows/ci.yml", "deploy.yml"])),
        job_names=draw(st.sampled_from([(), ("test",), ("test", "publish-npm")])),
    )
    history = AutoHistory(
        on_this_run=draw(st.integers(0, 3)),
        on_this_workflow_today=draw(st.integers(0, 10)),
        organization_last_hour=draw(st.integers(0, 40)),
    )
    return GateInput(
        model_risk=draw(risks),
        rules_risk=draw(risks),
        policy=policy,
        action=CATALOG[draw(st.sampled_from(list(ActionKind)))],
        run=run,
        history=history,
        breaker_open=draw(st.booleans()),
        remembered=draw(st.none() | memories()),
    )


@given(gate_inputs())
def test_auto_only_when_every_condition_holds(gate_input: GateInput) -> None:
    decision = evaluate_gate(gate_input)
    if decision.verdict is Verdict.AUTO:
        assert not gate_input.policy.protected
        assert gate_input.action.kind is not ActionKind.NONE
        assert gate_input.run.event != "pull_request_target"
        assert not gate_input.run.from_fork
        assert not gate_input.breaker_open
        assert not gate_input.run.deployment_environments
        assert not gate_input.run.sensitive_names(gate_input.policy)
        memory = gate_input.remembered
        if decision.memory_id is None:
            assert not gate_input.action.always_needs_approval
        else:  # a human's remembered approval, and no riskier than what they saw
            assert memory is not None
            assert memory.memory_id == decision.memory_id
            assert memory.decision is Decision.APPROVE
            assert decision.effective_risk <= memory.approved_risk
        if decision.effective_risk > gate_input.policy.risk_threshold:
            assert decision.memory_id is not None
        history, policy = gate_input.history, gate_input.policy
        assert history.on_this_run < policy.max_auto_attempts_per_run
        assert history.on_this_workflow_today < policy.max_auto_per_workflow_per_day
        assert history.organization_last_hour < gate_input.max_auto_per_hour


@given(gate_inputs())
def test_effective_risk_never_below_rules_or_model_and_within_scale(gate_input: GateInput) -> None:
    risk = evaluate_gate(gate_input).effective_risk
    assert 0 <= risk <= 10
    assert risk >= min(10, max(gate_input.rules_risk, gate_input.model_risk))


@given(gate_inputs(), risks)
def test_a_higher_model_risk_never_loosens_the_verdict(gate_input: GateInput, extra: int) -> None:
    strictness = STRICTNESS
    before = evaluate_gate(gate_input).verdict
    raised = GateInput(
        **{**_fields(gate_input), "model_risk": min(10, gate_input.model_risk + extra)}
    )
    assert strictness[evaluate_gate(raised).verdict] >= strictness[before]
    assert effective_risk(raised) >= effective_risk(gate_input)


@given(gate_inputs())
def test_every_verdict_carries_a_reason(gate_input: GateInput) -> None:
    assert evaluate_gate(gate_input).reasons


def _fields(gate_input: GateInput) -> dict:
    return {name: getattr(gate_input, name) for name in GateInput.__dataclass_fields__}


@given(gate_inputs(), memories())
def test_no_memory_changes_the_verdict_on_a_protected_repository_or_a_sensitive_run(
    gate_input: GateInput, memory: RememberedDecision
) -> None:
    if not never_remembered_reasons(gate_input):
        return
    forgotten = evaluate_gate(replace(gate_input, remembered=None))
    remembered = evaluate_gate(replace(gate_input, remembered=memory))
    assert remembered == forgotten
    assert remembered.memory_id is None


@given(gate_inputs(), memories(Decision.REJECT))
def test_a_remembered_rejection_only_ever_tightens(
    gate_input: GateInput, memory: RememberedDecision
) -> None:
    forgotten = evaluate_gate(replace(gate_input, remembered=None))
    remembered = evaluate_gate(replace(gate_input, remembered=memory))
    assert remembered.verdict is not Verdict.AUTO
    assert STRICTNESS[remembered.verdict] >= STRICTNESS[forgotten.verdict]


@given(gate_inputs(), memories(Decision.APPROVE))
def test_a_remembered_approval_never_tightens_and_never_lifts_a_cap_or_the_breaker(
    gate_input: GateInput, memory: RememberedDecision
) -> None:
    forgotten = evaluate_gate(replace(gate_input, remembered=None))
    remembered = evaluate_gate(replace(gate_input, remembered=memory))
    assert STRICTNESS[remembered.verdict] <= STRICTNESS[forgotten.verdict]
    history, policy = gate_input.history, gate_input.policy
    limited = (
        gate_input.breaker_open
        or history.on_this_workflow_today >= policy.max_auto_per_workflow_per_day
        or history.organization_last_hour >= gate_input.max_auto_per_hour
    )
    if limited:
        assert remembered.verdict is forgotten.verdict


@st.composite
def rememberable_inputs(draw: st.DrawFn) -> GateInput:
    """Runs a memory may cover (not protected, nothing sensitive), the risk, the threshold and
    the caps drawn: the inputs where a memory decides something."""
    policy = resolve_policy(FileConfig.model_validate({"risk_threshold": draw(risks)}), "acme/web")
    return GateInput(
        model_risk=draw(risks),
        rules_risk=draw(risks),
        policy=policy,
        action=CATALOG[ActionKind.RERUN_FAILED_JOBS],
        run=RunContext(workflow_name="CI", event="push", head_branch="feature/x"),
        history=AutoHistory(
            on_this_workflow_today=draw(st.integers(0, 6)),
            organization_last_hour=draw(st.integers(0, 31)),
        ),
        breaker_open=draw(st.booleans()),
    )


@given(rememberable_inputs(), memories(Decision.APPROVE))
def test_a_remembered_approval_covers_no_riskier_repeat_than_the_human_saw(
    gate_input: GateInput, memory: RememberedDecision
) -> None:
    assert not never_remembered_reasons(gate_input)
    forgotten = evaluate_gate(gate_input)
    remembered = evaluate_gate(replace(gate_input, remembered=memory))
    if remembered.memory_id is not None:
        assert remembered.verdict is Verdict.AUTO
        assert forgotten.verdict is Verdict.NEEDS_APPROVAL
        assert remembered.effective_risk <= memory.approved_risk
    if effective_risk(gate_input) > memory.approved_risk:
        assert remembered == forgotten


@given(rememberable_inputs(), memories(Decision.APPROVE))
def test_a_remembered_approval_stands_in_for_the_human_when_only_the_risk_asked(
    gate_input: GateInput, memory: RememberedDecision
) -> None:
    forgotten = evaluate_gate(gate_input)
    remembered = evaluate_gate(replace(gate_input, remembered=memory))
    only_the_risk_asked = forgotten.verdict is Verdict.NEEDS_APPROVAL and all(
        reason.startswith("risk ") for reason in forgotten.reasons
    )
    if only_the_risk_asked and forgotten.effective_risk <= memory.approved_risk:
        assert remembered.verdict is Verdict.AUTO
        assert remembered.memory_id == memory.memory_id
    else:
        assert remembered.verdict is forgotten.verdict


def _always_asked(gate_input: GateInput, reason: str) -> GateInput:
    """`gate_input` made a run no memory may cover, for `reason`."""
    run = gate_input.run
    if reason == "protected":
        policy = resolve_policy(
            FileConfig.model_validate(
                {
                    "risk_threshold": gate_input.policy.risk_threshold,
                    "protected_repositories": ["acme/web"],
                }
            ),
            "acme/web",
        )
        return replace(gate_input, policy=policy)
    changed = {
        "sensitive": replace(run, workflow_name="Deploy prod"),
        "pull_request_target": replace(run, event="pull_request_target"),
        "fork": replace(run, from_fork=True),
        "deployment": replace(run, deployment_environments=("production",)),
    }[reason]
    return replace(gate_input, run=changed)


@given(
    rememberable_inputs(),
    memories(),
    st.sampled_from(["protected", "sensitive", "pull_request_target", "fork", "deployment"]),
)
def test_a_memory_never_applies_to_a_run_that_always_goes_to_a_human(
    gate_input: GateInput, memory: RememberedDecision, reason: str
) -> None:
    always = _always_asked(gate_input, reason)
    assert never_remembered_reasons(always)
    remembered = evaluate_gate(replace(always, remembered=memory))
    assert remembered == evaluate_gate(always)
    assert remembered.memory_id is None
    assert remembered.verdict is Verdict.NEEDS_APPROVAL


@given(gate_inputs())
def test_effective_risk_never_below_the_actions_floor(gate_input: GateInput) -> None:
    assert evaluate_gate(gate_input).effective_risk >= min(10, gate_input.action.min_risk)


@given(gate_inputs(), st.integers(min_value=1, max_value=10))
def test_raising_the_threshold_never_turns_auto_into_asking(
    gate_input: GateInput, raise_by: int
) -> None:
    policy = gate_input.policy
    looser = policy.model_copy(update={"risk_threshold": min(10, policy.risk_threshold + raise_by)})
    before = evaluate_gate(gate_input).verdict
    after = evaluate_gate(replace(gate_input, policy=looser)).verdict

    assert STRICTNESS[after] <= STRICTNESS[before]
    if before is Verdict.AUTO:
        assert after is Verdict.AUTO


@given(gate_inputs())
def test_any_analysis_yields_one_valid_verdict_with_its_reasons(gate_input: GateInput) -> None:
    decision = evaluate_gate(gate_input)

    assert decision.verdict in set(Verdict)
    assert 0 <= decision.effective_risk <= 10
    assert all(isinstance(reason, str) and reason for reason in decision.reasons)
    assert decision.reasons
