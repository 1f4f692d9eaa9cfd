"""GitHub webhook deliveries over real HTTP into the web app, on Postgres.

Deliveries are built from GitHub's own example payloads (octokit/webhooks) and signed as
GitHub signs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
import requests
from sqlalchemy import Engine, func, select

from ci_remediator.config import load_config
from ci_remediator.db.models import AuditEntry, DetectionSource, Failure, MonitoredRepository
from ci_remediator.domain import FollowUp, Step
from ci_remediator.pipeline.detect import poll_repository
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import WEB
from ci_remediator.sandbox.webhook_sender import (
    WebhookSender,
    ping_payload,
    sign_payload,
    workflow_job_payload,
    workflow_run_payload,
)
from ci_remediator.services import Services, set_services
from tests.integration.webhook_server import serving_web_app

SECRET = "It's a Secret to Everybody"
LOG = "##[error]Process completed with exit code 1.\n"


@pytest.fixture
def webhook_services(sandbox: GitHubSandbox, committed_db: Engine) -> Iterator[Services]:
    services = Services(
        load_config(env_overrides={"github_api_url": sandbox.url, "github_webhook_secret": SECRET})
    )
    set_services(services)
    yield services
    set_services(None)


@pytest.fixture
def enqueued() -> list[FollowUp]:
    return []


@pytest.fixture
def sender_url(webhook_services: Services, enqueued: list[FollowUp]) -> Iterator[str]:
    def enqueue(follow_ups: Sequence[FollowUp]) -> None:
        enqueued.extend(follow_ups)

    with serving_web_app(webhook_services, enqueue) as base_url:
        yield f"{base_url}/webhooks/github"


@pytest.fixture
def sender(sender_url: str) -> Iterator[WebhookSender]:
    with WebhookSender(sender_url, SECRET) as signed:
        yield signed


def failures(services: Services) -> list[Failure]:
    with services.sessions() as session:
        return list(session.scalars(select(Failure)))


def audit_count(services: Services, action: str) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


def failed_run(sandbox: GitHubSandbox) -> int:
    return sandbox.add_failed_run(WEB, workflow_name="CI", job_name="test", log_text=LOG)


def test_a_failing_workflow_run_is_recorded_and_analysis_enqueued(
    sandbox: GitHubSandbox,
    sender: WebhookSender,
    webhook_services: Services,
    enqueued: list[FollowUp],
) -> None:
    run_id = failed_run(sandbox)

    answer = sender.deliver(
        "workflow_run", workflow_run_payload(sandbox, WEB, run_id), delivery_id="d-123"
    )

    assert answer.status_code == 201
    (failure,) = failures(webhook_services)
    with webhook_services.sessions() as session:
        detected = session.scalars(select(AuditEntry).where(AuditEntry.action == "detected")).one()
    assert detected.detail["delivery"] == "d-123"
    assert detected.actor == "detector:webhook"
    assert (failure.repository, failure.run_id, failure.run_attempt) == (WEB, run_id, 1)
    assert failure.source is DetectionSource.WEBHOOK
    assert answer.json() == {"recorded": True, "failure_id": failure.id}
    assert [f.step for f in enqueued] == [Step.NOTIFY, Step.ANALYZE]
    assert {f.failure_id for f in enqueued} == {failure.id}


def test_a_redelivery_or_replay_records_nothing_more(
    sandbox: GitHubSandbox,
    sender: WebhookSender,
    webhook_services: Services,
    enqueued: list[FollowUp],
) -> None:
    payload = workflow_run_payload(sandbox, WEB, failed_run(sandbox))
    sender.deliver("workflow_run", payload)

    again = sender.deliver("workflow_run", payload)

    assert again.status_code == 200
    assert again.json()["recorded"] is False
    assert len(failures(webhook_services)) == 1
    assert len(enqueued) == 2  # from the first delivery only


def test_a_failure_seen_by_webhook_and_by_poll_is_recorded_once(
    sandbox: GitHubSandbox, sender: WebhookSender, webhook_services: Services
) -> None:
    by_webhook = failed_run(sandbox)
    sender.deliver("workflow_run", workflow_run_payload(sandbox, WEB, by_webhook))
    by_poll = failed_run(sandbox)

    with webhook_services.sessions() as session, session.begin():
        follow_ups = poll_repository(
            session, gateway=webhook_services.gateway, repository=WEB, lookback=timedelta(days=1)
        ).follow_ups
    by_poll_later = failed_run(sandbox)
    sender.deliver("workflow_run", workflow_run_payload(sandbox, WEB, by_poll))
    sender.deliver("workflow_run", workflow_run_payload(sandbox, WEB, by_poll_later))

    recorded = sorted((f.run_id, f.source.value) for f in failures(webhook_services))
    assert recorded == [
        (by_webhook, "webhook"),
        (by_poll, "poll"),
        (by_poll_later, "webhook"),
    ]
    assert {f.step for f in follow_ups} == {Step.NOTIFY, Step.ANALYZE}  # for by_poll only
    assert len(follow_ups) == 2


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha1=deadbeef"],
    ids=["missing", "wrong", "sha1"],
)
def test_a_bad_signature_is_refused_and_nothing_recorded(
    sandbox: GitHubSandbox,
    sender_url: str,
    webhook_services: Services,
    enqueued: list[FollowUp],
    signature: str | None,
) -> None:
    payload = workflow_run_payload(sandbox, WEB, failed_run(sandbox))

    if signature is None:
        answer = requests.post(
            sender_url,
            data=json.dumps(payload).encode(),
            headers={"X-GitHub-Event": "workflow_run", "Content-Type": "application/json"},
            timeout=10,
        )
    else:
        with WebhookSender(sender_url, SECRET) as sender:
            answer = sender.deliver("workflow_run", payload, signature=signature)

    assert answer.status_code == 401
    assert failures(webhook_services) == []
    assert enqueued == []
    assert audit_count(webhook_services, "delivery_refused") == 1
    with webhook_services.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "delivery_refused")
        ).one()
    # Metadata only: nothing of the unsigned body is kept.
    assert set(entry.detail) == {"event", "delivery", "reason", "remote"}
    assert WEB not in str(entry.detail)


def test_a_signed_body_that_was_altered_is_refused(
    sandbox: GitHubSandbox, sender: WebhookSender, webhook_services: Services
) -> None:
    payload = workflow_run_payload(sandbox, WEB, failed_run(sandbox))
    signed_for = json.dumps(payload).encode()
    payload["workflow_run"]["head_branch"] = "attacker-branch"
    answer = sender.deliver("workflow_run", payload, signature=sign_payload(SECRET, signed_for))

    assert answer.status_code == 401
    assert failures(webhook_services) == []


def test_ping_workflow_job_and_other_events_record_nothing(
    sandbox: GitHubSandbox, sender: WebhookSender, webhook_services: Services
) -> None:
    run_id = failed_run(sandbox)

    assert sender.deliver("ping", ping_payload()).status_code == 200
    assert (
        sender.deliver("workflow_job", workflow_job_payload(sandbox, WEB, run_id)).status_code
        == 202
    )
    assert sender.deliver("push", {"ref": "refs/heads/main"}).status_code == 204
    assert failures(webhook_services) == []


@pytest.mark.parametrize("conclusion", ["success", "cancelled", "skipped"])
def test_runs_that_did_not_fail_are_not_recorded(
    sandbox: GitHubSandbox, sender: WebhookSender, webhook_services: Services, conclusion: str
) -> None:
    payload = workflow_run_payload(sandbox, WEB, failed_run(sandbox))
    payload["workflow_run"]["conclusion"] = conclusion

    answer = sender.deliver("workflow_run", payload)

    assert answer.status_code == 202
    assert failures(webhook_services) == []


def test_a_signed_but_malformed_delivery_gets_a_clear_400(
    sandbox: GitHubSandbox, sender: WebhookSender, webhook_services: Services
) -> None:
    payload = workflow_run_payload(sandbox, WEB, failed_run(sandbox))
    del payload["workflow_run"]["created_at"]

    answer = sender.deliver("workflow_run", payload)

    assert answer.status_code == 400
    assert "created_at" in answer.json()["error"]
    assert failures(webhook_services) == []
    not_json = sender.deliver("workflow_run", b"{not json")
    assert not_json.status_code == 400


def test_runs_of_repositories_nobody_watches_are_not_recorded(
    sandbox: GitHubSandbox, sender: WebhookSender, webhook_services: Services
) -> None:
    """An organization-wide hook reports every repository of the organization."""
    unwatched = sandbox.add_failed_run(
        "acme/unwatched", workflow_name="CI", job_name="test", log_text=LOG
    )
    found_in_org = sandbox.add_failed_run(
        "acme-org/api", workflow_name="CI", job_name="test", log_text=LOG
    )
    with webhook_services.sessions() as session, session.begin():
        session.add(MonitoredRepository(full_name="acme-org/api", source="org:acme-org"))

    ignored = sender.deliver(
        "workflow_run", workflow_run_payload(sandbox, "acme/unwatched", unwatched)
    )
    recorded = sender.deliver(
        "workflow_run", workflow_run_payload(sandbox, "acme-org/api", found_in_org)
    )

    assert ignored.status_code == 202
    assert ignored.json() == {"ignored": "acme/unwatched is not monitored"}
    assert recorded.status_code == 201
    assert [(f.repository, f.run_id) for f in failures(webhook_services)] == [
        ("acme-org/api", found_in_org)
    ]


def test_a_delivered_fork_run_records_what_the_gate_reads(
    sandbox: GitHubSandbox, sender: WebhookSender, webhook_services: Services
) -> None:
    run_id = sandbox.add_failed_run(
        WEB,
        workflow_name="CI",
        job_name="test",
        log_text=LOG,
        event="pull_request",
        head_repository="stranger/web",
        workflow_path=".github/workflows/ci.yml",
    )
    sender.deliver("workflow_run", workflow_run_payload(sandbox, WEB, run_id))
    (failure,) = failures(webhook_services)
    assert failure.source is DetectionSource.WEBHOOK
    assert failure.head_repository == "stranger/web"
    assert failure.from_fork
    assert failure.event == "pull_request"
    assert failure.workflow_path == ".github/workflows/ci.yml"


@pytest.mark.parametrize(
    "case",
    [
        ("id", 10**30, "workflow_run.id is out of range"),
        ("run_attempt", -5, "workflow_run.run_attempt is out of range"),
        ("name", "N" * 1_000_000, "workflow_run.workflow_name is longer than 300"),
        ("head_branch", "main\x00evil", "workflow_run.head_branch holds a NUL"),
    ],
    ids=["huge-id", "negative-attempt", "1MB-name", "nul"],
)
def test_a_signed_payload_no_real_run_could_send_gets_400_naming_the_field(
    sandbox: GitHubSandbox,
    sender: WebhookSender,
    webhook_services: Services,
    case: tuple[str, object, str],
) -> None:
    field, value, named = case
    payload = workflow_run_payload(sandbox, WEB, failed_run(sandbox))
    payload["workflow_run"][field] = value

    answer = sender.deliver("workflow_run", payload)

    assert answer.status_code == 400
    assert named in answer.json()["error"]
    assert failures(webhook_services) == []


def test_json_nested_past_the_parsers_depth_is_a_400(sender: WebhookSender) -> None:
    answer = sender.deliver("workflow_run", b"[" * 100_000 + b"]" * 100_000)

    assert answer.status_code == 400
    assert "not usable JSON" in answer.json()["error"]


def test_a_chunked_body_over_the_limit_is_413_not_a_bad_signature(
    sender_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ci_remediator.web

    monkeypatch.setattr(ci_remediator.web, "MAX_BODY_BYTES", 10_000)
    body = json.dumps({"zen": "x" * 20_000}).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: requests sends it chunked
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    answer = requests.post(
        sender_url,
        data=chunks(),
        headers={
            "X-GitHub-Event": "ping",
            "X-Hub-Signature-256": sign_payload(SECRET, body),
            "Content-Type": "application/json",
        },
        timeout=10,
    )

    assert answer.status_code == 413


def test_a_failure_is_stored_and_acknowledged_while_the_broker_is_down(
    sandbox: GitHubSandbox, webhook_services: Services
) -> None:
    def broker_down(follow_ups: Sequence[FollowUp]) -> None:
        raise ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")

    run_id = failed_run(sandbox)
    with (
        serving_web_app(webhook_services, broker_down) as base_url,
        WebhookSender(f"{base_url}/webhooks/github", SECRET) as sender,
    ):
        answer = sender.deliver("workflow_run", workflow_run_payload(sandbox, WEB, run_id))

    assert answer.status_code == 201  # the reconcile sweep sends the analysis later
    assert [failure.run_id for failure in failures(webhook_services)] == [run_id]
