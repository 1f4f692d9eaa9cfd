"""Flaky evidence from history only, on Postgres: a job that failed and then passed on a rerun
of the same commit is evidence; a rerun that failed again, or a model's "flaky", is not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from ci_remediator import cli
from ci_remediator.db.models import FlakyEvidence
from ci_remediator.domain import StageEvent
from ci_remediator.notify.messages import build_stage_message
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.verify import verify_remediation
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import demo_log
from ci_remediator.services import Services
from tests.integration.conftest import record_sandbox_failure


def _remediated(
    session: Session, services: Services, sandbox: GitHubSandbox, *, rerun: str, log: str
) -> int:
    """A failed `unit-tests` job, analyzed, gated, re-run and verified to the end."""
    failure_id = record_sandbox_failure(
        session,
        services,
        sandbox,
        job_name="unit-tests",
        log_text=demo_log(log),
        rerun_conclusions=(rerun,),
        head_branch=f"feature/{rerun}-{log}",
    )
    analyze_failure(
        session,
        failure_id=failure_id,
        gateway=services.gateway,
        knowledge_base=services.knowledge_base,
    )
    gate_failure(session, failure_id=failure_id, config=services.config)
    execute_remediation(session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0)
    while verify_remediation(
        session, failure_id=failure_id, gateway=services.gateway, timeout=timedelta(hours=1)
    ).waiting:
        pass
    return failure_id


def _evidence(session: Session) -> int:
    return session.scalar(select(func.count(FlakyEvidence.id))) or 0


def test_a_job_that_passed_on_the_rerun_is_evidence_once_and_is_shown_next_time(
    committed_db: Engine,
    services: Services,
    sandbox: GitHubSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with services.sessions() as db_session:
        _evidence_is_recorded_once_and_shown(db_session, services, sandbox, monkeypatch)


def _evidence_is_recorded_once_and_shown(
    db_session: Session,
    services: Services,
    sandbox: GitHubSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _remediated(db_session, services, sandbox, rerun="success", log="flaky_test.log")
    (evidence,) = db_session.scalars(select(FlakyEvidence)).all()
    assert (evidence.job_name, evidence.failed_attempt, evidence.passed_attempt) == (
        "unit-tests",
        1,
        2,
    )
    assert evidence.failure_id == first
    # A redelivered verify of the resolved failure records nothing twice.
    verify_remediation(
        db_session, failure_id=first, gateway=services.gateway, timeout=timedelta(hours=1)
    )
    assert _evidence(db_session) == 1

    second = record_sandbox_failure(
        db_session,
        services,
        sandbox,
        job_name="unit-tests",
        log_text=demo_log("flaky_test.log"),
        head_branch="feature/next",
    )
    analyze_failure(
        db_session,
        failure_id=second,
        gateway=services.gateway,
        knowledge_base=services.knowledge_base,
    )
    message = build_stage_message(db_session, failure_id=second, event=StageEvent.ANALYZED)
    assert message is not None
    assert "unit-tests flaked 1 time in 7 days" in " ".join(message.lines)

    db_session.commit()
    monkeypatch.setattr(cli, "_config_or_exit", lambda: services.config)
    listed = CliRunner(env={"COLUMNS": "200"}).invoke(cli.app, ["flaky", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert '"job": "unit-tests"' in listed.output
    assert '"flakes": 1' in listed.output


def test_a_rerun_that_failed_again_is_no_evidence_whatever_the_analysis_called_it(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    failure_id = _remediated(db_session, services, sandbox, rerun="failure", log="flaky_test.log")
    from ci_remediator.db.models import Analysis

    analysis = db_session.scalar(select(Analysis).where(Analysis.failure_id == failure_id))
    assert analysis is not None
    assert analysis.flaky  # the rules call it flaky; history says nothing yet
    assert _evidence(db_session) == 0
    message = build_stage_message(db_session, failure_id=failure_id, event=StageEvent.ANALYZED)
    assert message is not None
    assert "flaked" not in " ".join(message.lines)
