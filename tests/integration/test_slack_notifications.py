"""Stage messages in Slack on Postgres: one thread per failure, approvals with buttons, and
nothing lost, doubled or reordered while Slack rate-limits or is down."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from ci_remediator.db.models import Failure, Notification, NotificationStatus
from ci_remediator.db.notices import notice
from ci_remediator.domain import FailureState, FollowUp, StageEvent
from ci_remediator.pipeline.detect import follow_ups_for_new_failure
from ci_remediator.pipeline.notify import notify_stage
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import PAYMENTS, demo_log
from ci_remediator.sandbox.slack import BOT_TOKEN, TEAM_DOMAIN, SlackSandbox
from ci_remediator.sandbox.slack_actions import ButtonClick, InteractivitySender
from ci_remediator.services import Services
from ci_remediator.slack.blocks import ActionId
from tests.integration.conftest import (
    SLACK_APPROVER,
    SLACK_SIGNING_SECRET,
    record_sandbox_failure,
    wait_until,
)
from tests.integration.webhook_server import serving_web_app

ALERTS, APPROVALS = "ci-cd-alerts", "ci-cd-approvals"


def texts(slack: SlackSandbox, channel: str) -> list[str]:
    return [message.text for message in slack.messages(channel)]


def test_slack_down_then_back_delivers_every_message_once_in_order_in_its_thread(
    slack_services: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    events = (StageEvent.DETECTED, StageEvent.ANALYZED, StageEvent.REMEDIATION_STARTED)
    with slack_services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(session, slack_services, sandbox)
        for event in events:
            notice(session, failure_id, event)

    def deliver() -> bool:
        with slack_services.sessions() as session, session.begin():
            return notify_stage(
                session, failure_id=failure_id, notifier=slack_services.notifier
            ).waiting

    slack.rate_limit(times=1, retry_after_s=7)
    with slack_services.sessions() as session, session.begin():
        limited = notify_stage(session, failure_id=failure_id, notifier=slack_services.notifier)
    assert (limited.waiting, limited.retry_after_s) == (True, 7.0)
    slack.go_down()
    assert deliver()  # nothing taken while down
    slack.come_back()
    slack.inject_error(status=503, times=1)
    assert deliver()
    assert not deliver()  # back: everything goes, in order
    assert not deliver()  # and nothing goes twice

    (parent,) = [m for m in slack.messages(ALERTS) if m.thread_ts is None]
    thread = slack.thread(ALERTS, parent.ts)
    assert [m.text.split(":")[0] for m in thread] == [
        "Failure detected",
        "Analyzed",
        "Remediating",
    ]
    assert all(m.thread_ts == parent.ts for m in thread[1:])
    with slack_services.sessions() as session:
        rows = session.scalars(select(Notification).where(Notification.failure_id == failure_id))
        assert {row.status for row in rows} == {NotificationStatus.DELIVERED}


def test_model_text_reaches_slack_only_as_an_escaped_code_block(
    slack_services: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    from workers.tasks import analyze

    hostile = demo_log("compile_error.log") + "\n<!channel> <https://evil.example|click here>\n"
    with slack_services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(session, slack_services, sandbox, log_text=hostile)
    analyze(failure_id=failure_id)
    with slack_services.sessions() as session, session.begin():
        notify_stage(session, failure_id=failure_id, notifier=slack_services.notifier)
    shown = str([m.blocks for m in slack.messages(ALERTS)])
    assert "<!channel>" not in shown
    assert "<https://evil.example" not in shown
    assert "(unverified data)" in shown


def test_a_failure_needing_approval_gets_one_thread_a_request_and_one_rerun_on_a_click(
    slack_services: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    from workers.app import app
    from workers.base import send_follow_ups
    from workers.embedded import running_worker

    def enqueue(follow_ups: Sequence[FollowUp]) -> None:
        send_follow_ups(app, follow_ups)

    with running_worker(app, concurrency=4):
        with slack_services.sessions() as session, session.begin():
            failure_id = record_sandbox_failure(
                session,
                slack_services,
                sandbox,
                repository=PAYMENTS,
                log_text=demo_log("network_blip.log"),
                rerun_conclusions=("success",),
            )
            follow_ups = list(follow_ups_for_new_failure(session, failure_id))
        send_follow_ups(app, follow_ups)
        assert wait_until(lambda: bool(slack.messages(APPROVALS)), timeout_s=30)
        (request,) = slack.messages(APPROVALS)
        buttons = {
            element["action_id"]
            for block in request.blocks
            if block["type"] == "actions"
            for element in block["elements"]
        }
        assert buttons == {ActionId.APPROVE.value, ActionId.REJECT.value}
        # It names the failed job with its link, and links to the failure's thread.
        shown = str(request.blocks)
        (parent, *_) = slack.messages(ALERTS)
        assert f"/archives/{parent.channel}/p{parent.ts.replace('.', '')}|" in shown
        assert "/job/" in shown
        assert "|test>" in shown  # the job, as GitHub named it
        with (
            serving_web_app(slack_services, enqueue) as base_url,
            InteractivitySender(f"{base_url}/slack/events", SLACK_SIGNING_SECRET) as clicks,
        ):
            click = ButtonClick.on(
                request,
                user_id=SLACK_APPROVER,
                action_id=ActionId.APPROVE.value,
                channel_name=APPROVALS,
            )
            assert clicks.click(click).status_code == 200

            def state() -> FailureState:
                with slack_services.sessions() as session:
                    failure = session.get(Failure, failure_id)
                    assert failure is not None
                    return failure.state

            assert wait_until(lambda: state() is FailureState.RESOLVED, timeout_s=40)
        assert wait_until(lambda: any("Resolved" in t for t in texts(slack, ALERTS)), timeout_s=20)
    with slack_services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        run_id = failure.run_id
    assert sandbox.count("POST", rf".*/runs/{run_id}/rerun-failed-jobs") == 1
    parents = [m for m in slack.messages(ALERTS) if m.thread_ts is None]
    assert len(parents) == 1  # one thread for the failure
    assert all(m.thread_ts == parents[0].ts for m in slack.messages(ALERTS)[1:])
    assert any(u for u in slack.message(APPROVALS, request.ts).updates)


def test_a_refused_bot_token_is_told_once_degrades_health_and_loses_no_message(
    slack_services: Services,
    sandbox: GitHubSandbox,
    slack: SlackSandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from ci_remediator.web import create_app

    with slack_services.sessions() as session, session.begin():
        first = record_sandbox_failure(session, slack_services, sandbox)
        second = record_sandbox_failure(session, slack_services, sandbox)
        for failure_id in (first, second):
            notice(session, failure_id, StageEvent.DETECTED)
    slack.revoke_token(BOT_TOKEN)

    def deliver(failure_id: int) -> bool:
        with slack_services.sessions() as session, session.begin():
            return notify_stage(
                session,
                failure_id=failure_id,
                notifier=slack_services.notifier,
                notifier_credential=slack_services.notifier_credential,
            ).waiting

    with caplog.at_level("CRITICAL"):
        assert deliver(first)
        assert deliver(second)
        assert deliver(first)
    refused = [r for r in caplog.records if "refused the bot token" in r.getMessage()]
    assert len(refused) == 1  # one alert, however many messages wait
    health = create_app(services=lambda: slack_services).test_client().get("/healthz")
    assert (health.status_code, health.get_json()["status"]) == (200, "degraded")
    assert texts(slack, ALERTS) == []
    with slack_services.sessions() as session:
        waiting = session.scalars(
            select(Notification).where(Notification.status == NotificationStatus.PENDING)
        ).all()
        assert {row.failure_id for row in waiting} == {first, second}


def test_a_critical_notice_links_to_the_failures_thread(
    slack_services: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    with slack_services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(session, slack_services, sandbox)
        notice(session, failure_id, StageEvent.DETECTED)
        notice(session, failure_id, StageEvent.ERRORED)
    with slack_services.sessions() as session, session.begin():
        notify_stage(session, failure_id=failure_id, notifier=slack_services.notifier)
    (parent,) = slack.messages(ALERTS)
    (critical,) = slack.messages("critical-alerts")
    ts = parent.ts.replace(".", "")
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{parent.channel}/p{ts}"
    assert f"<{link}|The failure's thread>" in str(critical.blocks)
