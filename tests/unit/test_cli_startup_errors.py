"""What a new user meets at start when something is missing: one line naming it, an exit code
that is not 0, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ci_remediator.cli import EXIT_CONFIG, EXIT_DATABASE, app
from ci_remediator.config import ConfigError, get_config, load_config

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_config.cache_clear()
    yield
    get_config.cache_clear()


def test_a_database_nobody_listens_on_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/nowhere")

    result = runner.invoke(app, ["db", "upgrade"])

    assert result.exit_code == EXIT_DATABASE
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("database error: postgresql+psycopg2://postgres@127.0.0.1:9/nowhere")


def test_running_without_a_github_credential_stops_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)

    result = runner.invoke(app, ["run"])

    assert result.exit_code == EXIT_CONFIG
    assert "no GitHub credential: set GITHUB_TOKEN" in result.output


@pytest.mark.parametrize("url", ["mysql://root@localhost/test", "oracle://scott@db/orcl"])
def test_an_unsupported_database_is_refused_naming_it(url: str) -> None:
    with pytest.raises(ConfigError, match=r"'database_url': unsupported database"):
        load_config(env_overrides={"database_url": url})


def test_postgres_urls_in_every_spelling_are_accepted() -> None:
    for url in ("postgres://u@h/db", "postgresql://u@h/db", "sqlite:///x.db"):
        assert load_config(env_overrides={"database_url": url}).settings.database_url == url


def test_a_config_file_named_but_missing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(env_overrides={"config_file": tmp_path / "missing.json"})


def test_no_config_file_named_means_the_defaults() -> None:
    assert load_config().file.risk_threshold == 5
