from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ci_remediator.config import AppConfig, FileConfig, get_config, load_config
from ci_remediator.db import migrate
from ci_remediator.db.models import DetectionSource
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import DEMO_CONFIG, WEB
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.services import Services, set_services
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    engine = create_engine(TEST_DATABASE_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        pytest.fail(f"Postgres is not reachable at {TEST_DATABASE_URL}: {error}")
    # The schema is made by the migrations, from nothing, once per session.
    with engine.begin() as connection:
        # Everything goes, tables of older schemas and their enum types included.
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(TEST_DATABASE_URL)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at {TEST_REDIS_URL}: {error}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@contextmanager
def rolled_back(bind: Engine) -> Iterator[Session]:
    """A session whose work is rolled back at the end, commits included (savepoints): one
    test's, or one hypothesis example's of many in a test."""
    with bind.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    with rolled_back(engine) as session:
        yield session


def truncate_all(engine: Engine) -> None:
    tables = [table for table in inspect(engine).get_table_names() if table != "alembic_version"]
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def committed_db(engine: Engine) -> Iterator[Engine]:
    """For tests whose rows a worker must see: real commits, truncated afterwards."""
    truncate_all(engine)
    yield engine
    truncate_all(engine)


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as running:
        yield running


@pytest.fixture
def services(
    sandbox: GitHubSandbox, engine: Engine, redis_client: redis.Redis
) -> Iterator[Services]:
    get_config.cache_clear()
    installed = Services(load_config(env_overrides={"github_api_url": sandbox.url}))
    set_services(installed)
    yield installed
    set_services(None)
    redis_client.flushdb()


@pytest.fixture
def worker(services: Services, committed_db: Engine) -> Iterator[None]:
    """A real Celery worker (threads, in this process) on the real Redis broker."""
    from workers.app import app
    from workers.embedded import running_worker

    assert app.conf.broker_url.startswith("redis://"), "the pipeline must run on the real broker"
    with running_worker(app, concurrency=4):
        yield


def wait_until(condition: Callable[[], bool], *, timeout_s: float = 30.0) -> bool:
    """Poll `condition` until it holds (True) or the time is up (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def record_sandbox_failure(
    session: Session,
    services: Services,
    sandbox: GitHubSandbox,
    *,
    log_text: str = "x",
    job_name: str = "test",
    source: DetectionSource = DetectionSource.POLL,
    **run_options: Any,
) -> int:
    """A failed run in the sandbox (`acme/web` unless `repository=`), read back through the
    gateway and recorded."""
    repository = run_options.pop("repository", WEB)
    run_options.setdefault("workflow_name", "CI")
    run_id = sandbox.add_failed_run(repository, job_name=job_name, log_text=log_text, **run_options)
    failure_id = record_failure(
        session, run=services.gateway.get_run(repository, run_id), source=source
    )
    assert failure_id is not None
    return failure_id


# ------------------------------------------------------------------------------- Slack ----

SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_APPROVER = "U012AB3CD"


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    """The Slack sandbox, with an approver and a user who is not one."""
    with SlackSandbox() as running:
        running.add_user("approver", user_id=SLACK_APPROVER)
        running.add_user("intruder", user_id="U0INTRUDER")
        yield running


def services_on_slack(
    sandbox: GitHubSandbox, slack: SlackSandbox, **file_overrides: object
) -> Services:
    """Services whose GitHub and Slack are the sandboxes: the demo's policy, the Slack
    approver, and `file_overrides` of config.json."""
    base = load_config(
        env_overrides={
            "github_api_url": sandbox.url,
            "slack_signing_secret": SLACK_SIGNING_SECRET,
            "slack_bot_token": BOT_TOKEN,
            "slack_api_url": slack.api_url,
        }
    )
    file = FileConfig.model_validate(
        {**DEMO_CONFIG, "approvers": [SLACK_APPROVER], **file_overrides}
    )
    return Services(AppConfig(settings=base.settings, file=file))


@pytest.fixture
def slack_services(
    sandbox: GitHubSandbox, slack: SlackSandbox, committed_db: Engine, redis_client: redis.Redis
) -> Iterator[Services]:
    """Services on the GitHub and Slack sandboxes, the demo's policy, one Slack approver."""
    services = services_on_slack(sandbox, slack)
    set_services(services)
    yield services
    set_services(None)
    redis_client.flushdb()
