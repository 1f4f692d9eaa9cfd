"""Properties of the configuration: the environment and config.json load to the values they
say or are refused naming the key, a reload keeps the last valid version with one alert per
bad one (for the whole fleet, coordinated through the real Redis, told on the Slack sandbox),
and a repository's overrides win for it and for no other."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from typer.testing import CliRunner

from ci_remediator.cli import EXIT_CONFIG
from ci_remediator.cli import app as cli_app
from ci_remediator.config import (
    AppConfig,
    BreakerConfig,
    ConfigError,
    FileConfig,
    LlmConfig,
    PolicyOverrides,
    RepositoryPolicy,
    Settings,
    SlackChannels,
    get_config,
    load_config,
    load_file_config,
    resolve_policy,
)
from ci_remediator.config_reload import ConfigFileWatch
from ci_remediator.domain import ActionKind, Category
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.services import Services, _reloaded
from tests.integration.conftest import redis_client  # noqa: F401 - the session-scoped fixture
from tests.properties.profiles import examples

# ------------------------------------------------------------ 13: the environment ----

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# Marked so that finding one in the settings' repr means it printed.
secret_values = st.text(
    st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters=":"),
    max_size=30,
).map(lambda text: f"s3cr3t-{text}")
repository_names = st.builds(
    "{}/{}".format,
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=10),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=10),
)


def _any_case(name: str) -> st.SearchStrategy[str]:
    # pydantic-settings reads variable names case-insensitively.
    return st.sampled_from([name, name.lower()])


@dataclass(frozen=True)
class EnvVar:
    """One variable as set, and what the typed settings must hold for it."""

    name: str
    value: str
    field: str
    expected: Any


def _level(level: str, spelled: str) -> EnvVar:
    return EnvVar("LOG_LEVEL", spelled, "log_level", level.upper())


def _repositories(names: list[str], separator: str) -> EnvVar:
    return EnvVar("REPOSITORIES", separator.join(names), "env_repositories", tuple(names))


def _database(scheme: str) -> EnvVar:
    url = f"{scheme}://user:pw@db.internal:5432/ci"
    return EnvVar("DATABASE_URL", url, "sqlalchemy_url", NORMALISED_DATABASE_URL)


def _secret(name: str, value: str) -> EnvVar:
    return EnvVar(name, value, name.lower(), SecretStr(value))


def _cert_reqs(chosen: str, spelled: str) -> EnvVar:
    return EnvVar("REDIS_SSL_CERT_REQS", spelled, "redis_ssl_cert_reqs", chosen)


NORMALISED_DATABASE_URL = "postgresql+psycopg2://user:pw@db.internal:5432/ci"
urls = st.sampled_from(["https://ghe.example.com/api/v3", "http://127.0.0.1:9"])
model_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=20)
cert_reqs = st.sampled_from(["none", "optional", "required"])
env_vars = st.one_of(
    urls.map(lambda url: EnvVar("GITHUB_API_URL", url, "github_api_url", url)),
    model_names.map(lambda name: EnvVar("OPENAI_MODEL", name, "openai_model", name)),
    st.sampled_from(LOG_LEVELS).flatmap(
        lambda level: st.sampled_from([level, level.upper(), level.capitalize()]).map(
            lambda spelled: _level(level, spelled)
        )
    ),
    st.sampled_from(["text", "json"]).map(lambda f: EnvVar("LOG_FORMAT", f, "log_format", f)),
    st.integers(1, 65535).map(lambda port: EnvVar("PORT", str(port), "port", port)),
    st.builds(
        _repositories,
        st.lists(repository_names, max_size=4),
        st.sampled_from([",", ", ", " , "]),
    ),
    st.sampled_from(["postgres", "postgresql", "postgresql+psycopg2"]).map(_database),
    st.builds(
        _secret,
        st.sampled_from(["OPENAI_API_KEY", "SLACK_BOT_TOKEN", "GITHUB_WEBHOOK_SECRET"]),
        secret_values,
    ),
    # `OPENAI_API_KEY=` in a .env or compose file means no key, not a key of "".
    st.builds(
        lambda name, blank: EnvVar(name, blank, name.lower(), None),
        st.sampled_from(["OPENAI_API_KEY", "SLACK_SIGNING_SECRET"]),
        st.sampled_from(["", " ", "\t"]),
    ),
    st.builds(
        lambda user, password: _secret("DASHBOARD_AUTH", f"{user}:{password}"),
        secret_values,
        secret_values,
    ),
    cert_reqs.flatmap(
        lambda chosen: st.sampled_from([chosen, chosen.upper(), f" {chosen} "]).map(
            lambda spelled: _cert_reqs(chosen, spelled)
        )
    ),
    st.integers(1, 10**9).map(lambda n: EnvVar("GITHUB_APP_ID", str(n), "github_app_id", str(n))),
)


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """These variables set (names as spelled) for the duration, the process's own restored."""
    with mock.patch.dict(os.environ, variables):
        yield


def _unique_names(variables: list[EnvVar]) -> bool:
    names = [variable.name.upper() for variable in variables]
    return len(names) == len(set(names))


@settings(max_examples=examples(60))
@given(st.lists(env_vars, min_size=1, max_size=5).filter(_unique_names), st.data())
def test_any_valid_environment_loads_to_the_same_typed_values(
    variables: list[EnvVar], data: st.DataObject
) -> None:
    """Property 13 (Configuration): any set of valid environment variables, names in either
    case, loads to the typed values they say: URLs, numbers, lists, normalised levels and
    database URLs, secrets as SecretStr (empty means unset)."""
    spelled = {data.draw(_any_case(variable.name)): variable.value for variable in variables}
    with environment(spelled):
        loaded = Settings()

    for variable in variables:
        assert getattr(loaded, variable.field) == variable.expected, variable
        if isinstance(variable.expected, SecretStr):
            assert variable.value not in repr(loaded)  # secrets never print


INVALID_ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("PORT", "eighty"),
    ("PORT", "80.5"),
    ("PORT", ""),
    ("LOG_LEVEL", "verbose"),
    ("LOG_LEVEL", ""),
    ("LOG_FORMAT", "xml"),
    ("DATABASE_URL", "mysql://user@db/ci"),
    ("DATABASE_URL", "mongodb://db/ci"),
    ("DASHBOARD_AUTH", "admin"),
    ("DASHBOARD_AUTH", "admin:"),
    ("DASHBOARD_AUTH", ":secret"),
    ("REDIS_SSL_CERT_REQS", "sometimes"),
    ("REDIS_URL", "rediss://cache:6380/0?ssl_cert_reqs=bogus"),
)


@settings(max_examples=examples(60))
@given(
    st.sampled_from(INVALID_ENVIRONMENT),
    st.lists(env_vars, max_size=3).filter(_unique_names),
    st.booleans(),
)
def test_an_invalid_environment_variable_is_refused_naming_it(
    invalid: tuple[str, str], valid: list[EnvVar], lower: bool
) -> None:
    """Property 13 (Configuration): an invalid value in any one variable, among any valid
    others, makes loading fail with a configuration error naming that variable."""
    name, value = invalid
    variables = {v.name: v.value for v in valid if v.name.upper() != name}
    variables[name.lower() if lower else name] = value
    with environment(variables), pytest.raises(ConfigError) as refused:
        load_config()

    assert name.lower() in str(refused.value).lower()
    assert str(refused.value).startswith("environment:")


# --------------------------------------------------------- 14: config.json loading ----

channels = st.sampled_from(["#ci", "#ci-approvals", "#oncall", "C0123ABCD"])
CACHE_TEMPLATES = ("deps-{branch}", "{repo}-{sha}", "cache-{run_id}-{run_attempt}", "static")
WORKFLOWS: tuple[Any, ...] = (
    "heal.yml",
    {"workflow": "heal.yml", "ref": "main"},
    {"workflow": "repair.yaml", "ref": "{branch}", "inputs": {"run": "{run_id}", "who": "{owner}"}},
)
category_actions = st.dictionaries(
    st.sampled_from([member.value for member in Category]),
    st.lists(st.sampled_from([member.value for member in ActionKind]), max_size=3, unique=True),
    max_size=4,
)
override_documents = st.fixed_dictionaries(
    {},
    optional={
        "risk_threshold": st.integers(0, 10),
        "protected": st.booleans(),
        "protected_branches": st.lists(st.sampled_from(["main", "release/*"]), unique=True),
        "sensitive_workflows": st.lists(st.sampled_from(["*deploy*", "nightly"]), unique=True),
        "approvers": st.lists(st.sampled_from(["U1", "U2", "alice"]), unique=True),
        "approval_timeout_hours": st.floats(1, 100),
        "max_auto_attempts_per_run": st.integers(0, 5),
        "max_auto_per_workflow_per_day": st.integers(0, 10),
        "slack_channels": st.fixed_dictionaries(
            {}, optional={"alerts": channels, "approvals": channels, "critical": channels}
        ),
        "remediation_workflows": st.lists(st.sampled_from(WORKFLOWS), max_size=2),
        "cache_key_templates": st.lists(st.sampled_from(CACHE_TEMPLATES), unique=True),
        "category_actions": category_actions,
        "allow_trust_memory": st.booleans(),
        "trust_memory_days": st.integers(1, 90),
    },
)
OVERRIDDEN = ("acme/web", "acme/api")
REPOSITORIES = (*OVERRIDDEN, "acme/docs", "globex/site")


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    document = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "repositories": st.lists(st.sampled_from(REPOSITORIES), unique=True),
                "organizations": st.lists(st.sampled_from(["acme", "globex"]), unique=True),
                "risk_threshold": st.integers(0, 10),
                "protected_repositories": st.lists(st.sampled_from(REPOSITORIES), unique=True),
                "protected_branches": st.lists(st.sampled_from(["main", "release/*"]), unique=True),
                "sensitive_workflows": st.lists(
                    st.sampled_from(["*deploy*", "prod*"]), unique=True
                ),
                "slack_channels": st.fixed_dictionaries(
                    {}, optional={"alerts": channels, "approvals": channels, "critical": channels}
                ),
                "approvers": st.lists(st.sampled_from(["U1", "U2", "alice"]), unique=True),
                "approval_timeout_hours": st.floats(1, 1000),
                "polling_interval_minutes": st.floats(0.5, 60),
                "github_max_requests_per_minute": st.integers(1, 5000),
                "max_auto_attempts_per_run": st.integers(0, 5),
                "max_auto_per_workflow_per_day": st.integers(0, 10),
                "max_auto_per_hour": st.integers(0, 100),
                "breaker": st.fixed_dictionaries(
                    {},
                    optional={
                        "window": st.integers(1, 50),
                        "min_success_rate": st.floats(0, 1),
                    },
                ),
                "llm": st.fixed_dictionaries(
                    {},
                    optional={
                        "enabled": st.booleans(),
                        "skip_when_rule_confidence": st.floats(0, 1),
                        "max_prompt_chars": st.integers(500, 50_000),
                        "cache_days": st.integers(0, 30),
                    },
                ),
                "remediation_workflows": st.lists(st.sampled_from(WORKFLOWS), max_size=2),
                "cache_key_templates": st.lists(st.sampled_from(CACHE_TEMPLATES), unique=True),
                "category_actions": category_actions,
                "trust_memory_days": st.integers(1, 90),
                "allow_trust_memory": st.booleans(),
                "verify_timeout_minutes": st.floats(1, 600),
                "noise_window_minutes": st.floats(0, 1440),
                "repository_configs": st.dictionaries(
                    st.sampled_from(OVERRIDDEN), override_documents, max_size=2
                ),
            },
        )
    )
    if draw(st.booleans()):
        document["retention_days"] = retention = draw(st.integers(1, 400))
        document["audit_retention_days"] = draw(st.integers(retention, 800))
    return document


def _normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The document as config.json means it: a workflow named by its file is that workflow
    with its default ref and inputs."""

    def workflow(entry: Any) -> Any:
        if isinstance(entry, str):
            return {"workflow": entry, "ref": "{branch}", "inputs": None}
        return {"ref": "{branch}", "inputs": None, **entry}

    normalised = json.loads(json.dumps(document))
    for holder in (normalised, *normalised.get("repository_configs", {}).values()):
        if "remediation_workflows" in holder:
            holder["remediation_workflows"] = [workflow(e) for e in holder["remediation_workflows"]]
    return normalised


def _write(directory: Path, text: str) -> Path:
    path = directory / "config.json"
    path.write_text(text, encoding="utf-8")
    return path


def _subset_matches(expected: Any, actual: Any) -> bool:
    """Every key `expected` sets holds the same value in `actual` (dicts compared key by key,
    defaults `actual` adds aside)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _subset_matches(value, actual[key]) for key, value in expected.items()
        )
    return expected == actual


@settings(max_examples=examples(60))
@given(valid_documents(), st.sampled_from([None, 2]))
def test_any_valid_config_file_round_trips(document: dict[str, Any], indent: int | None) -> None:
    """Property 14 (Configuration): any valid config.json loads to exactly the values it
    sets (every other key at its default), and the loaded configuration written back out
    loads to the same configuration again."""
    with tempfile.TemporaryDirectory() as directory:
        loaded = load_file_config(_write(Path(directory), json.dumps(document, indent=indent)))
        dumped = json.loads(loaded.model_dump_json())
        again = load_file_config(_write(Path(directory), json.dumps(dumped)))

    assert _subset_matches(_normalised(document), dumped)
    defaults = json.loads(FileConfig().model_dump_json())
    for key in defaults.keys() - document.keys():
        assert dumped[key] == defaults[key], key
    assert again == loaded


# Where an unknown key can hide, and the dotted path the error must name.
UNKNOWN_KEY_PLACES = ("", "slack_channels", "llm", "breaker", "repository_configs.acme/web")
KNOWN_KEYS = frozenset().union(
    *(
        model.model_fields
        for model in (FileConfig, PolicyOverrides, SlackChannels, LlmConfig, BreakerConfig)
    )
)
unknown_keys = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=15).filter(
    lambda key: key not in KNOWN_KEYS
)


@settings(max_examples=examples(60))
@given(valid_documents(), st.sampled_from(UNKNOWN_KEY_PLACES), unknown_keys)
def test_an_unknown_key_anywhere_is_refused_naming_its_dotted_path(
    document: dict[str, Any], place: str, key: str
) -> None:
    """Property 14 (Configuration): a key config.json does not know, at the top or inside any
    section or repository override, is refused (never silently ignored), the error naming its
    dotted path."""
    holder = document
    for part in place.split(".", 1) if place else ():
        holder = holder.setdefault(part, {})
    holder[key] = 1
    dotted = f"{place}.{key}" if place else key

    with tempfile.TemporaryDirectory() as directory, pytest.raises(ConfigError) as refused:
        load_file_config(_write(Path(directory), json.dumps(document)))

    assert f"'{dotted}'" in str(refused.value)


# ----------------------------------------------------------- 17: validation at start ----

# A value config.json must refuse, and the dotted key the error must name.
INVALID_VALUES: tuple[tuple[str, Any], ...] = (
    ("risk_threshold", 11),
    ("risk_threshold", -1),
    ("risk_threshold", "high"),
    ("risk_threshold", 5.5),
    ("approval_timeout_hours", 0),
    ("approval_timeout_hours", 1e9),
    ("polling_interval_minutes", 0),
    ("github_max_requests_per_minute", 0),
    ("max_auto_attempts_per_run", -1),
    ("max_auto_per_workflow_per_day", -2),
    ("max_auto_per_hour", -1),
    ("breaker.window", 0),
    ("breaker.min_success_rate", 1.5),
    ("llm.max_prompt_chars", 10),
    ("llm.skip_when_rule_confidence", 2),
    ("llm.cache_days", -1),
    ("trust_memory_days", 0),
    ("trust_memory_days", 91),
    ("retention_days", 0),
    ("noise_window_minutes", -1),
    ("max_log_bytes", 10),
    ("repositories.0", "not a repo"),
    ("protected_repositories.0", "acme"),
    ("cache_key_templates.0", "{token}"),
    ("cache_key_templates.0", "{branch!r}"),
    ("cache_key_templates.0", "{branch.__class__}"),
    ("cache_key_templates.0", ""),
    ("remediation_workflows.0", "deploy.sh"),
    ("remediation_workflows.0.ref", "{secret}"),
    ("remediation_workflows.0.inputs.1bad", "{run_id}"),
    # Text the terminal could take for markup must still be shown, and the command exit 2.
    ("remediation_workflows.0.inputs.[/bold]", "{run_id}"),
    ("category_actions.lint.0", "rm -rf /"),
    ("repository_configs.acme/web.risk_threshold", 11),
    ("repository_configs.acme/web.approval_timeout_hours", -1),
    ("slack_channels.alerts", 5),
    ("allow_trust_memory", "sometimes"),
)


def _with_invalid(document: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of `document` with `value` at the dotted key (lists and objects made on the
    way)."""
    document = copy.deepcopy(document)
    parts = dotted.split(".")  # (repository names hold no dot here)
    holder: Any = document
    for index, part in enumerate(parts[:-1]):
        following = parts[index + 1]
        if isinstance(holder, list):
            position = int(part)
            while len(holder) <= position:
                holder.append({"workflow": "heal.yml"})
            if not isinstance(holder[position], dict):
                holder[position] = {"workflow": holder[position]}
            holder = holder[position]
            continue
        default: Any = [] if following.isdigit() else {}
        if not isinstance(holder.get(part), type(default)):
            holder[part] = default
        holder = holder[part]
    last = parts[-1]
    if isinstance(holder, list):
        holder[:] = [value]
    else:
        holder[last] = value
    return document


@settings(max_examples=examples(40))
@given(valid_documents(), st.sampled_from(INVALID_VALUES))
def test_an_invalid_value_at_start_is_refused_naming_the_key_and_the_command_exits_2(
    document: dict[str, Any], invalid: tuple[str, Any]
) -> None:
    """Property 17 (Configuration): one invalid value anywhere in an otherwise valid
    config.json (a bound, a type, a repository name, a template that could carry anything but
    run metadata, an unknown action) is refused at start: loading raises an error naming the
    dotted key, and `ci-remediator config check` exits 2 naming it too."""
    dotted, value = invalid
    broken = _with_invalid(document, dotted, value)
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), json.dumps(broken))
        with environment({"CONFIG_FILE": str(path)}):
            with pytest.raises(ConfigError) as refused:
                load_config()
            get_config.cache_clear()
            try:
                result = CliRunner().invoke(cli_app, ["config", "check"])
            finally:
                get_config.cache_clear()

    # The key itself, or the part of it that is wrong ("remediation_workflows.0.workflow").
    named = re.compile(rf"'{re.escape(dotted)}(?:\.[^']+)?'")
    assert named.search(str(refused.value)), str(refused.value)
    assert result.exit_code == EXIT_CONFIG
    assert named.search(" ".join(result.stderr.split())), result.stderr


markup_like = st.text("[]/=#bold red abc", min_size=1, max_size=20)


@settings(max_examples=examples(25))
@given(valid_documents(), markup_like)
def test_config_check_names_a_bad_key_whatever_text_the_key_holds(
    document: dict[str, Any], text: str
) -> None:
    """Property 17 (Configuration): whatever text an invalid key of config.json holds (here a
    dispatch input name, with brackets a terminal could take for markup), `config check`
    exits 2 and shows the key as it is written."""
    name = f"[{text}"  # never a valid input name
    document["remediation_workflows"] = [{"workflow": "heal.yml", "inputs": {name: "{run_id}"}}]
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), json.dumps(document))
        with environment({"CONFIG_FILE": str(path)}):
            get_config.cache_clear()
            try:
                result = CliRunner().invoke(cli_app, ["config", "check"])
            finally:
                get_config.cache_clear()

    assert result.exit_code == EXIT_CONFIG, result.output
    shown = " ".join(result.stderr.split())
    assert " ".join(f"'remediation_workflows.0.inputs.{name}".split()) in shown


@given(st.integers(1, 400), st.integers(1, 400), st.floats(1, 100), st.floats(0.5, 10_000))
def test_keys_that_must_agree_are_refused_together_naming_both(
    retention: int, audit: int, timeout_hours: float, polling_minutes: float
) -> None:
    """Property 17 (Configuration): an audit trail kept for less time than the failures, or an
    approval timeout shorter than the polling interval, is refused naming both keys; any
    agreeing pair loads."""
    document = {
        "retention_days": retention,
        "audit_retention_days": audit,
        "approval_timeout_hours": timeout_hours,
        "polling_interval_minutes": polling_minutes,
    }
    with tempfile.TemporaryDirectory() as directory:
        path = _write(Path(directory), json.dumps(document))
        if audit >= retention and timeout_hours * 60 >= polling_minutes:
            loaded = load_file_config(path)
            assert (loaded.retention_days, loaded.audit_retention_days) == (retention, audit)
            return
        with pytest.raises(ConfigError) as refused:
            load_file_config(path)
    message = str(refused.value)
    if audit < retention:
        assert "'audit_retention_days'" in message
        assert "'retention_days'" in message
    else:
        assert "approval_timeout_hours" in message
        assert "polling_interval_minutes" in message


# ------------------------------------------------------------ 16: per-repository ----

POLICY_KEYS = tuple(
    name for name in RepositoryPolicy.model_fields if name not in {"repository", "category_actions"}
)


@settings(max_examples=examples(60))
@given(valid_documents())
def test_an_override_wins_for_its_repository_and_never_leaks_to_another(
    document: dict[str, Any],
) -> None:
    """Property 16 (Configuration): for every repository, each key its repository_configs
    entry sets is the one in force (category_actions and slack_channels merged entry by entry;
    protection only ever tightens), every other key is the file's, and a repository without an entry
    gets exactly the file's policy, whatever other repositories override."""
    file = FileConfig.model_validate(document)
    without = FileConfig.model_validate({**document, "repository_configs": {}})
    for repository in REPOSITORIES:
        policy = json.loads(resolve_policy(file, repository).model_dump_json())
        inherited = json.loads(resolve_policy(without, repository).model_dump_json())
        raw = document.get("repository_configs", {}).get(repository, {})
        override = json.loads(PolicyOverrides.model_validate(raw).model_dump_json())
        for key in POLICY_KEYS:
            if key == "protected":
                assert policy[key] == (inherited[key] or raw.get(key) is True)
            elif key == "slack_channels" and key in raw:
                # Channel by channel: the ones it names, the file's for the others.
                assert policy[key] == {**inherited[key], **raw[key]}
            elif key in raw:
                assert policy[key] == override[key], (repository, key)
            else:
                assert policy[key] == inherited[key], (repository, key)
        assert policy["category_actions"] == {
            **inherited["category_actions"],
            **(override["category_actions"] or {}),
        }
        if not raw:
            assert policy == inherited


@settings(max_examples=examples(60))
@given(valid_documents(), st.sampled_from(OVERRIDDEN), st.booleans())
def test_an_override_never_unprotects_a_repository_the_file_protects(
    document: dict[str, Any], repository: str, others_protected: bool
) -> None:
    """Property 16 (Configuration): a repository config.json protects stays protected
    whatever its override says, and its override makes no other repository protected or
    unprotected."""
    document["protected_repositories"] = [repository, *(["acme/docs"] if others_protected else [])]
    document.setdefault("repository_configs", {}).setdefault(repository, {})["protected"] = False
    file = FileConfig.model_validate(document)

    assert resolve_policy(file, repository).protected
    for other in REPOSITORIES:
        if other == repository:
            continue
        raw = document["repository_configs"].get(other, {})
        listed = other in document["protected_repositories"]
        assert resolve_policy(file, other).protected == (listed or raw.get("protected") is True)


# -------------------------------------------------------------------- 15: reload ----


@dataclass(frozen=True)
class Version:
    """One edit of config.json: its new text (None: the file removed) and, known by how it was
    made, the configuration it holds when it is valid."""

    text: str | None
    config: FileConfig | None = None

    @property
    def digest(self) -> str:
        if self.text is None:
            return "removed"
        return hashlib.sha256(self.text.encode()).hexdigest()


def valid_version(document: dict[str, Any]) -> Version:
    return Version(json.dumps(document), FileConfig.model_validate(document))


BROKEN_TEXTS = ("{", "not json", "[1, 2]", '{"risk_threshold": 5,}', "")


@st.composite
def versions(draw: st.DrawFn) -> list[Version]:
    drawn: list[Version] = []
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["valid", "invalid value", "broken", "removed", "again"]))
        if kind == "valid":
            drawn.append(valid_version(draw(valid_documents())))
        elif kind == "invalid value":
            dotted, value = draw(st.sampled_from(INVALID_VALUES))
            drawn.append(Version(json.dumps(_with_invalid(draw(valid_documents()), dotted, value))))
        elif kind == "broken":
            drawn.append(Version(draw(st.sampled_from(BROKEN_TEXTS))))
        elif kind == "removed":
            drawn.append(Version(None))
        elif drawn:  # an earlier version written again
            drawn.append(draw(st.sampled_from(drawn)))
    return drawn


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackSandbox]:
    """The Slack sandbox, with every channel a drawn config.json may name."""
    with SlackSandbox() as running:
        for name in ("#ci", "#ci-approvals", "#oncall"):
            running.add_channel(name)
        running.add_channel("ops", channel_id="C0123ABCD")
        yield running


# Where the alert goes: the critical channel of the configuration in force.
ALERT_CHANNELS = ("#critical-alerts", "#ci", "#ci-approvals", "#oncall", "C0123ABCD")


def alerts_told(slack: SlackSandbox) -> int:
    return sum(
        message.text.startswith("Configuration not reloaded")
        for channel in ALERT_CHANNELS
        for message in slack.messages(channel)
    )


class Clock:
    """The watches' monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _place(path: Path, version: Version, moment: int) -> None:
    if version.text is None:
        path.unlink(missing_ok=True)
        return
    path.write_text(version.text, encoding="utf-8")
    # Each edit at its own modification time, as edits seconds apart have.
    os.utime(path, ns=(moment * 10**9, moment * 10**9))


@settings(max_examples=examples(30))
@given(valid_documents(), versions())
def test_a_reload_keeps_the_last_valid_version_with_one_alert_per_bad_one(
    slack: SlackSandbox,
    redis_client: redis.Redis,  # noqa: F811
    first: dict[str, Any],
    edits: list[Version],
) -> None:
    """Property 15 (Configuration): over any sequence of valid, invalid, broken, removed and
    repeated versions of config.json, every process of the fleet runs on the last valid
    version it saw (never on defaults after a removal), and the fleet raises exactly one
    critical alert per distinct bad version."""
    redis_client.flushdb()  # the fleet's record of bad versions already told
    told_before = alerts_told(slack)
    clock = Clock()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.json"
        start = valid_version(first)
        _place(path, start, moment=1)
        process_settings = Settings(
            config_file=path, slack_bot_token=BOT_TOKEN, slack_api_url=slack.api_url
        )
        fleet = [
            (
                Services(AppConfig(settings=process_settings, file=load_file_config(path))),
                ConfigFileWatch(path, check_every_s=5.0, clock=clock),
            )
            for _ in range(2)
        ]
        active, acted = start.config, start.digest
        bad: set[str] = set()
        for moment, version in enumerate(edits, start=2):
            _place(path, version, moment)
            clock.now += 5.0
            fleet = [(_reloaded(services, watch), watch) for services, watch in fleet]

            # The model: what a watch that looks after every edit must conclude.
            if version.text is None:
                if acted is not None:
                    bad.add(version.digest)
                acted = None
            elif version.digest != acted:
                acted = version.digest
                if version.config is None:
                    bad.add(version.digest)
                else:
                    active = version.config
            for services, _ in fleet:
                assert services.config.file == active
                assert services.config.settings == process_settings
            assert alerts_told(slack) - told_before == len(bad)
