from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ci_remediator.cli import app as cli_app
from ci_remediator.config import (
    NOT_SUPPORTED_YET,
    ConfigError,
    FileConfig,
    get_config,
    load_config,
    load_file_config,
    masked_view,
    normalize_database_url,
    resolve_policy,
)


def write_config(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_missing_file_gives_product_defaults(tmp_path: Path) -> None:
    config = load_file_config(tmp_path / "absent.json")
    assert config.risk_threshold == 5
    assert config.approval_timeout_hours == 24
    assert config.polling_interval_minutes == 5
    assert config.slack_channels.approvals == "#ci-cd-approvals"


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"risk_threshold": "high"})
    with pytest.raises(ConfigError, match="'risk_threshold'"):
        load_file_config(path)


def test_unknown_key_is_refused_by_name(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"risk_treshold": 3})
    with pytest.raises(ConfigError, match="'risk_treshold'"):
        load_file_config(path)


def test_nested_error_names_the_dotted_path(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"repository_configs": {"acme/web": {"risk_threshold": 11}}})
    with pytest.raises(ConfigError, match=r"repository_configs\.acme/web\.risk_threshold"):
        load_file_config(path)


def test_bad_repository_name_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"repositories": ["not a repo"]})
    with pytest.raises(ConfigError, match=r"repositories\.0"):
        load_file_config(path)


def test_invalid_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_file_config(path)


def test_repository_override_wins_over_default() -> None:
    file = FileConfig.model_validate(
        {
            "risk_threshold": 5,
            "repository_configs": {"critical/repo": {"risk_threshold": 3, "protected": True}},
        }
    )
    critical = resolve_policy(file, "critical/repo")
    other = resolve_policy(file, "other/repo")
    assert (critical.risk_threshold, critical.protected) == (3, True)
    assert (other.risk_threshold, other.protected) == (5, False)


def test_override_cannot_unprotect_a_protected_repository() -> None:
    file = FileConfig.model_validate(
        {
            "protected_repositories": ["critical/repo"],
            "repository_configs": {"critical/repo": {"protected": False}},
        }
    )
    assert resolve_policy(file, "critical/repo").protected is True


def test_sensitive_workflow_patterns_are_case_insensitive() -> None:
    policy = resolve_policy(FileConfig(), "acme/web")
    assert policy.is_sensitive_workflow("Deploy to production")
    assert policy.is_sensitive_workflow("Terraform Apply")
    assert not policy.is_sensitive_workflow("CI")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg2://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_are_normalized(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_environment_and_file_merge_repositories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, {"repositories": ["acme/web"]})
    monkeypatch.setenv("CONFIG_FILE", str(path))
    monkeypatch.setenv("REPOSITORIES", "acme/api, acme/web")
    config = load_config()
    assert config.repositories == ("acme/web", "acme/api")


def test_masked_view_never_shows_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIG_FILE", str(write_config(tmp_path, {})))
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "a" * 36)
    monkeypatch.setenv("DATABASE_URL", "postgres://app:hunter2@db:5432/app")
    monkeypatch.setenv("REDIS_URL", "rediss://:redis-pw-77@cache:6380/0")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://worker:broker-pw-42@queue:6379/1")
    rendered = json.dumps(masked_view(load_config()))
    assert "ghp_" not in rendered
    for password in ("hunter2", "redis-pw-77", "broker-pw-42"):
        assert password not in rendered
    assert "********" in rendered
    assert "rediss://:****@cache:6380/0" in rendered


def test_config_check_names_bad_key_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, {"risk_threshold": "high"})
    monkeypatch.setenv("CONFIG_FILE", str(path))
    get_config.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["config", "check"])
    finally:
        get_config.cache_clear()
    assert result.exit_code == 2
    assert "risk_threshold" in result.output


def test_config_check_prints_resolved_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        tmp_path,
        {"repositories": ["acme/web"], "repository_configs": {"acme/web": {"risk_threshold": 2}}},
    )
    monkeypatch.setenv("CONFIG_FILE", str(path))
    get_config.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["config", "check"])
    finally:
        get_config.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["repositories"]["acme/web"]["risk_threshold"] == 2


@pytest.mark.parametrize(
    "data",
    [{"approvers": ["U1"]}, {"repository_configs": {"acme/web": {"approvers": ["U1"]}}}],
    ids=["top level", "repository override"],
)
def test_a_key_nothing_acts_on_yet_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: dict[str, object]
) -> None:
    # No key waits today (retention was the last); the refusal stays for the next one.
    monkeypatch.setitem(NOT_SUPPORTED_YET, "approvers", "only in this test")
    with pytest.raises(
        ConfigError, match=r"'approvers' is not supported yet \(only in this test\); remove it"
    ):
        load_file_config(write_config(tmp_path, data))
    assert load_file_config(write_config(tmp_path, {"risk_threshold": 3})).risk_threshold == 3


def test_retention_keys_are_accepted(tmp_path: Path) -> None:
    assert not NOT_SUPPORTED_YET
    file = load_file_config(
        write_config(tmp_path, {"retention_days": 30, "audit_retention_days": 30})
    )
    assert (file.retention_days, file.audit_retention_days) == (30, 30)
    defaults = load_file_config(tmp_path / "absent.json")
    assert (defaults.retention_days, defaults.audit_retention_days) == (90, 365)


@pytest.mark.parametrize(
    ("data", "audit", "retention"),
    [
        ({"retention_days": 90, "audit_retention_days": 30}, 30, 90),
        # Against the default audit retention too.
        ({"retention_days": 400}, 365, 400),
    ],
)
def test_audit_kept_shorter_than_failures_is_refused_by_name(
    tmp_path: Path, data: dict[str, int], audit: int, retention: int
) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"'audit_retention_days' \({audit}\) must be at least 'retention_days' "
        rf"\({retention}\)",
    ):
        load_file_config(write_config(tmp_path, data))


@pytest.mark.parametrize("key", ["retention_days", "audit_retention_days"])
@pytest.mark.parametrize("days", [0, -1, 36_501, 1e20, "ninety"])
def test_retention_days_out_of_range_are_refused_by_name(
    tmp_path: Path, key: str, days: object
) -> None:
    with pytest.raises(ConfigError, match=rf"invalid value for '{key}'"):
        load_file_config(write_config(tmp_path, {key: days}))


@pytest.mark.parametrize("days", [0, -1, 91, 1e20])
def test_trust_memory_days_outside_one_to_ninety_is_refused_by_name(
    tmp_path: Path, days: float
) -> None:
    path = write_config(tmp_path, {"trust_memory_days": days})
    with pytest.raises(ConfigError, match=r"'trust_memory_days'"):
        load_file_config(path)


def test_trust_memory_is_off_by_default_and_a_repository_may_turn_it_on(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "trust_memory_days": 3,
            "repository_configs": {
                "acme/web": {"allow_trust_memory": True, "trust_memory_days": 14}
            },
        },
    )
    file = load_file_config(path)
    assert not resolve_policy(file, "acme/api").allow_trust_memory
    assert resolve_policy(file, "acme/api").trust_memory_days == 3
    web = resolve_policy(file, "acme/web")
    assert (web.allow_trust_memory, web.trust_memory_days) == (True, 14)


def test_a_repository_override_of_cache_keys_applies_to_that_repository_only(
    tmp_path: Path,
) -> None:
    overrides = {"repository_configs": {"acme/web": {"cache_key_templates": ["k-{branch}"]}}}
    file = load_file_config(write_config(tmp_path, overrides))

    assert resolve_policy(file, "acme/web").cache_key_templates == ("k-{branch}",)
    assert resolve_policy(file, "acme/api").cache_key_templates == ()


@pytest.mark.parametrize("hours", [1e20, 24 * 367, 0, -1])
def test_an_approval_timeout_that_is_no_real_deadline_is_refused(
    tmp_path: Path, hours: float
) -> None:
    path = write_config(tmp_path, {"approval_timeout_hours": hours})
    with pytest.raises(ConfigError, match="'approval_timeout_hours'"):
        load_file_config(path)


def test_approvers_and_their_timeout_resolve_per_repository(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "approvers": ["U1"],
            "approval_timeout_hours": 4,
            "repository_configs": {"acme/web": {"approvers": ["U2"], "approval_timeout_hours": 1}},
        },
    )
    file = load_file_config(path)
    web, other = resolve_policy(file, "acme/web"), resolve_policy(file, "acme/api")
    assert (web.approvers, web.approval_timeout_hours) == (("U2",), 1)
    assert (other.approvers, other.approval_timeout_hours) == (("U1",), 4)


def test_the_shipped_example_config_loads() -> None:
    example = Path(__file__).parents[2] / "config.example.json"
    assert load_file_config(example).repositories == ("acme/web", "critical/repo")


def test_an_empty_secret_variable_means_unset() -> None:
    config = load_config(env_overrides={"openai_api_key": "", "slack_bot_token": "  "})
    assert config.settings.openai_api_key is None
    assert config.settings.slack_bot_token is None


def test_config_check_names_the_knowledge_base_rule_re2_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {id: ours-hang, patterns: ['(?=x)y'], category: lint, base_risk: 2,\n"
        "     confidence: 0.9, flaky: false, action: none}\n",
        encoding="utf-8",
    )
    path = write_config(tmp_path, {"knowledge_base_file": str(rules)})
    monkeypatch.setenv("CONFIG_FILE", str(path))
    get_config.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["config", "check"])
    finally:
        get_config.cache_clear()
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert str(rules) in message
    assert "'ours-hang'" in message
    assert "RE2" in message
