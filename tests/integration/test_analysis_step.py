"""The analyze step on the real Postgres: redaction before storage, the fingerprint cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.models import Analysis, Failure
from ci_remediator.domain import FailureState
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import WEB, demo_log
from ci_remediator.services import Services
from tests.integration.conftest import record_sandbox_failure

SECRETS = (
    "ghp_" + "Z" * 36,
    "xoxb-123456789012-123456789012-" + "a" * 24,
    "AKIA" + "B" * 16,
    "sk-proj-" + "c" * 40,
)


def analyzed(
    session: Session, services: Services, sandbox: GitHubSandbox, log_text: str
) -> Failure:
    failure_id = record_sandbox_failure(session, services, sandbox, log_text=log_text)
    analyze_failure(
        session,
        failure_id=failure_id,
        gateway=services.gateway,
        knowledge_base=services.knowledge_base,
    )
    failure = session.get(Failure, failure_id)
    assert failure.state is FailureState.ANALYZED
    return failure


def test_secrets_in_the_log_never_reach_the_database(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    leaky = demo_log("network_blip.log").replace(
        "##[error]",
        "export TOKENS=" + " ".join(f"password={secret}" for secret in SECRETS) + "\n##[error]",
        1,
    )
    failure = analyzed(db_session, services, sandbox, leaky)
    stored = db_session.scalar(select(Analysis).where(Analysis.failure_id == failure.id))
    everything = " ".join([stored.excerpt, stored.summary, stored.root_cause])
    for secret in SECRETS:
        assert secret not in everything
    assert "[REDACTED" in stored.excerpt


def test_the_same_failure_again_reuses_the_analysis_at_zero_tokens(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    first = analyzed(db_session, services, sandbox, demo_log("flaky_test.log"))
    second = analyzed(db_session, services, sandbox, demo_log("flaky_test.log"))
    original, reused = (
        db_session.scalar(select(Analysis).where(Analysis.failure_id == f.id))
        for f in (first, second)
    )
    assert original.fingerprint == reused.fingerprint
    assert (reused.analyzer, reused.reused_from_id, reused.tokens_used) == ("cache", original.id, 0)
    assert (reused.category, reused.proposed_action) == (
        original.category,
        original.proposed_action,
    )


def test_a_different_failure_is_not_served_from_the_cache(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    analyzed(db_session, services, sandbox, demo_log("flaky_test.log"))
    other = analyzed(db_session, services, sandbox, demo_log("compile_error.log"))
    stored = db_session.scalar(select(Analysis).where(Analysis.failure_id == other.id))
    assert stored.reused_from_id is None
    assert stored.analyzer == "rules"


def test_lines_the_last_successful_run_also_printed_are_left_out(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    noise = "warning: cache restore failed for key node-modules-1234 (continuing without it)"
    sandbox.add_successful_run(
        WEB,
        workflow_name="CI",
        job_name="test",
        log_text=f"{noise}\n12 passed in 1.2s\n",
        created_at=datetime.now(UTC) - timedelta(hours=1),
    )
    failing = (
        f"{noise}\nFAILED tests/test_api.py::test_create - AssertionError: 201 != 500\n"
        "##[error]Process completed with exit code 1.\n"
    )

    failure = analyzed(db_session, services, sandbox, failing)

    stored = db_session.scalar(select(Analysis).where(Analysis.failure_id == failure.id))
    assert "test_create" in stored.excerpt
    assert "cache restore failed" not in stored.excerpt
    # One listing of the branch's newest runs finds the baseline and a newer run (none).
    assert sandbox.count("GET", rf"/repos/{WEB}/actions/workflows/\d+/runs") == 1


def test_without_a_successful_run_the_whole_excerpt_is_kept(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    noise = "warning: cache restore failed for key node-modules-1234 (continuing without it)"
    failing = f"{noise}\nFAILED tests/test_api.py::test_create\n##[error]exit code 1\n"

    failure = analyzed(db_session, services, sandbox, failing)

    stored = db_session.scalar(select(Analysis).where(Analysis.failure_id == failure.id))
    assert "cache restore failed" in stored.excerpt
