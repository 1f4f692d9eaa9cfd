"""The dashboard at `/` on the real Postgres: who may see it (HTTP Basic with DASHBOARD_AUTH;
without it loopback only, and a web process bound elsewhere refuses to start), what it shows
for a scripted history, and text from GitHub and logs always escaped."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ci_remediator.config import load_config
from ci_remediator.domain import Category, FailureState, Verdict
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.slack import TEAM_DOMAIN, SlackSandbox
from ci_remediator.services import Services
from ci_remediator.web import create_app
from tests.conftest import TEST_DATABASE_URL
from tests.integration.conftest import services_on_slack, wait_until
from tests.integration.dashboard_history import ALERTS_CHANNEL, HISTORY, Scripted, write_history

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AUTH = "ops:correct horse:battery"  # the password may hold a colon
SCRIPT = "<script>alert(1)</script>"


def basic(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def services_with(**overrides: object) -> Services:
    return Services(load_config(env_overrides={"database_url": TEST_DATABASE_URL, **overrides}))


@pytest.fixture
def history(committed_db: Engine) -> datetime:
    now = datetime.now(UTC)
    hostile = Scripted(
        f"acme/{SCRIPT}",
        f"CI {SCRIPT}",
        'main"><img src=x onerror=alert(2)>',
        FailureState.ESCALATED,
        Category.UNKNOWN,
        4,
        summary=f"log says {SCRIPT} &amp; <b>bold</b>",
        verdict=Verdict.BLOCKED,
        hours_ago=0.5,
    )
    with Session(committed_db) as session, session.begin():
        write_history(session, now, extra=[hostile])
    return now


@pytest.fixture
def guarded(committed_db: Engine) -> FlaskClient:
    services = services_with(dashboard_auth=AUTH)
    return create_app(services=lambda: services).test_client()


# ----------------------------------------------------------------------------- access ----


def test_without_credentials_the_dashboard_asks_for_them(guarded: FlaskClient) -> None:
    answer = guarded.get("/")

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith('Basic realm="ci-remediator"')
    assert "<html" not in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    "credentials",
    ["ops:wrong", "ops:correct horse", "ops:correct horse:battery ", "other:correct horse:battery"],
)
def test_wrong_credentials_are_refused(guarded: FlaskClient, credentials: str) -> None:
    assert guarded.get("/", headers=basic(credentials)).status_code == 401


@pytest.mark.parametrize(
    "authorization", ["Bearer b3BzOndyb25n", "Basic not-base64!!", "Basic", f"Digest {AUTH}"]
)
def test_a_malformed_authorization_is_refused(guarded: FlaskClient, authorization: str) -> None:
    assert guarded.get("/", headers={"Authorization": authorization}).status_code == 401


def test_the_right_credentials_see_the_page(guarded: FlaskClient, history: datetime) -> None:
    answer = guarded.get("/", headers=basic(AUTH))

    assert answer.status_code == 200
    assert answer.mimetype == "text/html"
    assert "script-src" not in answer.headers["Content-Security-Policy"]  # none may run
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_health_and_metrics_need_no_credentials(guarded: FlaskClient) -> None:
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/readyz").status_code == 200
    assert guarded.get("/metrics").status_code == 200


def test_without_dashboard_auth_only_a_loopback_client_is_served(committed_db: Engine) -> None:
    services = services_with()
    client = create_app(services=lambda: services).test_client()

    assert client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403


# ------------------------------------------------------------------------- the start ----


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gunicorn(bind: str, *, auth: str | None) -> subprocess.Popen[str]:
    """The Procfile's web command (gunicorn with the project's start check) on `bind`."""
    env = {k: v for k, v in os.environ.items() if k != "DASHBOARD_AUTH"}
    if auth is not None:
        env["DASHBOARD_AUTH"] = auth
    return subprocess.Popen(  # noqa: S603 - fixed argv
        [
            str(BIN / "gunicorn"),
            "--config",
            "python:workers.gunicorn_conf",
            "--bind",
            bind,
            "--workers",
            "1",
            "workers.web:create_web_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


@pytest.mark.parametrize("bind", ["0.0.0.0:{port}", "[::]:{port}", "unix:/tmp/ci-rem-dash.sock"])
def test_the_web_process_bound_beyond_loopback_without_auth_refuses_to_start(
    committed_db: Engine, started: list[subprocess.Popen[str]], bind: str
) -> None:
    process = gunicorn(bind.format(port=free_port()), auth=None)
    started.append(process)

    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 2
    ours = [line for line in stderr.splitlines() if line.startswith("ci-remediator web:")]
    assert len(ours) == 1
    assert "without DASHBOARD_AUTH" in ours[0]
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("host", "auth"), [("127.0.0.1", None), ("0.0.0.0", AUTH)])  # noqa: S104
def test_the_web_process_starts_on_loopback_or_with_auth(
    committed_db: Engine, started: list[subprocess.Popen[str]], host: str, auth: str | None
) -> None:
    port = free_port()
    process = gunicorn(f"{host}:{port}", auth=auth)
    started.append(process)

    def answers() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except requests.Timeout:
            return False  # still starting on a loaded machine: ask again
        except requests.ConnectionError:
            return process.poll() is not None  # stop waiting: it exited

    assert wait_until(answers, timeout_s=60)
    assert process.poll() is None, process.communicate()
    page = requests.get(
        f"http://127.0.0.1:{port}/",
        auth=tuple(AUTH.split(":", 1)) if auth else None,  # type: ignore[arg-type]
        timeout=10,
    )
    assert page.status_code == 200


# --------------------------------------------------------------------------- content ----


def page(client: FlaskClient) -> str:
    answer = client.get("/", headers=basic(AUTH))
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_untrusted_text_is_escaped(guarded: FlaskClient, history: datetime) -> None:
    html = page(guarded)

    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<b>bold</b>" not in html
    assert "&amp;amp;" in html  # stored "&amp;" shown as written, not as "&"
    assert 'main"' not in html  # the quote cannot close an attribute either


def test_the_page_shows_failures_approvals_and_metrics(
    guarded: FlaskClient, history: datetime
) -> None:
    html = page(guarded)

    assert html.count('<tr class="failure"') == len(HISTORY) + 1
    for state in ("resolved", "awaiting_approval", "escalated", "remediation_failed", "detected"):
        assert f'data-state="{state}"' in html
    assert 'href="https://github.com/acme/web/actions/runs/7001"' in html
    assert html.count('<tr class="approval"') == 1
    assert "42 min" in html  # the pending approval's age
    assert 'id="success-rate">67 %<' in html  # 2 of 3 finished remediations fixed the run
    assert html.count('<figure class="chart">') == 3
    assert html.count('<rect class="bar"') == 11 + len(Category) + 6
    # No Slack notifier configured: no thread links.
    assert "slack-link" not in html


def test_failures_link_to_their_slack_thread(
    history: datetime, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    services = services_on_slack(sandbox, slack)  # Slack is the notifier; no DASHBOARD_AUTH
    html = create_app(services=lambda: services).test_client().get("/").get_data(as_text=True)

    assert html.count('class="slack-link"') == sum(item.thread for item in HISTORY)
    assert (
        f'href="https://{TEAM_DOMAIN}.slack.com/archives/{ALERTS_CHANNEL}/p1764600001000100"'
        in html
    )


def test_an_empty_database_shows_an_empty_page(guarded: FlaskClient) -> None:
    html = page(guarded)

    assert "No failure recorded yet." in html
    assert "No approval is waiting." in html
    assert 'id="success-rate">-<' in html
