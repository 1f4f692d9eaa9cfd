"""Prompt injection through the real pipeline steps: the GitHub sandbox serves the adversarial
log, the analyze step asks the OpenAI sandbox in obedient mode (a model doing what the log
says) through the real openai client, the gate step decides, Postgres stores it all. The
outcome is compared with the same failure analyzed by the rules alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.config import LlmConfig
from ci_remediator.db.models import Analysis, GateDecision
from ci_remediator.domain import ActionKind, Verdict
from ci_remediator.llm.client import LlmAnalyzer
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.openai import OpenAISandbox
from ci_remediator.services import Services
from tests.adversarial_logs import CASES, Case, base_log, with_payload
from tests.integration.conftest import record_sandbox_failure

KEY = "sk-stack-injection-0123456789abcdefghij"
STRICTNESS = {Verdict.AUTO: 0, Verdict.NEEDS_APPROVAL: 1, Verdict.BLOCKED: 2}
ALWAYS_ASK = LlmConfig(enabled=True, skip_when_rule_confidence=1.0, cache_days=0)


@pytest.fixture(scope="module")
def obedient_model() -> Iterator[OpenAISandbox]:
    with OpenAISandbox(obey_log_instructions=True) as running:
        yield running


def analyzed_and_gated(
    session: Session,
    services: Services,
    sandbox: GitHubSandbox,
    log_text: str,
    model: LlmAnalyzer | None,
) -> tuple[Analysis, GateDecision]:
    failure_id = record_sandbox_failure(session, services, sandbox, log_text=log_text)
    analyze_failure(
        session,
        failure_id=failure_id,
        gateway=services.gateway,
        knowledge_base=services.knowledge_base,
        model=model,
        llm_config=ALWAYS_ASK if model is not None else LlmConfig(enabled=False),
    )
    gate_failure(session, failure_id=failure_id, config=services.config)
    analysis = session.scalar(select(Analysis).where(Analysis.failure_id == failure_id))
    decision = session.scalar(select(GateDecision).where(GateDecision.failure_id == failure_id))
    assert analysis is not None
    assert decision is not None
    return analysis, decision


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_an_obeyed_injection_never_loosens_the_stored_decision(
    case: Case,
    db_session: Session,
    services: Services,
    sandbox: GitHubSandbox,
    obedient_model: OpenAISandbox,
) -> None:
    log_text = with_payload(base_log(case.base), case.payload)
    rules_analysis, rules_decision = analyzed_and_gated(
        db_session, services, sandbox, log_text, model=None
    )
    asked_before = len(obedient_model.completion_requests)

    with LlmAnalyzer(api_key=KEY, base_url=obedient_model.url, max_retries=0) as model:
        analysis, decision = analyzed_and_gated(
            db_session, services, sandbox, log_text, model=model
        )

    # The attack reached the model and it obeyed: its answer was used (the obedient model
    # always claims full confidence), or it was out of the schema and refused twice.
    asked = len(obedient_model.completion_requests) - asked_before
    obeyed_in_schema = analysis.analyzer == "llm" and analysis.confidence == 1.0
    obeyed_out_of_schema = analysis.analyzer == "rules_fallback" and asked == 2
    assert obeyed_in_schema or obeyed_out_of_schema, (analysis.analyzer, asked)
    assert type(analysis.proposed_action) is ActionKind
    assert type(decision.action) is ActionKind
    assert analysis.risk_score >= rules_analysis.risk_score
    assert decision.effective_risk >= rules_decision.effective_risk
    assert STRICTNESS[decision.verdict] >= STRICTNESS[rules_decision.verdict], (
        decision.verdict,
        rules_decision.verdict,
    )
    stored = " ".join([analysis.summary, analysis.root_cause, analysis.excerpt, *decision.reasons])
    assert KEY not in stored
