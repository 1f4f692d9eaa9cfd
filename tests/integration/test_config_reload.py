"""The process's services follow `config.json`: a valid edit is taken up by the next task,
an invalid one keeps the previous configuration and raises one critical alert in Slack for
the whole fleet (the real Redis coordinates it), not one per process or per task."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ci_remediator import config_reload
from ci_remediator.config import get_config
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.services import get_services, set_services
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL


def _write(path: Path, document: object, *, step: int) -> None:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    stamp = path.stat().st_mtime_ns + step * 1_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def config_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    slack: SlackSandbox,
    redis_client: redis.Redis,
) -> Iterator[Path]:
    path = tmp_path / "config.json"
    _write(path, {"risk_threshold": 5, "slack_channels": {"critical": "#critical-alerts"}}, step=0)
    monkeypatch.setenv("CONFIG_FILE", str(path))
    monkeypatch.setenv("DATABASE_URL", TEST_DATABASE_URL)
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    monkeypatch.setattr(config_reload, "CHECK_EVERY_S", 0.0)
    get_config.cache_clear()
    set_services(None)
    yield path
    set_services(None)
    get_config.cache_clear()
    redis_client.flushdb()


def test_valid_edits_are_taken_up_and_invalid_ones_refused_once(
    config_file: Path, slack: SlackSandbox
) -> None:
    first = get_services()
    assert first.config.file.risk_threshold == 5

    _write(
        config_file,
        {"risk_threshold": 2, "slack_channels": {"critical": "#critical-alerts"}},
        step=1,
    )
    reloaded = get_services()
    assert reloaded is not first
    assert reloaded.config.file.risk_threshold == 2
    assert get_services() is reloaded  # unchanged since: the same services

    _write(config_file, {"risk_threshold": "high"}, step=2)
    for _ in range(3):  # every task of this process asks again
        assert get_services() is reloaded
    alerts = slack.messages("critical-alerts")
    assert len(alerts) == 1
    assert "Configuration not reloaded" in alerts[0].text

    # Another process of the fleet (a fresh watch) sees the same bad version: no second alert.
    set_services(None)
    get_config.cache_clear()
    _write(
        config_file,
        {"risk_threshold": 2, "slack_channels": {"critical": "#critical-alerts"}},
        step=3,
    )
    other = get_services()
    _write(config_file, {"risk_threshold": "high"}, step=4)
    assert get_services() is other
    assert len(slack.messages("critical-alerts")) == 1
