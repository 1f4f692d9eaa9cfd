"""Each catalog action end to end on the real Postgres and the GitHub sandbox (no worker):
chosen by category_actions, carried out once, verified, undone where it can be, and what GitHub
returned stored. The network-blip log makes the rules propose a rerun of the failed jobs; the
configuration decides what the failure actually gets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.config import get_config, load_config
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import (
    Analysis,
    AuditEntry,
    Failure,
    GateDecision,
    Remediation,
    RemediationStatus,
)
from ci_remediator.db.timeline import failure_timelines
from ci_remediator.domain import FailureState, FollowUp, StageEvent, Step
from ci_remediator.github.errors import TransientGitHubError
from ci_remediator.notify.messages import build_stage_message
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.rollback import roll_back_remediation
from ci_remediator.pipeline.tracking_issues import close_fixed_tracking_issues
from ci_remediator.pipeline.verify import verify_remediation
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import WEB, demo_log
from ci_remediator.services import Services, set_services
from tests.integration.conftest import record_sandbox_failure

VERIFY_TIMEOUT = timedelta(minutes=5)
ServicesFor = Callable[[dict[str, Any]], Services]


@pytest.fixture
def services_for(
    sandbox: GitHubSandbox, tmp_path: Path, redis_client: Any
) -> Iterator[ServicesFor]:
    """Services on the sandbox with this config.json."""

    def build(document: dict[str, Any]) -> Services:
        path = tmp_path / "config.json"
        path.write_text(json.dumps({"repositories": [WEB], **document}), encoding="utf-8")
        get_config.cache_clear()
        built = Services(
            load_config(env_overrides={"github_api_url": sandbox.url, "config_file": path})
        )
        set_services(built)
        return built

    yield build
    set_services(None)
    redis_client.flushdb()


def infra_gets(*actions: str, **document: Any) -> dict[str, Any]:
    return {"category_actions": {"infrastructure": list(actions)}, **document}


def executing(
    session: Session, services: Services, sandbox: GitHubSandbox, **run_options: Any
) -> int:
    run_options.setdefault("log_text", demo_log("network_blip.log"))
    failure_id = record_sandbox_failure(session, services, sandbox, **run_options)
    analyze_failure(
        session,
        failure_id=failure_id,
        gateway=services.gateway,
        knowledge_base=services.knowledge_base,
    )
    result = gate_failure(session, failure_id=failure_id, config=services.config)
    assert Step.EXECUTE in [f.step for f in result.follow_ups], session.scalar(
        select(GateDecision.reasons).where(GateDecision.failure_id == failure_id)
    )
    return failure_id


def execute(session: Session, services: Services, failure_id: int) -> None:
    execute_remediation(session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0)


def verify(session: Session, services: Services, failure_id: int) -> bool:
    return verify_remediation(
        session, failure_id=failure_id, gateway=services.gateway, timeout=VERIFY_TIMEOUT
    ).waiting


def verify_until_done(session: Session, services: Services, failure_id: int) -> int:
    """Verify until it stops waiting (at most 20 checks); how many checks waited."""
    for waits in range(20):
        if not verify(session, services, failure_id):
            return waits
    raise AssertionError(f"failure {failure_id} was still being verified after 20 checks")


def remediation_of(session: Session, failure_id: int) -> Remediation:
    remediation = session.scalar(select(Remediation).where(Remediation.failure_id == failure_id))
    assert remediation is not None
    return remediation


def state_of(session: Session, failure_id: int) -> FailureState:
    failure = session.get(Failure, failure_id)
    assert failure is not None
    session.refresh(failure)
    return failure.state


def test_the_gate_records_why_the_proposal_was_replaced(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(infra_gets("rerun_workflow"))
    failure_id = executing(db_session, services, sandbox)

    decision = db_session.scalar(select(GateDecision).where(GateDecision.failure_id == failure_id))

    assert decision is not None
    assert decision.action.value == "rerun_workflow"
    assert any("rerun_failed_jobs was proposed" in reason for reason in decision.reasons)


def test_a_whole_run_rerun_is_sent_once_and_verified(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(infra_gets("rerun_workflow"))
    failure_id = executing(db_session, services, sandbox, polls_until_complete=1)

    execute(db_session, services, failure_id)
    execute(db_session, services, failure_id)  # redelivered
    verify_until_done(db_session, services, failure_id)

    assert sandbox.count("POST", r".*/runs/\d+/rerun$") == 1
    assert sandbox.count("POST", r".*/rerun-failed-jobs") == 0
    assert state_of(db_session, failure_id) is FailureState.RESOLVED
    assert remediation_of(db_session, failure_id).result["attempt"] == 2


def test_a_debug_rerun_asks_github_for_debug_logging(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(infra_gets("rerun_with_debug_logging"))
    failure_id = executing(db_session, services, sandbox)
    run_id = db_session.get(Failure, failure_id).run_id

    execute(db_session, services, failure_id)

    (post,) = [r for r in sandbox.requests if r.path.endswith("/rerun-failed-jobs")]
    assert json.loads(post.body) == {"enable_debug_logging": True}
    assert sandbox.attempts(WEB, run_id)[-1].debug_logging


def test_a_cache_clear_deletes_the_configured_keys_then_reruns(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(
        infra_gets("clear_cache_and_rerun", cache_key_templates=["deps-{owner}-{branch}"])
    )
    sandbox.add_cache(WEB, "deps-acme-main")
    sandbox.add_cache(WEB, "deps-acme-main-extra")  # another key: not ours to delete
    failure_id = executing(db_session, services, sandbox, head_branch="main")

    execute(db_session, services, failure_id)
    execute(db_session, services, failure_id)

    remediation = remediation_of(db_session, failure_id)
    assert remediation.parameters == {"cache_keys": ["deps-acme-main"]}
    assert remediation.result["caches_deleted"] == {"deps-acme-main": 1}
    deletes = [r for r in sandbox.requests if r.method == "DELETE"]
    assert [r.query["key"] for r in deletes] == [["deps-acme-main"]]
    assert sandbox.count("POST", r".*/rerun-failed-jobs") == 1
    remaining = requests.get(
        f"{sandbox.url}/repos/{WEB}/actions/caches",
        headers={"Authorization": "token ghp_sandboxtoken"},
        timeout=5,
    ).json()["actions_caches"]
    assert [cache["key"] for cache in remaining] == ["deps-acme-main-extra"]


def test_a_cache_clear_keeps_what_it_deleted_before_it_asks_for_the_rerun(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    """The deletion is its own step: its record is committed before the rerun is asked for, so a
    rerun that fails afterwards (and its retry, which finds the caches gone) cannot lose it."""
    services = services_for(
        infra_gets("clear_cache_and_rerun", cache_key_templates=["deps-{branch}"])
    )
    sandbox.add_cache(WEB, "deps-main")
    failure_id = executing(db_session, services, sandbox, head_branch="main")

    prepared = execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )

    assert prepared.follow_ups == (FollowUp(Step.EXECUTE, failure_id),)
    assert sandbox.count("POST", r".*/rerun-failed-jobs") == 0
    remediation = remediation_of(db_session, failure_id)
    assert (remediation.status, remediation.result) == (
        RemediationStatus.PENDING,
        {"caches_deleted": {"deps-main": 1}},
    )
    entry = db_session.scalar(
        select(AuditEntry).where(
            AuditEntry.failure_id == failure_id, AuditEntry.action == "remediation_prepared"
        )
    )
    assert entry is not None
    assert entry.detail["caches_deleted"] == {"deps-main": 1}
    assert entry.detail["detail"] == "deleted 1 cache(s) (deps-main)"

    # The next try's rerun fails after GitHub's retries: the deletion's record stays.
    sandbox.refuse_rerun(WEB, remediation.run_id, 503, "Service Unavailable")
    with pytest.raises(TransientGitHubError):
        execute(db_session, services, failure_id)
    assert remediation_of(db_session, failure_id).result["caches_deleted"] == {"deps-main": 1}
    assert [r.query["key"] for r in sandbox.requests if r.method == "DELETE"] == [["deps-main"]]


def test_a_redelivered_cache_clear_after_github_acted_deletes_and_reruns_nothing_more(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(
        infra_gets("clear_cache_and_rerun", cache_key_templates=["deps-{branch}"])
    )
    failure_id = executing(db_session, services, sandbox, head_branch="main")
    run_id = db_session.get(Failure, failure_id).run_id
    # The worker died after GitHub took the rerun, before the commit: the row is `pending`.
    services.gateway.rerun_failed_jobs(WEB, run_id)
    sandbox.add_cache(WEB, "deps-main")  # (rebuilt by the rerun)

    execute(db_session, services, failure_id)

    assert sandbox.count("POST", r".*/rerun-failed-jobs") == 1
    assert [r for r in sandbox.requests if r.method == "DELETE"] == []
    assert "not sent again" in remediation_of(db_session, failure_id).outcome_detail


def test_a_cache_clear_rolled_back_at_the_deadline_says_the_caches_stay_deleted(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(
        infra_gets("clear_cache_and_rerun", cache_key_templates=["deps-{branch}"])
    )
    failure_id = executing(db_session, services, sandbox, polls_until_complete=50)
    execute(db_session, services, failure_id)  # the caches
    execute(db_session, services, failure_id)  # the rerun
    result = verify_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, timeout=timedelta(0)
    )
    assert [f.step for f in result.follow_ups] == [Step.ROLLBACK]

    roll_back_remediation(db_session, failure_id=failure_id, gateway=services.gateway)

    assert state_of(db_session, failure_id) is FailureState.ROLLED_BACK
    assert (
        "the deleted caches stay deleted" in remediation_of(db_session, failure_id).outcome_detail
    )


def test_a_dispatch_sends_the_configured_workflow_once_and_its_run_decides(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(
        infra_gets(
            "dispatch_remediation_workflow",
            remediation_workflows=[{"workflow": "heal.yml", "inputs": {"failed": "{run_id}"}}],
        )
    )
    sandbox.add_workflow(WEB, "Heal", path=".github/workflows/heal.yml", dispatch_polls=2)
    failure_id = executing(db_session, services, sandbox, head_branch="main")
    run_id = db_session.get(Failure, failure_id).run_id

    execute(db_session, services, failure_id)
    execute(db_session, services, failure_id)  # redelivered: finds the dispatched run
    waits = verify_until_done(db_session, services, failure_id)

    (dispatch,) = sandbox.dispatches(WEB)
    assert (dispatch.workflow_path, dispatch.ref) == (".github/workflows/heal.yml", "main")
    assert dispatch.inputs == {"failed": str(run_id)}
    assert waits >= 1
    assert state_of(db_session, failure_id) is FailureState.RESOLVED
    remediation = remediation_of(db_session, failure_id)
    assert remediation.result["dispatched_run_id"] != run_id
    assert remediation.result["conclusion"] == "success"
    assert sandbox.count("POST", r".*/rerun.*") == 0  # the failed run itself is left alone


def test_a_redelivered_dispatch_after_github_acted_is_not_sent_again(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(
        infra_gets("dispatch_remediation_workflow", remediation_workflows=["heal.yml"])
    )
    sandbox.add_workflow(WEB, "Heal", path=".github/workflows/heal.yml")
    failure_id = executing(db_session, services, sandbox, head_branch="main")
    # The dispatch whose record was lost (the worker died before the commit).
    services.gateway.dispatch_workflow(WEB, workflow="heal.yml", ref="main", inputs={})

    execute(db_session, services, failure_id)

    assert len(sandbox.dispatches(WEB)) == 1
    assert "not dispatched again" in remediation_of(db_session, failure_id).outcome_detail


def test_a_failed_dispatched_run_escalates_and_one_still_running_is_cancelled(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(
        infra_gets("dispatch_remediation_workflow", remediation_workflows=["heal.yml"])
    )
    sandbox.add_workflow(
        WEB, "Heal", path=".github/workflows/heal.yml", dispatch_conclusion="failure"
    )
    failed = executing(db_session, services, sandbox, head_branch="main")
    execute(db_session, services, failed)
    verify_until_done(db_session, services, failed)
    assert state_of(db_session, failed) is FailureState.ESCALATED

    sandbox.add_workflow(WEB, "Heal", path=".github/workflows/heal.yml", dispatch_polls=100)
    slow = executing(db_session, services, sandbox, head_branch="release")
    execute(db_session, services, slow)
    verify_remediation(db_session, failure_id=slow, gateway=services.gateway, timeout=timedelta(0))
    roll_back_remediation(db_session, failure_id=slow, gateway=services.gateway)
    roll_back_remediation(db_session, failure_id=slow, gateway=services.gateway)  # redelivered

    assert state_of(db_session, slow) is FailureState.ROLLED_BACK
    assert sandbox.count("POST", r".*/cancel") == 1
    assert "cancelled dispatched run" in remediation_of(db_session, slow).outcome_detail


def test_a_dispatch_the_workflow_refuses_escalates_with_githubs_words(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(
        infra_gets("dispatch_remediation_workflow", remediation_workflows=["heal.yml"])
    )
    sandbox.add_workflow(WEB, "Heal", path=".github/workflows/heal.yml", dispatchable=False)
    failure_id = executing(db_session, services, sandbox, head_branch="main")

    execute(db_session, services, failure_id)

    assert state_of(db_session, failure_id) is FailureState.ESCALATED
    remediation = remediation_of(db_session, failure_id)
    assert remediation.status is RemediationStatus.REFUSED
    assert "workflow_dispatch" in remediation.outcome_detail


def test_a_tracking_issue_is_opened_once_per_fingerprint_and_closed_when_a_run_passes(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(infra_gets("open_tracking_issue"))
    first = executing(db_session, services, sandbox, head_branch="main")
    execute(db_session, services, first)
    execute(db_session, services, first)  # redelivered: finds its own issue
    assert not verify(db_session, services, first)
    repeat = executing(db_session, services, sandbox, head_branch="main")
    execute(db_session, services, repeat)
    assert not verify(db_session, services, repeat)

    (issue,) = sandbox.issues(WEB)
    assert issue.labels == ("ci-remediator",)
    assert issue.state == "open"
    assert state_of(db_session, first) is FailureState.ESCALATED  # handed to people
    assert state_of(db_session, repeat) is FailureState.ESCALATED
    assert remediation_of(db_session, first).result["opened"] is True
    assert remediation_of(db_session, repeat).result == {
        **remediation_of(db_session, first).result,
        "opened": False,
    }
    assert close_fixed_tracking_issues(db_session, gateway=services.gateway) == 0  # not fixed

    sandbox.add_successful_run(WEB, workflow_name="CI", job_name="test", log_text="ok")
    closed = close_fixed_tracking_issues(db_session, gateway=services.gateway)
    again = close_fixed_tracking_issues(db_session, gateway=services.gateway)

    assert (closed, again) == (1, 0)
    assert sandbox.issues(WEB)[0].state == "closed"
    assert sandbox.count("PATCH", r".*/issues/\d+") == 1


def test_a_run_that_passed_in_the_failures_second_closes_its_issue_but_one_before_it_does_not(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    # GitHub's timestamps are whole seconds: the run id orders runs created in one second.
    second = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    sandbox.add_successful_run(
        WEB, workflow_name="CI", job_name="test", log_text="ok", created_at=second
    )
    services = services_for(infra_gets("open_tracking_issue"))
    failure_id = executing(db_session, services, sandbox, head_branch="main", created_at=second)
    execute(db_session, services, failure_id)
    assert not verify(db_session, services, failure_id)

    assert close_fixed_tracking_issues(db_session, gateway=services.gateway) == 0

    sandbox.add_successful_run(
        WEB, workflow_name="CI", job_name="test", log_text="ok", created_at=second
    )
    assert close_fixed_tracking_issues(db_session, gateway=services.gateway) == 1
    assert sandbox.issues(WEB)[0].state == "closed"


def test_a_tracking_issue_shows_the_analysis_as_data(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(infra_gets("open_tracking_issue"))
    failure_id = executing(db_session, services, sandbox, head_branch="main")

    execute(db_session, services, failure_id)

    (issue,) = sandbox.issues(WEB)
    failure = db_session.get(Failure, failure_id)
    assert issue.title == "CI failure: CI on main (infrastructure)"
    assert f"[run {failure.run_id}]({failure.html_url})" in (issue.body or "")
    assert "```text\n" in (issue.body or "")
    assert "<!-- ci-remediator fingerprint: " in (issue.body or "")


def verify_with_rules(session: Session, services: Services, failure_id: int) -> None:
    for _ in range(20):
        if not verify_remediation(
            session,
            failure_id=failure_id,
            gateway=services.gateway,
            timeout=VERIFY_TIMEOUT,
            knowledge_base=services.knowledge_base,
        ).waiting:
            return
    raise AssertionError("still verifying after 20 checks")


def test_a_rerun_that_fails_the_same_way_is_escalated_with_both_analyses(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for({})
    failure_id = executing(db_session, services, sandbox, rerun_conclusions=("failure",))
    execute(db_session, services, failure_id)

    verify_with_rules(db_session, services, failure_id)

    assert state_of(db_session, failure_id) is FailureState.ESCALATED
    rerun = remediation_of(db_session, failure_id).result["rerun_analysis"]
    assert rerun["same_failure"] is True
    assert rerun["attempt"] == 2
    message = build_stage_message(db_session, failure_id=failure_id, event=StageEvent.ESCALATED)
    assert message is not None
    assert "attempt 2 failed the same way (same fingerprint)" in message.lines
    assert [text.split(":")[0] for text in message.untrusted[:2]] == ["attempt 1", "attempt 2"]
    assert sandbox.count("POST", r".*/rerun-failed-jobs") == 1  # never another automatic one
    (timeline,) = [t for t in failure_timelines(db_session) if t.failure.id == failure_id]
    assert any("failed the same way (by fingerprint)" in entry.note for entry in timeline.entries)


def test_a_rerun_that_fails_differently_says_so(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for({})
    failure_id = executing(db_session, services, sandbox, rerun_conclusions=("failure",))
    execute(db_session, services, failure_id)
    analysis = db_session.scalar(select(Analysis).where(Analysis.failure_id == failure_id))
    analysis.fingerprint = "0" * 64  # the first attempt showed something else

    verify_with_rules(db_session, services, failure_id)

    assert remediation_of(db_session, failure_id).result["rerun_analysis"]["same_failure"] is False
    message = build_stage_message(db_session, failure_id=failure_id, event=StageEvent.ESCALATED)
    assert message is not None
    assert "attempt 2 failed differently: infrastructure" in message.lines


def test_messages_show_what_an_action_sends_and_link_what_github_returned(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(infra_gets("open_tracking_issue"))
    failure_id = executing(db_session, services, sandbox, head_branch="main")
    execute(db_session, services, failure_id)
    verify_until_done(db_session, services, failure_id)

    message = build_stage_message(db_session, failure_id=failure_id, event=StageEvent.ESCALATED)

    assert message is not None
    (issue,) = sandbox.issues(WEB)
    assert f"handed to people: tracking issue #{issue.number} is open" in message.lines
    assert (f"issue #{issue.number}", f"{sandbox.url}/{WEB}/issues/{issue.number}") in (
        message.links
    )


def test_an_approval_request_shows_the_parameters_the_human_approves(
    db_session: Session, services_for: ServicesFor, sandbox: GitHubSandbox
) -> None:
    services = services_for(
        infra_gets(
            "clear_cache_and_rerun",
            cache_key_templates=["deps-{branch}"],
            protected_repositories=[WEB],
        )
    )
    failure_id = record_sandbox_failure(
        db_session, services, sandbox, log_text=demo_log("network_blip.log"), head_branch="main"
    )
    analyze_failure(
        db_session,
        failure_id=failure_id,
        gateway=services.gateway,
        knowledge_base=services.knowledge_base,
    )
    gate_failure(db_session, failure_id=failure_id, config=services.config)

    message = build_stage_message(
        db_session, failure_id=failure_id, event=StageEvent.APPROVAL_REQUESTED
    )

    assert state_of(db_session, failure_id) is FailureState.AWAITING_APPROVAL
    assert message is not None
    assert "sends: cache_keys=deps-main" in message.lines
