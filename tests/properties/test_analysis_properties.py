"""Properties of the analysis: triggered once per failure, and whatever the log, the rules or
the model say, a category of the enum, a risk on the scale, an effort and confidence in range,
components named and redacted, a proposal of the catalog with every parameter, stored as is.

The model is the real `openai` client talking to the OpenAI sandbox, scripted with generated
answers (valid, out of range, mistyped, malformed, refused, truncated); GitHub is the GitHub
sandbox behind the real gateway; persistence is the real Postgres.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from ci_remediator.analysis.redaction import redact
from ci_remediator.analysis.rules import (
    KnowledgeBase,
    KnowledgeBaseError,
    analyze_with_rules,
    load_knowledge_base,
    parse_rules,
)
from ci_remediator.config import AppConfig, FileConfig, load_config
from ci_remediator.db.models import Analysis, Failure
from ci_remediator.domain import (
    ActionKind,
    AnalysisResult,
    Category,
    Effort,
    FailureState,
    Step,
    Verdict,
)
from ci_remediator.llm.client import (
    FALLBACK_ANALYZER_NAME,
    MAX_COMPONENT_CHARS,
    MAX_COMPONENTS,
    LlmAnalyzer,
    ModelAnalysis,
    merge,
)
from ci_remediator.pipeline.analyze import (
    RunDiagnosis,
    _store,  # the analyze step's own write: the round trip starts where the step writes
    analyze_failure,
    combine_job_results,
)
from ci_remediator.pipeline.detect import poll_repository
from ci_remediator.pipeline.webhook import handle_delivery
from ci_remediator.policy.catalog import CATALOG
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.openai import (
    Behaviour,
    Malformed,
    OpenAISandbox,
    Refusal,
    Reply,
    Truncated,
)
from ci_remediator.sandbox.scenarios import demo_log
from ci_remediator.sandbox.webhook_sender import workflow_run_payload
from ci_remediator.services import Services
from ci_remediator.text import strip_controls
from tests.integration.conftest import engine, redis_client  # noqa: F401 - fixtures
from tests.properties.profiles import examples
from tests.properties.test_safety_gate_properties import (
    REPOSITORY,
    GateScenario,
    add_failure,
    gate_on_postgres,
    gate_scenarios,
    rolled_back,
)

KNOWLEDGE_BASE: KnowledgeBase = load_knowledge_base()
DEMO_LOGS = (
    "compile_error.log",
    "flaky_test.log",
    "network_again.log",
    "network_blip.log",
    "registry_503.log",
)
# Secrets the analysis must never keep, in the shapes redaction knows.
SECRETS = (
    "ghp_" + "Q" * 36,
    "xoxb-123456789012-123456789012-" + "z" * 24,
    "AKIA" + "R" * 16,
    "sk-proj-" + "k" * 40,
)


# ----------------------------------------------------------------------- fixtures ----


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def services(github: GitHubSandbox, redis_client: Any) -> Services:  # noqa: F811
    """The real gateway (budget and read cache on the real Redis) in front of the sandbox,
    paced far above what the tests send (pacing is measured in bench/, not here)."""
    base = load_config(env_overrides={"github_api_url": github.url})
    file = FileConfig.model_validate({"github_max_requests_per_minute": 600_000})
    return Services(AppConfig(settings=base.settings, file=file))


@pytest.fixture(scope="module")
def model() -> Iterator[OpenAISandbox]:
    with OpenAISandbox(knowledge_base=KNOWLEDGE_BASE) as running:
        yield running


@pytest.fixture(scope="module")
def llm(model: OpenAISandbox) -> Iterator[LlmAnalyzer]:
    with LlmAnalyzer(
        api_key="sk-test-analysis-properties-0123", base_url=model.url, max_retries=0
    ) as analyzer:
        yield analyzer


# --------------------------------------------------------------------- strategies ----

# Text as a log, a job name or a model may write it: any character (NUL, escapes, bidi
# controls, emoji), sometimes with a secret inside.
any_text = st.text(max_size=40)
# Control characters a hostile log or model puts in on purpose: NUL (Postgres refuses it),
# terminal escapes, the bell, DEL.
control_text = st.sampled_from(["\x00", "nul\x00here", "\x1b[31mred\x1b[0m", "bell\x07", "\x7f"])
untrusted_text = st.one_of(
    any_text,
    control_text,
    st.sampled_from(SECRETS),
    st.tuples(any_text, st.sampled_from(SECRETS), any_text).map(" ".join),
)
# What a model may name as components: a few, or more than are kept, some longer than kept.
model_components = st.one_of(
    st.lists(untrusted_text, max_size=5),
    st.lists(
        untrusted_text
        | st.text(min_size=MAX_COMPONENT_CHARS - 5, max_size=MAX_COMPONENT_CHARS + 50),
        min_size=MAX_COMPONENTS - 2,
        max_size=MAX_COMPONENTS + 5,
    ),
)
log_lines = st.one_of(
    any_text,
    untrusted_text.map(lambda text: f"##[error]{text}"),
    st.sampled_from(DEMO_LOGS).flatmap(
        lambda name: st.sampled_from(demo_log(name).splitlines() or [""])
    ),
    st.just("##[error]Process completed with exit code 1."),
    st.just("\x1b[31mError:\x1b[0m connect ETIMEDOUT 10.0.0.1:443"),
)
logs = st.one_of(
    st.sampled_from(DEMO_LOGS).map(demo_log),
    st.lists(log_lines, max_size=30).map("\n".join),
)
job_names = st.one_of(st.sampled_from(["test", "build", "lint", "publish-npm"]), untrusted_text)


def rules_result(log_text: str, job_name: str, workflow_name: str = "CI") -> AnalysisResult:
    return analyze_with_rules(
        log_text, kb=KNOWLEDGE_BASE, job_name=job_name, workflow_name=workflow_name
    )


valid_answers = st.fixed_dictionaries(
    {
        "category": st.sampled_from([member.value for member in Category]),
        "risk_score": st.integers(0, 10),
        "confidence": st.floats(0.0, 1.0),
        "flaky": st.booleans(),
        "summary": untrusted_text,
        "root_cause": untrusted_text,
        "affected_components": model_components,
        "effort": st.sampled_from([member.value for member in Effort]),
        "proposed_action": st.sampled_from([member.value for member in ActionKind]),
        "suggested_fix": untrusted_text,
    }
)
# Per field, values the schema refuses: out of range, mistyped (strict: no coercion), unknown.
WRONG_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "category": st.sampled_from(["", "catastrophe", "TEST_FAILURE", None, 3, ["lint"]]),
    "risk_score": st.one_of(
        st.integers(11, 10**6),
        st.integers(-(10**6), -1),
        st.sampled_from([5.5, "5", True, None, [5]]),
    ),
    "confidence": st.one_of(
        st.floats(1.0, 1e9, exclude_min=True),
        st.floats(-1e9, 0.0, exclude_max=True),
        st.sampled_from(["0.5", None, True]),
    ),
    "flaky": st.sampled_from(["yes", 1, None]),
    "summary": st.sampled_from([None, 7, ["a"]]),
    "affected_components": st.sampled_from(["api", [1, 2], None, {"a": "b"}]),
    "effort": st.sampled_from(["huge", "", None, 2]),
    "proposed_action": st.sampled_from(["rm -rf /", "deploy_to_production", "", None]),
}


@dataclass(frozen=True)
class Answer:
    """One scripted model reply, and whether the schema accepts it (known by construction)."""

    behaviour: Behaviour
    usable: bool

    @property
    def content(self) -> dict[str, Any]:
        assert isinstance(self.behaviour, Reply)
        return self.behaviour.content_obj


@st.composite
def unusable_answers(draw: st.DrawFn) -> Answer:
    kind = draw(
        st.sampled_from(["wrong value", "missing", "extra", "not an object", "text", "other"])
    )
    content = dict(draw(valid_answers))
    if kind == "wrong value":
        field = draw(st.sampled_from(sorted(WRONG_VALUES)))
        content[field] = draw(WRONG_VALUES[field])
    elif kind == "missing":
        del content[draw(st.sampled_from(sorted(content)))]
    elif kind == "extra":
        content[draw(st.sampled_from(["shell", "command", "threshold_override"]))] = "rm -rf /"
    elif kind == "not an object":
        return Answer(Reply(draw(st.sampled_from([[content], "ok", 42, None]))), usable=False)
    elif kind == "text":
        return Answer(Malformed(draw(st.sampled_from(["Sure!", "{", "```json\n{}\n```"]))), False)
    else:
        return Answer(draw(st.sampled_from([Refusal(), Truncated()])), usable=False)
    return Answer(Reply(content), usable=False)


answers = st.one_of(
    valid_answers.map(lambda content: Answer(Reply(content), True)), unusable_answers()
)


@dataclass(frozen=True)
class Asked:
    """What the analyzer concluded, with the rules' result and the answer it had to use."""

    result: AnalysisResult
    rules: AnalysisResult
    used: dict[str, Any] | None


def ask(
    llm: LlmAnalyzer, model: OpenAISandbox, rules: AnalysisResult, replies: list[Answer]
) -> Asked:
    """The LLM analyzer on `rules`, the sandbox answering `replies` in order (it asks again
    once after an unusable answer)."""
    model.clear_script()
    model.script(*(reply.behaviour for reply in replies))
    result = llm.analyze(
        excerpt=rules.excerpt, rules_result=rules, job_name="build", workflow_name="CI"
    )
    model.clear_script()
    used = next((reply.content for reply in replies[:2] if reply.usable), None)
    return Asked(result, rules, used)


# ------------------------------------------------------------------ 6: the trigger ----

_repository_numbers = itertools.count(1)


@dataclass(frozen=True)
class Event:
    kind: str  # "fail", "pass", "webhook", "poll", "deliver"
    index: int = 0  # which run ("fail"/"pass"/"webhook") or which pending message
    ack: bool = True  # for "deliver": False is a message redelivered after a lost ack


events = st.lists(
    st.one_of(
        st.builds(Event, st.just("fail"), st.integers(0, 3)),
        st.builds(Event, st.just("pass"), st.integers(0, 3)),
        st.builds(Event, st.just("webhook"), st.integers(0, 3)),
        st.builds(Event, st.just("poll")),
        st.builds(Event, st.just("deliver"), st.integers(0, 5), st.booleans()),
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=examples(15))
@given(events)
def test_every_recorded_failure_gets_exactly_one_analysis_whatever_the_order_of_events(
    engine: Engine,  # noqa: F811
    github: GitHubSandbox,
    services: Services,
    schedule: list[Event],
) -> None:
    """Property 6 (Analysis): whatever the order of failures, passing runs, webhook deliveries,
    polls and (re)deliveries of analyze messages, every recorded failure is analyzed exactly
    once, the trigger fires once per failure, and nothing else is analyzed."""
    repository = f"acme/trigger-{next(_repository_numbers)}"
    github.add_repository(repository)
    runs: dict[int, tuple[int, bool]] = {}  # index -> (run id, failed)
    reported: set[int] = set()  # failed runs a webhook or a poll told us about
    pending: list[int] = []  # analyze messages on the broker: failure ids
    triggered: list[int] = []
    with rolled_back(engine) as session:

        def trigger(follow_ups: tuple[Any, ...]) -> None:
            for follow_up in follow_ups:
                if follow_up.step is Step.ANALYZE:
                    triggered.append(follow_up.failure_id)
                    pending.append(follow_up.failure_id)

        def deliver(position: int, *, ack: bool) -> None:
            failure_id = pending[position % len(pending)]
            if ack:
                pending.remove(failure_id)
            result = analyze_failure(
                session,
                failure_id=failure_id,
                gateway=services.gateway,
                knowledge_base=KNOWLEDGE_BASE,
            )
            trigger(result.follow_ups)

        for event in schedule:
            if event.kind in {"fail", "pass"} and event.index not in runs:
                add = github.add_failed_run if event.kind == "fail" else github.add_successful_run
                run_id = add(
                    repository,
                    workflow_name="CI",
                    job_name="test",
                    log_text=demo_log("network_blip.log"),
                )
                runs[event.index] = (run_id, event.kind == "fail")
            elif event.kind == "webhook" and event.index in runs:
                run_id, failed = runs[event.index]
                if failed:
                    reported.add(run_id)
                outcome = handle_delivery(
                    session,
                    event="workflow_run",
                    delivery_id=f"d-{len(triggered)}",
                    payload=workflow_run_payload(github, repository, run_id),
                    configured_repositories=(repository,),
                )
                trigger(outcome.follow_ups)
            elif event.kind == "poll":
                reported |= {run_id for run_id, failed in runs.values() if failed}
                result = poll_repository(
                    session,
                    gateway=services.gateway,
                    repository=repository,
                    lookback=timedelta(hours=1),
                )
                trigger(result.follow_ups)
            elif event.kind == "deliver" and pending:
                deliver(event.index, ack=event.ack)
        while pending:
            deliver(0, ack=True)

        failures = session.scalars(select(Failure).where(Failure.repository == repository)).all()
        analyses = {
            failure.id: session.scalar(
                select(func.count(Analysis.id)).where(Analysis.failure_id == failure.id)
            )
            for failure in failures
        }

    assert {failure.run_id for failure in failures} == reported
    assert sorted(triggered) == sorted(failure.id for failure in failures)
    assert all(count == 1 for count in analyses.values()), analyses
    assert all(failure.state is FailureState.ANALYZED for failure in failures)


# ------------------------------------------------------------- 7: category assignment ----


@settings(max_examples=examples(60))
@given(logs, job_names, st.lists(answers, min_size=2, max_size=2))
def test_every_analysis_has_a_category_of_the_enum_whatever_the_log_or_the_model_says(
    llm: LlmAnalyzer, model: OpenAISandbox, log_text: str, job_name: str, replies: list[Answer]
) -> None:
    """Property 7 (Analysis): for any log and any model output, malformed JSON included, the
    analysis' category is a member of Category: the model's when its answer is valid, else
    the rules' (the fallback says so)."""
    asked = ask(llm, model, rules_result(log_text, job_name), replies)

    assert isinstance(asked.rules.category, Category)
    assert isinstance(asked.result.category, Category)
    if asked.used is None:
        assert asked.result.analyzer == FALLBACK_ANALYZER_NAME
        assert asked.result.category is asked.rules.category
    else:
        assert asked.result.category is Category(asked.used["category"])


@given(st.sampled_from(["category", "action", "effort"]), st.text(max_size=20))
def test_a_user_rule_naming_no_member_of_the_enums_is_refused_naming_the_field(
    field: str, value: str
) -> None:
    """Property 7 (Analysis): a knowledge-base rule whose category, action or effort is not a
    member of its enum is refused when the file loads, naming the rule and the field, so no
    rule can give an analysis a category outside Category."""
    members = {"category": Category, "action": ActionKind, "effort": Effort}[field]
    rule = {
        "id": "user-rule",
        "patterns": ["boom"],
        "category": "infrastructure",
        "base_risk": 2,
        "confidence": 0.5,
        "flaky": False,
        "action": "none",
        field: value,
    }
    text = yaml.safe_dump({"rules": [rule]})
    if value in {member.value for member in members}:
        (parsed,) = parse_rules(text, "user.yaml")
        assert parsed.id == "user-rule"
    else:
        with pytest.raises(KnowledgeBaseError, match=rf"'user-rule'.*'{field}'"):
            parse_rules(text, "user.yaml")


# ------------------------------------------------------------------ 8: risk validity ----


@settings(max_examples=examples(60))
@given(logs, job_names, st.lists(answers, min_size=2, max_size=2))
def test_the_risk_is_an_integer_on_the_scale_and_a_model_risk_out_of_range_is_refused(
    llm: LlmAnalyzer, model: OpenAISandbox, log_text: str, job_name: str, replies: list[Answer]
) -> None:
    """Property 8 (Analysis): for any log and model output the risk is an integer in 0..10; a
    valid model risk only ever raises the rules' risk (max of the two), and an answer whose
    risk is out of range or mistyped is refused whole (the rules' risk stands)."""
    asked = ask(llm, model, rules_result(log_text, job_name), replies)
    risk = asked.result.risk_score

    assert type(risk) is int
    assert 0 <= risk <= 10
    assert 0 <= asked.rules.risk_score <= 10
    if asked.used is None:
        assert risk == asked.rules.risk_score
    else:
        assert risk == max(asked.used["risk_score"], asked.rules.risk_score)


@given(st.one_of(st.integers(-20, 30), st.floats(allow_nan=True), st.booleans(), st.text()))
def test_a_risk_outside_the_scale_can_neither_be_loaded_nor_carried(value: Any) -> None:
    """Property 8 (Analysis): a knowledge-base rule's base_risk is accepted only as an integer
    0..10 (the error names the rule and the field), and no analysis result can be made with a
    risk outside 0..10."""
    rule = {
        "id": "risky",
        "patterns": ["boom"],
        "category": "lint",
        "base_risk": value,
        "confidence": 0.5,
        "flaky": False,
        "action": "none",
    }
    valid = type(value) is int and 0 <= value <= 10
    if valid:
        (parsed,) = parse_rules(yaml.safe_dump({"rules": [rule]}), "user.yaml")
        assert parsed.base_risk == value
    else:
        with pytest.raises(KnowledgeBaseError, match=r"'risky'.*'base_risk'"):
            parse_rules(yaml.safe_dump({"rules": [rule]}), "user.yaml")
    if isinstance(value, int) and not isinstance(value, bool) and not valid:
        with pytest.raises(ValueError, match="risk_score"):
            AnalysisResult(
                category=Category.LINT,
                risk_score=value,
                confidence=0.5,
                flaky=False,
                summary="",
                root_cause="",
                proposed_action=ActionKind.NONE,
                analyzer="rules",
            )


# ------------------------------------------------ 9: remediation proposal completeness ----

# What each action's execute reads from the parameters the gate stored (actions/*.py).
PARAMETER_KEYS: dict[ActionKind, set[str]] = {
    ActionKind.RERUN_FAILED_JOBS: set(),
    ActionKind.RERUN_WORKFLOW: set(),
    ActionKind.RERUN_WITH_DEBUG_LOGGING: {"enable_debug_logging"},
    ActionKind.CLEAR_CACHE_AND_RERUN: {"cache_keys"},
    ActionKind.OPEN_TRACKING_ISSUE: set(),
    ActionKind.DISPATCH_REMEDIATION_WORKFLOW: {"workflow", "ref", "inputs"},
}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@settings(max_examples=examples(30))
@given(gate_scenarios())
def test_every_proposal_names_a_catalog_action_with_all_its_parameters_or_none(
    engine: Engine,  # noqa: F811
    scenario: GateScenario,
) -> None:
    """Property 9 (Analysis): whatever the analysis proposed, the remediation the gate step
    stores (to run now or to approve) names a catalog action with every parameter its execute
    reads, filled from configured templates and never from analysis text; an action whose
    parameters cannot be filled becomes `none`, with the reason."""
    with rolled_back(engine) as session:
        gated = gate_on_postgres(session, scenario)

    decision = gated.decision
    assert decision.action in CATALOG
    rows = [*gated.remediations, *gated.approvals]
    if decision.action is ActionKind.NONE:
        assert rows == []
        assert decision.reasons
        return
    for row in rows:
        parameters = row.parameters
        assert set(parameters) == PARAMETER_KEYS[decision.action]
        # The analysis text (UNTRUSTED_SUMMARY: a template and a command) never reaches one.
        assert not any("UNTRUSTED" in text or "$(" in text for text in _strings(parameters))
        if decision.action is ActionKind.CLEAR_CACHE_AND_RERUN:
            assert parameters["cache_keys"]
            assert all(isinstance(key, str) and key for key in parameters["cache_keys"])
        if decision.action is ActionKind.DISPATCH_REMEDIATION_WORKFLOW:
            assert parameters["ref"]
            assert parameters["workflow"] in {"heal.yml", "repair.yaml"}
            assert all(isinstance(value, str) for value in parameters["inputs"].values())
        if decision.action is ActionKind.RERUN_WITH_DEBUG_LOGGING:
            assert parameters == {"enable_debug_logging": True}


@st.composite
def templated_scenarios(draw: st.DrawFn) -> tuple[GateScenario, tuple[str, ...]]:
    """An analysis proposing a dispatch or a cache clear that config.json allows, with the
    templates its parameters come from, on runs with and without a branch."""
    scenario = draw(gate_scenarios())
    kind = draw(
        st.sampled_from(
            [ActionKind.DISPATCH_REMEDIATION_WORKFLOW, ActionKind.CLEAR_CACHE_AND_RERUN]
        )
    )
    document = {
        **scenario.document,
        "protected_repositories": [],
        "category_actions": {"infrastructure": [kind.value]},
    }
    if kind is ActionKind.DISPATCH_REMEDIATION_WORKFLOW:
        templates = (draw(st.sampled_from(["{branch}", "main", "heal-{branch}"])),)
        document["remediation_workflows"] = [{"workflow": "heal.yml", "ref": templates[0]}]
    else:
        templates = tuple(
            draw(
                st.lists(st.sampled_from(CACHE_KEY_TEMPLATES), min_size=1, max_size=3, unique=True)
            )
        )
        document["cache_key_templates"] = list(templates)
    changed = replace(
        scenario,
        document=document,
        category=Category.INFRASTRUCTURE,
        proposed=kind,
        head_branch=draw(st.sampled_from([None, "main", "feature/x"])),
    )
    return changed, templates


CACHE_KEY_TEMPLATES = ("deps-{branch}", "{repo}-{sha}", "static-key")


@settings(max_examples=examples(30))
@given(templated_scenarios())
def test_a_proposal_whose_parameters_cannot_be_filled_becomes_none_with_the_reason(
    engine: Engine,  # noqa: F811
    drawn: tuple[GateScenario, tuple[str, ...]],
) -> None:
    """Property 9 (Analysis): a proposed dispatch or cache clear is stored with every
    parameter filled from its templates when the run has the metadata they name, and becomes
    `none`, blocked with the reason, when a template names what the run lacks (a branch):
    never a ref or cache key filled with a blank."""
    scenario, templates = drawn
    fillable = bool(scenario.head_branch) or not any("{branch}" in t for t in templates)
    with rolled_back(engine) as session:
        gated = gate_on_postgres(session, scenario)

    decision = gated.decision
    rows = [*gated.remediations, *gated.approvals]
    if not fillable:
        assert decision.action is ActionKind.NONE
        assert decision.verdict is Verdict.BLOCKED
        assert any("cannot run" in reason for reason in decision.reasons)
        assert rows == []
        return
    assert decision.action is scenario.proposed
    for row in rows:
        assert set(row.parameters) == PARAMETER_KEYS[decision.action]
        filled = (
            [row.parameters["ref"]] if "ref" in row.parameters else row.parameters["cache_keys"]
        )
        assert all(value and not value.endswith("-") for value in filled)


# ------------------------------------------------ 10: effort and confidence validity ----


@settings(max_examples=examples(60))
@given(logs, job_names, st.lists(answers, min_size=2, max_size=2))
def test_effort_is_a_member_and_confidence_within_0_and_1_for_any_output(
    llm: LlmAnalyzer, model: OpenAISandbox, log_text: str, job_name: str, replies: list[Answer]
) -> None:
    """Property 10 (Analysis): for any log and model output the effort is a member of Effort
    and the confidence a number within 0..1: the model's when its answer is valid, else the
    rules' (an answer with an unknown effort or a confidence out of range is refused whole)."""
    asked = ask(llm, model, rules_result(log_text, job_name), replies)
    result = asked.result

    assert isinstance(result.effort, Effort)
    assert isinstance(result.confidence, float)
    assert 0.0 <= result.confidence <= 1.0
    if asked.used is None:
        assert (result.effort, result.confidence) == (asked.rules.effort, asked.rules.confidence)
    else:
        assert result.effort is Effort(asked.used["effort"])
        assert result.confidence == asked.used["confidence"]


@given(st.one_of(st.floats(allow_nan=True), st.integers(-3, 3), st.booleans(), st.text()))
def test_a_user_rule_confidence_outside_0_and_1_is_refused(value: Any) -> None:
    """Property 10 (Analysis): a knowledge-base rule's confidence is accepted only as a number
    within 0..1, and the error names the rule and the field."""
    rule = {
        "id": "sure",
        "patterns": ["boom"],
        "category": "lint",
        "base_risk": 1,
        "confidence": value,
        "flaky": False,
        "action": "none",
    }
    text = yaml.safe_dump({"rules": [rule]})
    if type(value) in {int, float} and 0 <= value <= 1:
        (parsed,) = parse_rules(text, "user.yaml")
        assert parsed.confidence == float(value)
        assert 0.0 <= parsed.confidence <= 1.0
    else:
        with pytest.raises(KnowledgeBaseError, match=r"'sure'.*'confidence'"):
            parse_rules(text, "user.yaml")


# ------------------------------------------------------ 11: component identification ----


def _well_formed_components(components: tuple[str, ...]) -> None:
    assert len(components) <= MAX_COMPONENTS
    for component in components:
        assert component
        assert len(component) <= MAX_COMPONENT_CHARS
        assert redact(component) == component
        assert not any(secret in component for secret in SECRETS)


@settings(max_examples=examples(60))
@given(logs, job_names, st.lists(answers, min_size=2, max_size=2))
def test_the_affected_components_are_the_failed_job_or_the_models_redacted_and_capped(
    llm: LlmAnalyzer, model: OpenAISandbox, log_text: str, job_name: str, replies: list[Answer]
) -> None:
    """Property 11 (Analysis): the rules name the failed job (without control characters) as
    the affected component (none for a nameless job); a valid model answer names its own, at
    most 20 of at most 200 characters each, falling back to the job when it names none; every
    one is redacted."""
    asked = ask(llm, model, rules_result(log_text, job_name), replies)

    name = strip_controls(job_name)
    assert asked.rules.affected_components == ((redact(name),) if name else ())
    _well_formed_components(asked.result.affected_components)
    named = asked.used["affected_components"][:MAX_COMPONENTS] if asked.used else []
    if not any(text.strip() for text in named):
        assert asked.result.affected_components == asked.rules.affected_components


@settings(max_examples=examples(50))
@given(st.lists(st.tuples(logs, job_names), min_size=1, max_size=4))
def test_a_run_names_the_components_of_every_failed_job_once(jobs: list[tuple[str, str]]) -> None:
    """Property 11 (Analysis): a run's analysis names the affected components of all its
    failed jobs, each once, in the jobs' order."""
    results = [rules_result(log_text, job_name) for log_text, job_name in jobs]
    combined = combine_job_results(results)
    every = [component for result in results for component in result.affected_components]

    assert combined.affected_components == tuple(dict.fromkeys(every))
    assert combined.risk_score == max(result.risk_score for result in results)


# ----------------------------------------------------------- 12: analysis persistence ----

# Parsed as the client parses the model's reply: from its JSON text.
model_answers = valid_answers.map(
    lambda content: ModelAnalysis.model_validate_json(json.dumps(content))
)


@st.composite
def analyzer_outputs(draw: st.DrawFn) -> tuple[AnalysisResult, int]:
    """What an analyzer hands the analyze step to store: the rules' result for a drawn log
    and job, or the model's answer merged onto it; with the rules' risk."""
    rules = rules_result(draw(logs), draw(job_names), draw(st.sampled_from(["CI", "Deploy"])))
    if draw(st.booleans()):
        return rules, rules.risk_score
    merged = merge(
        draw(model_answers),
        rules,
        tokens_used=draw(st.integers(0, 10**6)),
        latency_ms=draw(st.integers(0, 10**6)),
    )
    return merged, rules.risk_score


STORED_FIELDS = (
    "category",
    "risk_score",
    "confidence",
    "flaky",
    "summary",
    "root_cause",
    "proposed_action",
    "analyzer",
    "rule_id",
    "effort",
    "excerpt",
)


@settings(max_examples=examples(40))
@given(analyzer_outputs(), st.integers(0, 10**5), st.integers(0, 10**5))
def test_an_analysis_reads_back_from_postgres_as_it_was_written(
    engine: Engine,  # noqa: F811
    output: tuple[AnalysisResult, int],
    prompt_tokens: int,
    completion_tokens: int,
) -> None:
    """Property 12 (Analysis): any analysis the rules or the model produce, stored by the
    analyze step on the real Postgres and read back, has every field as written: category,
    risks, confidence, effort, texts, components, tokens; and it is the failure's one
    analysis."""
    result, rules_risk = output
    diagnosis = RunDiagnosis(result, rules_risk, prompt_tokens, completion_tokens, 0.25)
    with rolled_back(engine) as session:
        failure = add_failure(session, state=FailureState.DETECTED)
        _store(
            session,
            failure=failure,
            diagnosis=diagnosis,
            fingerprint="f" * 64,
            reused_from=None,
            job_names=list(result.affected_components),
            latency_ms=result.latency_ms,
        )
        session.flush()
        session.expire_all()  # what Postgres holds, not the objects in memory
        (stored,) = session.scalars(select(Analysis).where(Analysis.failure_id == failure.id))
        state = session.get_one(Failure, failure.id).state

    for name in STORED_FIELDS:
        assert getattr(stored, name) == getattr(result, name), name
    assert stored.rules_risk_score == rules_risk
    assert tuple(stored.affected_components) == result.affected_components
    assert stored.failed_jobs == list(result.affected_components)
    assert (stored.prompt_tokens, stored.completion_tokens) == (prompt_tokens, completion_tokens)
    assert stored.tokens_used == prompt_tokens + completion_tokens
    assert stored.fingerprint == "f" * 64
    assert state is FailureState.ANALYZED


@settings(max_examples=examples(20))
@given(job_names, logs)
def test_a_failed_job_of_any_name_is_analyzed_stored_and_named(
    engine: Engine,  # noqa: F811
    github: GitHubSandbox,
    services: Services,
    job_name: str,
    log_text: str,
) -> None:
    """Property 11 (Analysis): a failed job of any name GitHub reports (its workflow file
    chooses it, control characters and NUL included) is analyzed and stored on Postgres, its
    name as the failed job and, redacted, as the affected component."""
    run_id = github.add_failed_run(
        REPOSITORY, workflow_name="CI", job_name=job_name, log_text=log_text
    )
    with rolled_back(engine) as session:
        failure = add_failure(session, run_id=run_id, state=FailureState.DETECTED)
        failure.workflow_id = services.gateway.get_run(REPOSITORY, run_id).workflow_id
        failure.head_branch = "main"
        analyze_failure(
            session, failure_id=failure.id, gateway=services.gateway, knowledge_base=KNOWLEDGE_BASE
        )
        session.flush()
        session.expire_all()
        stored = session.scalar(select(Analysis).where(Analysis.failure_id == failure.id))

    name = strip_controls(job_name)
    assert stored is not None
    assert stored.failed_jobs == [name]
    assert stored.affected_components == ([redact(name)] if name else [])
    _well_formed_components(tuple(stored.affected_components))
