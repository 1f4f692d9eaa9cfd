from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ci_remediator.cli import app
from ci_remediator.config import get_config
from ci_remediator.sandbox.scenarios import demo_log

REQUIRED_KEYS = {
    "category",
    "flaky",
    "risk_score",
    "confidence",
    "proposed_action",
    "summary",
    "excerpt",
}


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "job.log"
    path.write_text(demo_log("compile_error.log"), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    get_config.cache_clear()
    yield
    get_config.cache_clear()


def test_json_output_has_the_promised_keys(log_file: Path) -> None:
    result = CliRunner().invoke(app, ["analyze-log", str(log_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document) >= REQUIRED_KEYS
    assert (document["category"], document["proposed_action"]) == ("compile_error", "none")
    assert document["analyzer"] == "rules"
    assert len(document["excerpt"]) <= 12_000


def test_budget_bounds_the_excerpt(log_file: Path) -> None:
    result = CliRunner().invoke(
        app, ["analyze-log", str(log_file), "--format", "json", "--budget", "600"]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["excerpt"]) <= 600


def test_llm_without_a_key_is_a_clear_error(log_file: Path) -> None:
    result = CliRunner().invoke(app, ["analyze-log", str(log_file), "--analyzer", "llm"])
    assert result.exit_code == 2
    assert "OPENAI_API_KEY" in result.output


def test_missing_file_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["analyze-log", str(tmp_path / "absent.log")])
    assert result.exit_code == 2
    assert "absent.log" in result.output
