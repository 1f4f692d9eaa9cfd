"""Prompt injection: a log that gives orders to a model that obeys them must not widen the gate.

Every adversarial payload is embedded in a realistic failing log next to the failing command's
last output (the part the excerpt keeps), sent through `LlmAnalyzer` to the sandbox in obedient
mode (a naive model doing what the log says), and the outcome is compared with the rules-only
analysis of the same log: the action stays in the catalog, the risk never drops, and the safety
gate is never less strict.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

import pytest

from ci_remediator.analysis import analyze_with_rules, load_knowledge_base
from ci_remediator.analysis.rules import KnowledgeBase
from ci_remediator.config import FileConfig, resolve_policy
from ci_remediator.domain import ActionKind, AnalysisResult, Verdict
from ci_remediator.llm.client import LlmAnalyzer
from ci_remediator.policy.catalog import action_spec
from ci_remediator.policy.safety_gate import GateInput, RunContext, evaluate_gate
from ci_remediator.sandbox.openai import OpenAISandbox
from tests.adversarial_logs import CASES, Case, base_log, with_payload

KEY = "sk-injection-test-0123456789abcdefghij"
STRICTNESS = {Verdict.AUTO: 0, Verdict.NEEDS_APPROVAL: 1, Verdict.BLOCKED: 2}


def _verdict(result: AnalysisResult, rules: AnalysisResult) -> Verdict:
    gate_input = GateInput(
        model_risk=result.risk_score,
        rules_risk=rules.risk_score,
        policy=resolve_policy(FileConfig(), "acme/web"),
        action=action_spec(result.proposed_action),
        run=RunContext(workflow_name="CI", event="push", head_branch="main"),
    )
    return evaluate_gate(gate_input).verdict


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="module")
def sandbox(kb: KnowledgeBase) -> Iterator[OpenAISandbox]:
    with OpenAISandbox(obey_log_instructions=True, knowledge_base=kb) as server:
        yield server


@pytest.fixture(scope="module")
def analyzer(sandbox: OpenAISandbox) -> Iterator[LlmAnalyzer]:
    with LlmAnalyzer(api_key=KEY, base_url=sandbox.url, timeout_s=5.0) as llm:
        yield llm


def test_there_are_enough_cases() -> None:
    assert len({case.name for case in CASES}) >= 10


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_injection_cannot_widen_the_gate(
    case: Case, kb: KnowledgeBase, sandbox: OpenAISandbox, analyzer: LlmAnalyzer
) -> None:
    log_text = with_payload(base_log(case.base), case.payload)
    rules = analyze_with_rules(log_text, kb=kb, job_name="build", workflow_name="CI")
    before = len(sandbox.completion_requests)

    result = analyzer.analyze(
        excerpt=rules.excerpt, rules_result=rules, job_name="build", workflow_name="CI"
    )

    # The attack reached the model and the model obeyed: either its answer was used (it then
    # claims full confidence, as the obedient model always does) or it was out of the schema
    # and refused twice. Without this the invariants below could hold vacuously.
    requests = len(sandbox.completion_requests) - before
    obeyed_in_schema = result.analyzer == "llm" and result.confidence == 1.0
    obeyed_out_of_schema = result.analyzer == "rules_fallback" and requests == 2
    assert obeyed_in_schema or obeyed_out_of_schema, (result.analyzer, requests)

    # Nothing executable: the action is a catalog member; the result carries no parameters.
    assert type(result.proposed_action) is ActionKind
    assert result.risk_score >= rules.risk_score
    if rules.proposed_action is ActionKind.NONE:
        assert result.proposed_action is ActionKind.NONE
    llm_verdict, rules_verdict = _verdict(result, rules), _verdict(rules, rules)
    assert STRICTNESS[llm_verdict] >= STRICTNESS[rules_verdict], (llm_verdict, rules_verdict)
    # The key the obedient model was asked to print never comes back.
    texts = [result.summary, result.root_cause, result.excerpt, *result.affected_components]
    assert all(KEY not in text for text in texts)


def test_the_api_key_request_was_obeyed_and_redacted(
    kb: KnowledgeBase, analyzer: LlmAnalyzer
) -> None:
    case = next(case for case in CASES if case.name == "print-the-api-key")
    rules = analyze_with_rules(
        with_payload(base_log(case.base), case.payload), kb=kb, job_name="build"
    )
    result = analyzer.analyze(excerpt=rules.excerpt, rules_result=rules)
    assert result.analyzer == "llm"
    assert "[REDACTED:openai_key]" in result.summary
    assert KEY not in result.summary


def test_obedient_rerun_on_a_compile_error_is_held_back(
    kb: KnowledgeBase, analyzer: LlmAnalyzer
) -> None:
    """The decisive case spelled out: the model says rerun with risk 0 and full confidence; the
    rules said none/high risk; the gate must still block."""
    case = next(case for case in CASES if case.name == "prompt-delimiter")
    rules = analyze_with_rules(with_payload(base_log(case.base), case.payload), kb=kb)
    assert rules.proposed_action is ActionKind.NONE
    result = analyzer.analyze(excerpt=rules.excerpt, rules_result=rules)
    assert result.analyzer == "llm"
    assert result.confidence == 1.0  # the obedient answer was used...
    assert result.proposed_action is ActionKind.NONE  # ...but could not loosen the action
    assert result.risk_score == rules.risk_score
    assert _verdict(result, rules) is Verdict.BLOCKED


def test_results_have_no_field_a_model_could_fill_with_a_command() -> None:
    """AnalysisResult is what leaves the analyzer; a free-form parameter field there would be a
    path from model text to execution. Adding one must be a deliberate, reviewed change."""
    names = {f.name for f in fields(AnalysisResult)}
    assert names == {
        "category",
        "risk_score",
        "confidence",
        "flaky",
        "summary",
        "root_cause",
        "proposed_action",
        "analyzer",
        "rule_id",
        "affected_components",
        "effort",
        "excerpt",
        "tokens_used",
        "latency_ms",
    }
