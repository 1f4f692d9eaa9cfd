"""Approve and Reject clicks over real HTTP: the web app (Bolt at /slack/events) on Postgres,
the Slack sandbox as Slack, signed requests as Slack signs them. Only an approver's fresh,
correctly signed click moves a failure, once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, func, select, update

from ci_remediator.config import load_config
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import ApprovalRequest, AuditEntry, Failure, Remediation
from ci_remediator.domain import FailureState, FollowUp, Step
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import PAYMENTS, demo_log
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.sandbox.slack_actions import ButtonClick, InteractivitySender
from ci_remediator.services import Services
from ci_remediator.slack.blocks import ActionId, approval_request_blocks
from tests.integration.conftest import (
    SLACK_APPROVER,
    SLACK_SIGNING_SECRET,
    record_sandbox_failure,
    wait_until,
)
from tests.integration.webhook_server import serving_web_app

CHANNEL = "ci-cd-approvals"


@pytest.fixture
def enqueued() -> list[FollowUp]:
    return []


@pytest.fixture
def sender(slack_services: Services, enqueued: list[FollowUp]) -> Iterator[InteractivitySender]:
    def enqueue(follow_ups: Sequence[FollowUp]) -> None:
        enqueued.extend(follow_ups)

    with (
        serving_web_app(slack_services, enqueue) as base_url,
        InteractivitySender(f"{base_url}/slack/events", SLACK_SIGNING_SECRET) as signed,
    ):
        yield signed


@pytest.fixture
def request_message(
    slack_services: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> tuple[ApprovalRequest, Any]:
    """A pending approval in the protected repository and its message in #ci-cd-approvals."""
    from workers.tasks import analyze, gate

    with slack_services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(
            session,
            slack_services,
            sandbox,
            repository=PAYMENTS,
            log_text=demo_log("network_blip.log"),
        )
    analyze(failure_id=failure_id)
    gate(failure_id=failure_id)
    with slack_services.sessions() as session:
        approval = session.scalar(
            select(ApprovalRequest).where(ApprovalRequest.failure_id == failure_id)
        )
        assert approval is not None
        session.expunge(approval)
    posted = WebClient(token=BOT_TOKEN, base_url=slack.api_url).chat_postMessage(
        channel=CHANNEL,
        text="Approval needed",
        blocks=approval_request_blocks(
            approval_id=approval.id, title="Approval needed", facts=["rerun_failed_jobs"]
        ),
    )
    return approval, slack.message(CHANNEL, posted["ts"])


def click(
    message: Any, user: str = SLACK_APPROVER, action: ActionId = ActionId.APPROVE
) -> ButtonClick:
    return ButtonClick.on(message, user_id=user, action_id=action.value, channel_name=CHANNEL)


def state(services: Services, failure_id: int) -> FailureState:
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        return failure.state


def audit(services: Services, action: str) -> list[dict[str, Any]]:
    with services.sessions() as session:
        return [
            entry.detail
            for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        ]


def remediations(services: Services, failure_id: int) -> int:
    with services.sessions() as session:
        return (
            session.scalar(
                select(func.count(Remediation.id)).where(Remediation.failure_id == failure_id)
            )
            or 0
        )


def test_an_approvers_click_approves_once_and_rewrites_the_message(
    slack_services: Services,
    slack: SlackSandbox,
    sender: InteractivitySender,
    request_message: tuple[ApprovalRequest, Any],
    enqueued: list[FollowUp],
) -> None:
    approval, message = request_message
    answer = sender.click(click(message))
    assert answer.status_code == 200
    assert wait_until(lambda: state(slack_services, approval.failure_id) is FailureState.EXECUTING)
    assert wait_until(lambda: bool(slack.message(CHANNEL, message.ts).updates))
    updated = slack.message(CHANNEL, message.ts)
    assert all(block["type"] != "actions" for block in updated.blocks)
    assert f"approved by {SLACK_APPROVER}" in str(updated.blocks)
    assert [f.step for f in enqueued] == [Step.EXECUTE, Step.NOTIFY]

    replayed = sender.replay()  # the same signed request again, within Slack's window
    assert replayed.status_code == 200
    assert wait_until(lambda: len(audit(slack_services, "decision_refused")) == 1)
    assert audit(slack_services, "decision_refused")[0]["reason"] == "already_decided"
    assert remediations(slack_services, approval.failure_id) == 1
    assert len(enqueued) == 2


@pytest.mark.parametrize("refused", ["forged", "stale", "unsigned"])
def test_a_request_slack_did_not_sign_now_changes_nothing_and_is_audited(
    slack_services: Services,
    sender: InteractivitySender,
    request_message: tuple[ApprovalRequest, Any],
    refused: str,
) -> None:
    approval, message = request_message
    send = {
        "forged": sender.click_forged,
        "stale": sender.click_stale,
        "unsigned": sender.click_unsigned,
    }[refused]
    answer = send(click(message))
    assert answer.status_code == 401
    assert state(slack_services, approval.failure_id) is FailureState.AWAITING_APPROVAL
    (entry,) = audit(slack_services, "request_refused")
    assert entry["reason"] in ("missing signature", "bad or stale signature")
    assert "response_url" not in str(entry)
    assert "token" not in str(entry)


def test_someone_not_in_approvers_is_told_so_alone_and_nothing_changes(
    slack_services: Services,
    slack: SlackSandbox,
    sender: InteractivitySender,
    request_message: tuple[ApprovalRequest, Any],
) -> None:
    approval, message = request_message
    assert sender.click(click(message, user="U0INTRUDER")).status_code == 200
    assert wait_until(lambda: bool(slack.ephemerals(CHANNEL, "U0INTRUDER")))
    (told,) = slack.ephemerals(CHANNEL, "U0INTRUDER")
    assert "U0INTRUDER is not an approver" in told.text
    assert state(slack_services, approval.failure_id) is FailureState.AWAITING_APPROVAL
    (entry,) = audit(slack_services, "decision_refused")
    assert (entry["reason"], entry["user"]) == ("not_an_approver", "U0INTRUDER")
    assert not slack.message(CHANNEL, message.ts).updates


def test_a_double_click_is_told_who_already_decided(
    slack_services: Services,
    slack: SlackSandbox,
    sender: InteractivitySender,
    request_message: tuple[ApprovalRequest, Any],
) -> None:
    approval, message = request_message
    sender.click(click(message, action=ActionId.REJECT))
    assert wait_until(lambda: state(slack_services, approval.failure_id) is FailureState.REJECTED)
    sender.click(click(message))
    assert wait_until(lambda: bool(slack.ephemerals(CHANNEL, SLACK_APPROVER)))
    (told,) = slack.ephemerals(CHANNEL, SLACK_APPROVER)
    assert told.text.startswith(f"already rejected by {SLACK_APPROVER}")
    assert remediations(slack_services, approval.failure_id) == 0


def test_a_click_after_the_request_expired_is_refused(
    slack_services: Services,
    slack: SlackSandbox,
    sender: InteractivitySender,
    request_message: tuple[ApprovalRequest, Any],
) -> None:
    approval, message = request_message
    with slack_services.sessions() as session, session.begin():
        session.execute(
            update(ApprovalRequest)
            .where(ApprovalRequest.id == approval.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    sender.click(click(message))
    assert wait_until(lambda: bool(slack.ephemerals(CHANNEL, SLACK_APPROVER)))
    (told,) = slack.ephemerals(CHANNEL, SLACK_APPROVER)
    assert "expired" in told.text
    assert state(slack_services, approval.failure_id) is FailureState.AWAITING_APPROVAL
    assert remediations(slack_services, approval.failure_id) == 0


def test_the_web_process_starts_and_answers_while_slack_is_unreachable(
    sandbox: GitHubSandbox, committed_db: Engine
) -> None:
    from ci_remediator.web import create_app

    base = load_config(
        env_overrides={
            "github_api_url": sandbox.url,
            "slack_signing_secret": SLACK_SIGNING_SECRET,
            "slack_bot_token": BOT_TOKEN,
            "slack_api_url": "http://127.0.0.1:9/api/",  # nothing listens there
        }
    )
    services = Services(base)
    client = create_app(services=lambda: services).test_client()
    assert client.get("/healthz").status_code == 200
    assert client.post("/slack/events", data={"payload": "{}"}).status_code == 401
