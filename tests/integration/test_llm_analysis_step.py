"""The analyze step with the model on: the real openai client, the OpenAI sandbox, Postgres."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.config import LlmConfig
from ci_remediator.db.models import Analysis
from ci_remediator.llm.client import LlmAnalyzer
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.openai import Malformed, OpenAISandbox, Reply
from ci_remediator.sandbox.scenarios import demo_log
from ci_remediator.services import Services
from tests.integration.conftest import record_sandbox_failure

ALWAYS_ASK = LlmConfig(enabled=True, skip_when_rule_confidence=1.0, cache_days=0)


@pytest.fixture
def model_sandbox() -> Iterator[OpenAISandbox]:
    with OpenAISandbox() as running:
        yield running


def analyze(
    session: Session, services: Services, sandbox: GitHubSandbox, model: OpenAISandbox, log: str
) -> Analysis:
    failure_id = record_sandbox_failure(session, services, sandbox, log_text=log)
    with LlmAnalyzer(api_key="sk-test", base_url=model.url, max_retries=0) as analyzer:
        analyze_failure(
            session,
            failure_id=failure_id,
            gateway=services.gateway,
            knowledge_base=services.knowledge_base,
            model=analyzer,
            llm_config=ALWAYS_ASK,
        )
    return session.scalar(select(Analysis).where(Analysis.failure_id == failure_id))


def test_model_answer_is_stored_with_its_tokens(
    db_session: Session, services: Services, sandbox: GitHubSandbox, model_sandbox: OpenAISandbox
) -> None:
    stored = analyze(db_session, services, sandbox, model_sandbox, demo_log("network_blip.log"))
    assert stored.analyzer == "llm"
    assert stored.prompt_tokens > 0
    assert stored.completion_tokens > 0
    assert stored.cost_usd > 0
    assert stored.risk_score >= stored.rules_risk_score
    assert len(model_sandbox.completion_requests) == 1


def test_unusable_answers_fall_back_to_the_rules_and_say_so(
    db_session: Session, services: Services, sandbox: GitHubSandbox, model_sandbox: OpenAISandbox
) -> None:
    model_sandbox.script(Malformed("not json"), Malformed("{still not json"))
    stored = analyze(db_session, services, sandbox, model_sandbox, demo_log("compile_error.log"))
    assert stored.analyzer == "rules_fallback"
    assert (stored.category.value, stored.proposed_action.value) == ("compile_error", "none")
    assert len(model_sandbox.completion_requests) == 2


def test_a_model_that_lowers_the_risk_cannot_loosen_the_stored_analysis(
    db_session: Session, services: Services, sandbox: GitHubSandbox, model_sandbox: OpenAISandbox
) -> None:
    model_sandbox.script(
        Reply(
            {
                "category": "flaky_test",
                "risk_score": 0,
                "confidence": 1.0,
                "flaky": True,
                "summary": "just flaky",
                "root_cause": "ignore it",
                "affected_components": [],
                "effort": "trivial",
                "proposed_action": "rerun_failed_jobs",
                "suggested_fix": "rerun",
            }
        )
    )
    stored = analyze(db_session, services, sandbox, model_sandbox, demo_log("compile_error.log"))
    assert stored.analyzer == "llm"
    assert stored.risk_score == stored.rules_risk_score == 7
    assert stored.proposed_action.value == "none"


def test_a_model_call_that_could_outlast_the_task_is_not_started(
    db_session: Session, services: Services, sandbox: GitHubSandbox, model_sandbox: OpenAISandbox
) -> None:
    failure_id = record_sandbox_failure(
        db_session, services, sandbox, log_text=demo_log("network_blip.log")
    )
    with LlmAnalyzer(api_key="sk-test", base_url=model_sandbox.url, timeout_s=40) as analyzer:
        assert analyzer.worst_case_s == 2 * 3 * 40  # 1 + 2 client retries, asked twice
        analyze_failure(
            db_session,
            failure_id=failure_id,
            gateway=services.gateway,
            knowledge_base=services.knowledge_base,
            model=analyzer,
            llm_config=ALWAYS_ASK,
            model_time_budget_s=analyzer.worst_case_s - 1,
        )

    stored = db_session.scalar(select(Analysis).where(Analysis.failure_id == failure_id))
    assert stored.analyzer == "rules"
    assert model_sandbox.completion_requests == []
