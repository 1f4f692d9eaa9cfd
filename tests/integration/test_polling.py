"""Polling on Postgres against the GitHub sandbox: conditional requests, deep scans, 401s."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from sqlalchemy import Engine, func, select

from ci_remediator.config import load_config
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import AuditEntry, DisabledCredential, Failure, MonitoredRepository
from ci_remediator.db.monitored_repositories import repositories_to_poll
from ci_remediator.github.errors import RateLimitedError
from ci_remediator.notify.messages import StageMessage, SystemAlert
from ci_remediator.pipeline.detect import poll_repository
from ci_remediator.pipeline.poll_cycle import expand_organizations
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import WEB
from ci_remediator.services import Services, set_services
from tests.integration.conftest import record_sandbox_failure, wait_until
from workers import tasks
from workers.base import RATE_LIMIT_COUNTDOWN_CAP_S

LOG = "##[error]Process completed with exit code 1.\n"
DAY = timedelta(days=1)


class RecordingNotifier:
    def __init__(self) -> None:
        self.messages: list[StageMessage] = []
        self.alerts: list[SystemAlert] = []

    def send(self, message: StageMessage) -> None:
        self.messages.append(message)

    def alert(self, alert: SystemAlert) -> None:
        self.alerts.append(alert)


def failed_run(sandbox: GitHubSandbox, repository: str = WEB) -> int:
    return sandbox.add_failed_run(repository, workflow_name="CI", job_name="t", log_text=LOG)


def poll(services: Services, repository: str = WEB, **options: object) -> int:
    with services.sessions() as session, session.begin():
        follow_ups = poll_repository(
            session, gateway=services.gateway, repository=repository, lookback=DAY, **options
        )
    return len(follow_ups.follow_ups) // 2  # a notify and an analyze per new failure


def recorded_runs(services: Services) -> list[int]:
    with services.sessions() as session:
        return sorted(session.scalars(select(Failure.run_id)))


@pytest.fixture
def polling(services: Services, committed_db: Engine) -> Services:
    return services


def test_an_unchanged_repository_costs_a_304_and_creates_nothing(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    first = failed_run(sandbox)
    assert poll(polling) == 1
    started = time.time()

    assert poll(polling) == 0
    assert poll(polling) == 0

    assert recorded_runs(polling) == [first]
    assert sandbox.counted_requests(since=started) == []
    assert sandbox.count("GET", rf"/repos/{WEB}/actions/runs") == 3


def test_a_new_failure_after_a_quiet_spell_is_found_on_the_next_poll(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    first = failed_run(sandbox)
    poll(polling)
    poll(polling)  # 304
    second = failed_run(sandbox)

    assert poll(polling) == 1
    assert recorded_runs(polling) == [first, second]


def test_pages_are_read_back_to_the_watermark_only(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    for _ in range(3):
        failed_run(sandbox)
    poll(polling)  # the first poll reads back over the lookback: one page here
    for _ in range(150):  # a busy spell: two pages of new runs
        failed_run(sandbox)
    before = sandbox.count("GET", rf"/repos/{WEB}/actions/runs")

    assert poll(polling) == 150
    assert sandbox.count("GET", rf"/repos/{WEB}/actions/runs") - before == 2
    assert len(recorded_runs(polling)) == 153


def test_the_deep_scan_catches_a_new_attempt_of_an_older_run(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    older = failed_run(sandbox)
    poll(polling)
    # Someone re-ran the old run by hand and it failed again: GitHub lists it at its original
    # place, under newer runs; the cheap poll reads only what changed on top.
    sandbox.add_failed_run(WEB, workflow_name="CI", job_name="t", log_text=LOG)
    with polling.sessions() as session, session.begin():
        session.execute(
            MonitoredRepository.__table__.update().values(deep_scanned_at=utcnow() - DAY)
        )

    assert poll(polling, deep_scan_every=timedelta(hours=1)) >= 1
    with polling.sessions() as session:
        deep_scanned = session.scalar(select(MonitoredRepository.deep_scanned_at))
    assert deep_scanned is not None
    assert utcnow() - deep_scanned < timedelta(minutes=1)
    assert older in recorded_runs(polling)


def _deep_scan_due(services: Services) -> None:
    with services.sessions() as session, session.begin():
        session.execute(
            MonitoredRepository.__table__.update().values(deep_scanned_at=utcnow() - DAY)
        )


def test_the_deep_scan_of_an_unchanged_repository_costs_nothing(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    for _ in range(3):
        failed_run(sandbox)
    poll(polling)
    _deep_scan_due(polling)
    poll(polling, deep_scan_every=timedelta(hours=1))  # stores each page's ETag
    _deep_scan_due(polling)
    started = time.time()

    assert poll(polling, deep_scan_every=timedelta(hours=1)) == 0

    # The cheap poll and the deep scan's page were asked conditionally: both 304s.
    assert sandbox.counted_requests(since=started) == []
    with polling.sessions() as session:
        stored = session.scalar(select(MonitoredRepository.deep_scan_etags))
    assert stored is not None
    assert len(stored["pages"]) == 1


def test_the_deep_scan_reads_a_page_that_changed_under_newer_runs(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    older = sandbox.add_failed_run(
        WEB, workflow_name="CI", job_name="t", log_text=LOG, rerun_conclusions=("failure",)
    )
    failed_run(sandbox)
    assert poll(polling) == 2
    _deep_scan_due(polling)
    poll(polling, deep_scan_every=timedelta(hours=1))
    # Someone re-runs the older run by hand and it fails again: it stays at its place in the
    # list (under the newer run), so the cheap poll's first page is unchanged, but the deep
    # scan's page is not.
    polling.gateway.rerun_failed_jobs(WEB, older)
    assert polling.gateway.get_run(WEB, older).run_attempt == 2
    assert wait_until(lambda: polling.gateway.get_run(WEB, older).conclusion == "failure")
    _deep_scan_due(polling)

    assert poll(polling, deep_scan_every=timedelta(hours=1)) == 1
    with polling.sessions() as session:
        attempts = session.scalars(select(Failure.run_attempt).where(Failure.run_id == older))
        assert sorted(attempts) == [1, 2]


@pytest.fixture
def recording(polling: Services) -> RecordingNotifier:
    notifier = RecordingNotifier()
    polling.__dict__["notifier"] = notifier  # replaces the cached console notifier
    return notifier


def test_a_revoked_token_stops_polling_and_raises_one_critical_alert(
    sandbox: GitHubSandbox, polling: Services, recording: RecordingNotifier, worker: None
) -> None:
    failed_run(sandbox)
    token = polling.config.settings.github_token
    assert token is not None
    sandbox.revoke_token(token.get_secret_value())

    tasks.poll_repository.delay(repository=WEB)
    assert wait_until(lambda: len(recording.alerts) == 1)
    for _ in range(2):
        tasks.poll_repository.delay(repository=WEB)
    tasks.poll_repositories.delay()
    tasks.reconcile.delay()
    assert wait_until(lambda: queued_and_running() == 0)

    assert sandbox.count("GET", r"/repos/.*") == 1  # the one that got the 401, no retries
    assert [alert.severity for alert in recording.alerts] == ["critical"]
    assert "401" in recording.alerts[0].title
    with polling.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DisabledCredential)) == 1
        assert (
            session.scalar(select(func.count()).where(AuditEntry.action == "credential_disabled"))
            == 1
        )
    assert recorded_runs(polling) == []


def queued_and_running() -> int | None:
    """Tasks still waiting in the broker, reserved or running on the worker; None if the
    worker did not answer (then nothing can be concluded)."""
    from workers.app import app

    inspector = app.control.inspect(timeout=1.0)
    active, reserved = inspector.active(), inspector.reserved()
    if active is None or reserved is None:
        return None
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        waiting = sum(client.llen(queue) for queue in ("poll", "default"))
    busy = sum(len(tasks) for tasks in (*active.values(), *reserved.values()))
    return waiting + busy


def test_a_new_credential_polls_again(
    sandbox: GitHubSandbox, polling: Services, recording: RecordingNotifier
) -> None:
    failed_run(sandbox)
    sandbox.revoke_token(polling.config.settings.github_token.get_secret_value())  # type: ignore[union-attr]
    tasks.poll_repository.apply(kwargs={"repository": WEB})

    fixed = Services(
        load_config(env_overrides={"github_api_url": sandbox.url, "github_token": "ghp_new_one"})
    )
    set_services(fixed)
    tasks.poll_repository.apply(kwargs={"repository": WEB})

    assert len(recorded_runs(fixed)) == 1


def test_organizations_expand_to_their_repositories(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    for name in ("acme-org/api", "acme-org/web", "other/thing"):
        sandbox.add_repository(name)

    with polling.sessions() as session, session.begin():
        found = expand_organizations(
            session, gateway=polling.gateway, organizations=("acme-org",), via_installation=False
        )
    with polling.sessions() as session:
        watched = repositories_to_poll(session, configured=(WEB,))

    assert sorted(found) == ["acme-org/api", "acme-org/web"]
    assert watched == [WEB, "acme-org/api", "acme-org/web"]


def test_an_app_installation_expands_to_what_it_was_granted(
    sandbox: GitHubSandbox, committed_db: Engine
) -> None:
    for name in ("acme-org/api", "acme-org/web", "acme-org/secret"):
        sandbox.add_repository(name)
    pem = sandbox.register_app(
        4242, installation_id=99, repositories=["acme-org/api", "acme-org/web"]
    )
    app_services = Services(
        load_config(
            env_overrides={
                "github_api_url": sandbox.url,
                "github_token": None,
                "github_app_id": "4242",
                "github_app_private_key": pem,
                "github_app_installation_id": "99",
            }
        )
    )
    failed_run(sandbox, "acme-org/api")

    with app_services.sessions() as session, session.begin():
        found = expand_organizations(
            session,
            gateway=app_services.gateway,
            organizations=("acme-org",),
            via_installation=True,
        )
    poll(app_services, "acme-org/api")
    poll(app_services, "acme-org/web")

    assert sorted(found) == ["acme-org/api", "acme-org/web"]
    assert len(recorded_runs(app_services)) == 1
    assert sandbox.tokens_issued == 1  # one installation token, reused for every call


def test_a_spent_budget_skips_the_poll_until_the_next_beat(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    failed_run(sandbox)
    sandbox.set_rate_limit(remaining=1, reset_in_s=3600)
    first = tasks.poll_repository.apply(kwargs={"repository": WEB})  # spends the last request

    skipped = tasks.poll_repository.apply(kwargs={"repository": WEB})

    assert first.state == "SUCCESS"
    assert skipped.state == "SUCCESS"  # not RETRY: nothing is scheduled for the reset
    assert sandbox.count("GET", r"/repos/.*") == 1
    assert len(recorded_runs(polling)) == 1


def test_a_rate_limited_step_retries_within_minutes_without_spending_a_retry(
    sandbox: GitHubSandbox, polling: Services
) -> None:
    """As a worker runs it: the error becomes a Retry sent to the broker, never an hour away."""
    with polling.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(session, polling, sandbox, log_text=LOG)
    limited = RateLimitedError("GitHub rate budget spent", retry_after_s=3500.0)
    task = tasks.analyze
    task.push_request(
        id="rate-limited",
        args=[],
        kwargs={"failure_id": failure_id},
        retries=3,
        is_eager=False,
        called_directly=False,
    )
    try:
        with pytest.raises(Retry) as caught:
            task._handle_error(limited, failure_id=failure_id)
    finally:
        task.pop_request()

    # Three retries already spent on other errors, and still one more: waiting is no fault.
    assert 0 < float(caught.value.when) <= RATE_LIMIT_COUNTDOWN_CAP_S
    with polling.sessions() as session:
        assert session.get(Failure, failure_id).state.value == "detected"  # not errored


def test_when_an_organization_cannot_be_listed_the_known_repositories_are_still_polled(
    sandbox: GitHubSandbox, committed_db: Engine, redis_client: object
) -> None:
    from workers.app import app
    from workers.embedded import running_worker

    sandbox.add_repository("acme-org/api")
    failed_run(sandbox)  # in the configured repository
    config = load_config(env_overrides={"github_api_url": sandbox.url})
    with_orgs = Services(
        config.model_copy(
            update={"file": config.file.model_copy(update={"organizations": ("acme-org",)})}
        )
    )
    set_services(with_orgs)
    sandbox.inject_error(502, path_pattern=r"/orgs/acme-org/repos", times=3)
    try:
        with running_worker(app, concurrency=2):
            tasks.poll_repositories.delay()
            assert wait_until(lambda: len(recorded_runs(with_orgs)) == 1)
    finally:
        set_services(None)

    assert sandbox.count("GET", r"/orgs/acme-org/repos") == 3  # the read retries, then gave up
    with with_orgs.sessions() as session:
        assert session.scalars(select(MonitoredRepository.full_name)).all() == [WEB]
    # The next beat lists the organization again: the refresh lock was given back.
    assert with_orgs.coordinator.try_lock("expand_organizations", ttl_s=1) is not None


def test_a_polled_fork_run_records_what_the_gate_reads(
    sandbox: GitHubSandbox, services: Services, committed_db: Engine
) -> None:
    run_id = sandbox.add_failed_run(
        WEB,
        workflow_name="Release",
        job_name="t",
        log_text=LOG,
        event="pull_request_target",
        head_repository="stranger/web",
        workflow_path=".github/workflows/release.yml",
    )
    assert poll(services) == 1
    with services.sessions() as session:
        failure = session.scalar(select(Failure).where(Failure.run_id == run_id))
        assert failure is not None
        assert (failure.head_repository, failure.event) == ("stranger/web", "pull_request_target")
        assert failure.from_fork
        assert failure.workflow_path is not None
        assert failure.workflow_path.startswith(".github/workflows/release.yml")
