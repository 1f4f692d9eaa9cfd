"""Test-session environment, set before anything reads the configuration.

Integration tests use the real Postgres and Redis of this machine (defaults below, or
TEST_DATABASE_URL / TEST_REDIS_URL). Redis database 15 keeps test messages apart from anything
else on the server.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ci_remediator.sandbox.scenarios import DEMO_CONFIG

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg2://postgres@localhost:5432/test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/15")

_workdir = Path(tempfile.mkdtemp(prefix="ci-remediator-tests-"))
_config_file = _workdir / "config.json"
# The demo's policy, with short verification polls so the real worker finishes quickly.
_config_file.write_text(
    json.dumps({**DEMO_CONFIG, "verify_poll_seconds": 0.2, "stuck_after_minutes": 1}),
    encoding="utf-8",
)

os.environ.update(
    {
        "DATABASE_URL": TEST_DATABASE_URL,
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "CONFIG_FILE": str(_config_file),
        "DATA_DIR": str(_workdir),
        "GITHUB_TOKEN": "ghp_test_token_for_the_sandbox_only",
    }
)
os.environ.pop("REDIS_URL", None)


# --------------------------------------------------------------------------- markers ----

import pytest  # noqa: E402

import tests.properties.profiles  # noqa: E402, F401 - registers and loads the hypothesis profile

# Fixtures that reach the real Postgres or Redis: a test that uses one is an integration test
# whatever folder it sits in (markers select what they say).
SERVICE_FIXTURES = frozenset(
    {"engine", "redis_client", "db_session", "committed_db", "services", "worker"}
)
_INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needs_services = SERVICE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if needs_services or _INTEGRATION_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _known_secrets_of_this_test_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Services register their configured secrets process-wide, as a worker must; in the suite
    a secret one test drew (any 8 characters) would be redacted out of another test's log."""
    from ci_remediator.analysis import redaction

    monkeypatch.setattr(redaction, "_known", redaction._known)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI=true a skipped test fails: a missing fixture folder or service must not pass
    for a green run."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (a fixture or service is missing): {reason}"
