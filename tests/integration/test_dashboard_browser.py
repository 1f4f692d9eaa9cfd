"""The dashboard in a real browser: the web process's app (`workers.web.serving`) on a loopback
port against the real Postgres with a scripted history, loaded by Debian's headless Chromium
through Playwright. Failures, approvals and the SVG charts must render and be visible.

The screenshot lands in `docs/dashboard.png` with UPDATE_SCREENSHOT=1, else in the test's
temporary folder. Without /usr/bin/chromium the test skips (CI=true turns that into a
failure, see tests/conftest.py); Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ci_remediator.config import AppConfig
from ci_remediator.domain import Category
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.slack import SlackSandbox
from ci_remediator.services import Services, set_services
from tests.integration.conftest import services_on_slack
from tests.integration.dashboard_history import HISTORY, write_history

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USER, PASSWORD = "ops", "browser-test-password"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


@pytest.fixture
def web_url(sandbox: GitHubSandbox, slack: SlackSandbox, committed_db: Engine) -> Iterator[str]:
    """The web process's app with DASHBOARD_AUTH, Slack as the notifier, a scripted history."""
    base = services_on_slack(sandbox, slack)
    settings = base.config.settings.model_copy(
        update={"dashboard_auth": SecretStr(f"{USER}:{PASSWORD}")}
    )
    services = Services(AppConfig(settings=settings, file=base.config.file))
    with Session(committed_db) as session, session.begin():
        write_history(session, datetime.now(UTC))
    set_services(services)
    from workers.web import serving

    try:
        with serving() as url:
            yield url
    finally:
        set_services(None)


def test_the_dashboard_renders_failures_approvals_and_charts(web_url: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                http_credentials={"username": USER, "password": PASSWORD},
                viewport={"width": 1400, "height": 900},
            )
            page = context.new_page()
            answer = page.goto(web_url + "/")
            assert answer is not None
            assert answer.status == 200

            failures = page.locator("tr.failure")
            assert failures.count() == len(HISTORY)
            assert failures.first.is_visible()
            for state in ("resolved", "awaiting_approval", "escalated", "remediation_failed"):
                assert page.locator(f'tr.failure[data-state="{state}"]').first.is_visible()
            assert page.get_by_text("npm registry answered 503").is_visible()
            assert page.locator("a.run-link").count() == len(HISTORY)
            assert page.locator("a.slack-link").count() == sum(item.thread for item in HISTORY)

            assert page.locator("tr.approval").count() == 1
            assert page.locator("tr.approval td.age").inner_text() == "42 min"

            charts = page.locator("figure.chart svg")
            assert charts.count() == 3
            for index in range(3):
                chart = charts.nth(index)
                assert chart.is_visible()
                box = chart.bounding_box()
                assert box is not None
                assert box["width"] > 100
                assert box["height"] > 50
            bars = page.locator("figure.chart svg rect.bar")
            assert bars.count() == 11 + len(Category) + 6
            widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(bars.count())]
            assert max(widths) == 200  # the longest bar of each chart spans it
            assert page.locator("#success-rate").inner_text() == "67 %"

            target = (
                SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / "d.png"
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 10_000
        finally:
            browser.close()
