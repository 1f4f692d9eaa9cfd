from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ci_remediator.cli import app
from ci_remediator.config import get_config
from ci_remediator.sandbox.openai import OpenAISandbox
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


LOGDX_ROOT = Path(__file__).resolve().parents[3] / "shared/fixtures/logdx-ci"
DEV_CASES = sorted(path.parent for path in LOGDX_ROOT.glob("**/dev/*/raw.log"))


@pytest.fixture(params=DEV_CASES or [None], ids=[case.name for case in DEV_CASES] or ["none"])
def dev_case(request: pytest.FixtureRequest) -> Path:
    if request.param is None:
        pytest.skip(f"no LogDx cases under {LOGDX_ROOT} (../shared is not beside the checkout)")
    return Path(request.param)


def test_rules_analyze_every_logdx_dev_case(dev_case: Path) -> None:
    result = CliRunner().invoke(
        app, ["analyze-log", str(dev_case / "raw.log"), "--analyzer", "rules", "--format", "json"]
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document) >= REQUIRED_KEYS
    assert document["analyzer"] == "rules"
    assert 0 < len(document["excerpt"]) <= 12_000


def test_the_model_analyzes_every_logdx_dev_case_through_the_sandbox(
    dev_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OpenAISandbox() as model:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-sandbox")
        monkeypatch.setenv("OPENAI_BASE_URL", model.url)
        get_config.cache_clear()
        result = CliRunner().invoke(
            app, ["analyze-log", str(dev_case / "raw.log"), "--analyzer", "llm", "--format", "json"]
        )
        asked = model.completion_requests

    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["analyzer"] == "llm"
    assert document["prompt_tokens"] > 0
    assert len(asked) == 1
    # The model saw the excerpt, not the raw log.
    assert len(json.dumps(asked[0].body)) < 12_000 + 8_000


def test_a_baseline_log_drops_lines_it_shares(tmp_path: Path) -> None:
    failing = tmp_path / "failing.log"
    passing = tmp_path / "passing.log"
    shared = "error: deprecated flag --legacy-peer-deps (harmless, printed on every run)"
    failing.write_text(
        f"{shared}\nFAILED tests/test_api.py::test_create - AssertionError\n"
        "##[error]Process completed with exit code 1.\n",
        encoding="utf-8",
    )
    passing.write_text(f"{shared}\n1 passed in 0.1s\n", encoding="utf-8")

    def excerpt(*extra: str) -> str:
        result = CliRunner().invoke(app, ["analyze-log", str(failing), "--format", "json", *extra])
        assert result.exit_code == 0, result.output
        return str(json.loads(result.output)["excerpt"])

    assert "deprecated flag" in excerpt()
    with_baseline = excerpt("--baseline", str(passing))
    assert "deprecated flag" not in with_baseline
    assert "test_create" in with_baseline
