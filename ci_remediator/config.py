"""Configuration: environment (secrets, endpoints) plus `config.json` (policy), validated once.

Environment variables are read with pydantic-settings (a `.env` file is read when present);
`config.json` is a strict pydantic model so a typo or a wrong type is reported with the key's
dotted path instead of being silently ignored. Per-repository overrides are resolved here, so
the rest of the code only ever sees a fully resolved `RepositoryPolicy`.
"""

from __future__ import annotations

import fnmatch
import json
import re
import string
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from ci_remediator.domain import ActionKind, Category
from ci_remediator.redis_tls import CertReqs, RedisTls, RedisTlsError

DEFAULT_SQLITE_URL = "sqlite:///ci_remediator.db"
DEFAULT_SENSITIVE_WORKFLOWS = ("*deploy*", "*release*", "*publish*", "*terraform apply*")
REPO_NAME_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"

# Dispatch targets and cache keys reach GitHub, so the configuration holds only workflow file
# names and templates of run metadata. `{field}` placeholders from a fixed list; anything else
# (attribute access, indexing, format specs, unknown names) is refused at load, naming the key.
TEMPLATE_FIELDS = (
    "repository",
    "owner",
    "repo",
    "branch",
    "sha",
    "run_id",
    "run_attempt",
    "workflow",
)
_WORKFLOW_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.ya?ml$")
# GitHub's rule for workflow_dispatch input names.
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
MAX_DISPATCH_INPUTS = 25
A = ActionKind
# Which actions each category may get (the first is what it gets when the analyzer proposed one
# the list does not allow). Safe defaults: only transient kinds are re-run; a real defect gets
# at most a tracking issue, and only when an analyzer proposed one.
DEFAULT_CATEGORY_ACTIONS: dict[Category, tuple[ActionKind, ...]] = {
    Category.INFRASTRUCTURE: (
        A.RERUN_FAILED_JOBS,
        A.RERUN_WORKFLOW,
        A.RERUN_WITH_DEBUG_LOGGING,
        A.CLEAR_CACHE_AND_RERUN,
        A.DISPATCH_REMEDIATION_WORKFLOW,
    ),
    Category.FLAKY_TEST: (A.RERUN_FAILED_JOBS, A.RERUN_WITH_DEBUG_LOGGING, A.OPEN_TRACKING_ISSUE),
    Category.TIMEOUT: (A.RERUN_FAILED_JOBS, A.RERUN_WITH_DEBUG_LOGGING, A.OPEN_TRACKING_ISSUE),
    Category.RESOURCE_EXHAUSTION: (
        A.RERUN_FAILED_JOBS,
        A.DISPATCH_REMEDIATION_WORKFLOW,
        A.OPEN_TRACKING_ISSUE,
    ),
    Category.DEPENDENCY: (A.RERUN_FAILED_JOBS, A.CLEAR_CACHE_AND_RERUN, A.OPEN_TRACKING_ISSUE),
    **dict.fromkeys(
        (
            Category.TEST_FAILURE,
            Category.COMPILE_ERROR,
            Category.TYPE_CHECK,
            Category.LINT,
            Category.CONFIGURATION,
            Category.PERMISSIONS,
            Category.UNKNOWN,
        ),
        (A.OPEN_TRACKING_ISSUE,),
    ),
}
_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """A template that could put something other than run metadata into a request."""


def validate_template(template: str) -> str:
    """The template unchanged, or TemplateError naming what is wrong with it."""
    if not template.strip():
        raise TemplateError("a template must not be empty")
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as error:
        raise TemplateError(f"{template!r}: {error}") from error
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            raise TemplateError(
                f"{template!r}: unknown placeholder {{{field}}}; allowed: "
                + ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)
            )
        if spec or conversion:
            raise TemplateError(f"{template!r}: {{{field}}} takes no format spec or conversion")
    return template


def validate_workflow_file(name: str) -> str:
    """A dispatch target is a workflow file name in `.github/workflows/`, nothing else."""
    if not _WORKFLOW_FILE.fullmatch(name):
        raise TemplateError(f"{name!r} is not a workflow file name like 'remediate.yml'")
    return name


def validate_input_name(name: str) -> str:
    if not _INPUT_NAME.fullmatch(name):
        raise TemplateError(f"{name!r} is not a workflow_dispatch input name")
    return name


RepoName = Annotated[str, Field(pattern=REPO_NAME_PATTERN)]
# A year: a deadline further out is a typo (and 1e20 hours cannot be added to a date at all).
MAX_APPROVAL_TIMEOUT_HOURS = 24 * 366
# A remembered decision outliving a quarter is a policy, and belongs in config.json instead.
MAX_TRUST_MEMORY_DAYS = 90
# A century: beyond it a date cannot be subtracted from today (and it is a typo anyway).
MAX_RETENTION_DAYS = 36_500
# Dispatch targets and cache keys reach GitHub: only file names and run-metadata templates.
WorkflowFile = Annotated[str, AfterValidator(validate_workflow_file)]
CacheKeyTemplate = Annotated[str, AfterValidator(validate_template)]
InputName = Annotated[str, AfterValidator(validate_input_name)]
CategoryActions = dict[Category, tuple[ActionKind, ...]]


class ConfigError(Exception):
    """The configuration cannot be used. The message names the offending key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


# Keys of the product's configuration that nothing acts on yet. Setting one is refused, naming
# it, rather than accepted and silently ignored (a promise the service would not keep). Empty
# today; a key the product describes before the code honours it goes here.
NOT_SUPPORTED_YET: dict[str, str] = {}


def _refuse_unsupported(model: BaseModel) -> None:
    for key in sorted(model.model_fields_set & NOT_SUPPORTED_YET.keys()):
        raise ValueError(f"'{key}' is not supported yet ({NOT_SUPPORTED_YET[key]}); remove it")


class RemediationWorkflow(_Strict):
    """A workflow the catalog may dispatch: its file, the ref and the inputs, all templates of
    run metadata. A plain file name means ref `{branch}` and the default inputs (repository,
    branch, sha, run_id)."""

    workflow: WorkflowFile
    ref: CacheKeyTemplate = "{branch}"
    inputs: dict[InputName, CacheKeyTemplate] | None = Field(
        default=None, max_length=MAX_DISPATCH_INPUTS
    )

    @model_validator(mode="before")
    @classmethod
    def _from_file_name(cls, value: Any) -> Any:
        return {"workflow": value} if isinstance(value, str) else value


class SlackChannels(_Strict):
    alerts: str = "#ci-cd-alerts"
    approvals: str = "#ci-cd-approvals"
    critical: str = "#critical-alerts"


class BreakerConfig(_Strict):
    window: int = Field(default=20, ge=1)
    min_success_rate: float = Field(default=0.5, ge=0.0, le=1.0)


class LlmConfig(_Strict):
    enabled: bool = True
    skip_when_rule_confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    max_prompt_chars: int = Field(default=12_000, ge=500)
    cache_days: int = Field(default=7, ge=0)


class PolicyOverrides(_Strict):
    """The keys a repository may override. Every field optional: None means 'inherit'."""

    risk_threshold: int | None = Field(default=None, ge=0, le=10)
    protected: bool | None = None
    protected_branches: tuple[str, ...] | None = None
    sensitive_workflows: tuple[str, ...] | None = None
    approvers: tuple[str, ...] | None = None
    approval_timeout_hours: float | None = Field(default=None, gt=0, le=MAX_APPROVAL_TIMEOUT_HOURS)
    max_auto_attempts_per_run: int | None = Field(default=None, ge=0)
    max_auto_per_workflow_per_day: int | None = Field(default=None, ge=0)
    slack_channels: SlackChannels | None = None
    remediation_workflows: tuple[RemediationWorkflow, ...] | None = None
    cache_key_templates: tuple[CacheKeyTemplate, ...] | None = None
    # Merged over the inherited map, category by category.
    category_actions: CategoryActions | None = None
    allow_trust_memory: bool | None = None
    trust_memory_days: int | None = Field(default=None, ge=1, le=MAX_TRUST_MEMORY_DAYS)

    @model_validator(mode="after")
    def _nothing_unsupported(self) -> PolicyOverrides:
        _refuse_unsupported(self)
        return self


class FileConfig(_Strict):
    """`config.json`. Every key optional; defaults follow the product README."""

    repositories: tuple[RepoName, ...] = ()
    organizations: tuple[str, ...] = ()
    risk_threshold: int = Field(default=5, ge=0, le=10)
    protected_repositories: tuple[RepoName, ...] = ()
    protected_branches: tuple[str, ...] = ()
    sensitive_workflows: tuple[str, ...] = DEFAULT_SENSITIVE_WORKFLOWS
    slack_channels: SlackChannels = SlackChannels()
    approvers: tuple[str, ...] = ()
    approval_timeout_hours: float = Field(default=24, gt=0, le=MAX_APPROVAL_TIMEOUT_HOURS)
    polling_interval_minutes: float = Field(default=5, gt=0)
    github_max_requests_per_minute: int = Field(default=600, ge=1)
    max_auto_attempts_per_run: int = Field(default=1, ge=0)
    max_auto_per_workflow_per_day: int = Field(default=5, ge=0)
    max_auto_per_hour: int = Field(default=30, ge=0)
    breaker: BreakerConfig = BreakerConfig()
    llm: LlmConfig = LlmConfig()
    knowledge_base_file: Path | None = None
    remediation_workflows: tuple[RemediationWorkflow, ...] = ()
    cache_key_templates: tuple[CacheKeyTemplate, ...] = ()
    # Merged over DEFAULT_CATEGORY_ACTIONS, category by category ([] means: never an action).
    category_actions: CategoryActions = Field(default_factory=dict)
    trust_memory_days: int = Field(default=7, ge=1, le=MAX_TRUST_MEMORY_DAYS)
    allow_trust_memory: bool = False
    # The daily purge (pipeline.retention): finished failures and their rows after this many
    # days since their last change; audit entries after `audit_retention_days`.
    retention_days: int = Field(default=90, ge=1, le=MAX_RETENTION_DAYS)
    audit_retention_days: int = Field(default=365, ge=1, le=MAX_RETENTION_DAYS)
    verify_poll_seconds: float = Field(default=30, gt=0)
    verify_timeout_minutes: float = Field(default=120, gt=0)
    stuck_after_minutes: float = Field(default=15, gt=0)
    initial_lookback_hours: float = Field(default=24, gt=0)
    # The unconditional re-read of the lookback window that catches what the cheap
    # conditional poll cannot see (new attempts of older runs, runs that completed late).
    deep_scan_interval_minutes: float = Field(default=60, gt=0)
    # Of each failed job's log, only the tail is downloaded: failures show at the end.
    max_log_bytes: int = Field(default=50_000_000, ge=10_000)
    # Noise control: failures with the same fingerprint in one repository within this many
    # minutes of the first become one Slack message, updated with a count and the runs
    # (0 turns it off). While it is on, "Failure detected" waits for the analysis (at most
    # DETECTED_HOLD_S) so that a repeat is recognised before it starts a thread of its own.
    noise_window_minutes: float = Field(default=15, ge=0, le=24 * 60)
    # How often organizations are re-listed for new repositories.
    organization_refresh_minutes: float = Field(default=60, gt=0)
    repository_configs: dict[RepoName, PolicyOverrides] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _nothing_unsupported(self) -> FileConfig:
        _refuse_unsupported(self)
        return self

    @model_validator(mode="after")
    def _audit_outlives_failures(self) -> FileConfig:
        # The audit trail is how a purged failure is still accounted for: it must not go first.
        if self.audit_retention_days < self.retention_days:
            raise ValueError(
                f"'audit_retention_days' ({self.audit_retention_days}) must be at least "
                f"'retention_days' ({self.retention_days}): the audit of a purged failure "
                "is kept longer than the failure"
            )
        return self

    @model_validator(mode="after")
    def _approval_timeout_exceeds_polling(self) -> FileConfig:
        if self.approval_timeout_hours * 60 < self.polling_interval_minutes:
            raise ValueError("approval_timeout_hours must be longer than polling_interval_minutes")
        return self


class RepositoryPolicy(_Strict):
    """The effective policy for one repository: file defaults with its overrides applied."""

    repository: str
    risk_threshold: int
    protected: bool
    protected_branches: tuple[str, ...]
    sensitive_workflows: tuple[str, ...]
    approvers: tuple[str, ...]
    approval_timeout_hours: float
    max_auto_attempts_per_run: int
    max_auto_per_workflow_per_day: int
    slack_channels: SlackChannels
    remediation_workflows: tuple[RemediationWorkflow, ...]
    cache_key_templates: tuple[str, ...]
    category_actions: CategoryActions
    allow_trust_memory: bool
    trust_memory_days: int

    def is_sensitive_workflow(self, name: str) -> bool:
        lowered = name.lower()
        return any(
            fnmatch.fnmatch(lowered, pattern.lower()) for pattern in self.sensitive_workflows
        )

    def is_protected_branch(self, branch: str | None) -> bool:
        return branch is not None and any(
            fnmatch.fnmatch(branch, pattern) for pattern in self.protected_branches
        )


class Settings(BaseSettings):
    """Environment variables (DESIGN.md section 10). Secrets never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    github_token: SecretStr | None = None
    github_app_id: str | None = None
    github_app_private_key: SecretStr | None = None
    github_app_installation_id: str | None = None
    github_api_url: str = "https://api.github.com"
    github_webhook_secret: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o"
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    # Slack's Web API; the demo and the tests point it at the Slack sandbox.
    slack_api_url: str = "https://slack.com/api/"
    config_file: Path = Path("config.json")
    database_url: str | None = None
    redis_url: str | None = None
    celery_broker_url: str | None = None
    # TLS for `rediss://` URLs only (ci_remediator/redis_tls.py): no verification by default,
    # as Heroku Redis's self-signed certificate requires; a URL's own `ssl_cert_reqs` wins.
    redis_ssl_cert_reqs: CertReqs = "none"
    redis_ssl_ca_certs: Path | None = None
    data_dir: Path = Path("var")
    log_level: str = "INFO"
    log_format: str = "text"
    repositories: str = ""
    dashboard_auth: SecretStr | None = None
    flower_basic_auth: SecretStr | None = None
    port: int = 8000

    @field_validator(
        "github_token",
        "github_app_private_key",
        "github_webhook_secret",
        "openai_api_key",
        "slack_bot_token",
        "slack_signing_secret",
        "dashboard_auth",
        "flower_basic_auth",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        # `OPENAI_API_KEY=` in a .env or compose file means "no key", not a key of "".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("dashboard_auth")
    @classmethod
    def _user_colon_password(cls, value: SecretStr | None) -> SecretStr | None:
        # HTTP Basic credentials, as the dashboard compares them (dashboard/access.py).
        if value is not None:
            user, colon, password = value.get_secret_value().partition(":")
            if not (user and colon and password):
                raise ValueError("must be user:password (both non-empty)")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        scheme = normalize_database_url(value).split("://", 1)[0]
        if scheme not in SUPPORTED_DATABASE_SCHEMES:
            raise ValueError(
                f"unsupported database {scheme.split('+')[0]!r}: ci-remediator runs on "
                "PostgreSQL (postgres://, postgresql://) or, embedded, SQLite (sqlite:///path)"
            )
        return value

    @field_validator("redis_ssl_cert_reqs", mode="before")
    @classmethod
    def _cert_reqs_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("redis_url", "celery_broker_url")
    @classmethod
    def _usable_redis_tls(cls, value: str | None) -> str | None:
        # A bad `?ssl_cert_reqs=` is named at start, not at the first connection.
        if value:
            try:
                RedisTls().options(value)
            except RedisTlsError as error:
                raise ValueError(str(error)) from error
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return upper

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        if value not in {"text", "json"}:
            raise ValueError("must be 'text' or 'json'")
        return value

    @property
    def broker_url(self) -> str | None:
        return self.celery_broker_url or self.redis_url

    @property
    def redis_tls(self) -> RedisTls:
        ca_certs = self.redis_ssl_ca_certs
        return RedisTls(self.redis_ssl_cert_reqs, str(ca_certs) if ca_certs else None)

    @property
    def embedded(self) -> bool:
        """No broker configured: one process, filesystem broker, SQLite unless told otherwise."""
        return self.broker_url is None

    @property
    def sqlalchemy_url(self) -> str:
        return normalize_database_url(self.database_url or DEFAULT_SQLITE_URL)

    @property
    def env_repositories(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.repositories.split(",") if name.strip())


class AppConfig(BaseModel):
    """Everything a process needs: the environment plus the policy file, resolved."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    settings: Settings
    file: FileConfig

    @property
    def repositories(self) -> tuple[str, ...]:
        merged = dict.fromkeys((*self.file.repositories, *self.settings.env_repositories))
        return tuple(merged)

    def policy_for(self, repository: str) -> RepositoryPolicy:
        return resolve_policy(self.file, repository)


SUPPORTED_DATABASE_SCHEMES = ("postgresql+psycopg2", "sqlite")


def normalize_database_url(url: str) -> str:
    """Accept Heroku's `postgres://` and bare `postgresql://`, pinning the psycopg2 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def resolve_policy(file: FileConfig, repository: str) -> RepositoryPolicy:
    overrides = file.repository_configs.get(repository, PolicyOverrides())
    inherited: dict[str, Any] = {
        "risk_threshold": file.risk_threshold,
        "protected": repository in file.protected_repositories,
        "protected_branches": file.protected_branches,
        "sensitive_workflows": file.sensitive_workflows,
        "approvers": file.approvers,
        "approval_timeout_hours": file.approval_timeout_hours,
        "max_auto_attempts_per_run": file.max_auto_attempts_per_run,
        "max_auto_per_workflow_per_day": file.max_auto_per_workflow_per_day,
        "slack_channels": file.slack_channels,
        "remediation_workflows": file.remediation_workflows,
        "cache_key_templates": file.cache_key_templates,
        "allow_trust_memory": file.allow_trust_memory,
        "trust_memory_days": file.trust_memory_days,
    }
    explicit = {
        name: getattr(overrides, name)
        for name in overrides.model_fields_set
        if getattr(overrides, name) is not None
    }
    inherited["category_actions"] = {
        **DEFAULT_CATEGORY_ACTIONS,
        **file.category_actions,
        **(overrides.category_actions or {}),
    }
    explicit.pop("category_actions", None)
    if overrides.slack_channels is not None:
        # Channel by channel: a repository that names only its alerts channel keeps the
        # configured approvals and critical channels, not the built-in defaults.
        explicit["slack_channels"] = file.slack_channels.model_copy(
            update=overrides.slack_channels.model_dump(exclude_unset=True)
        )
    # Being listed as protected at the top level cannot be undone by an override: protection
    # only ever tightens.
    if inherited["protected"]:
        explicit.pop("protected", None)
    return RepositoryPolicy(repository=repository, **{**inherited, **explicit})


def describe_validation_error(error: ValidationError, *, source: str) -> str:
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    extra = len(error.errors()) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    if not first["loc"]:
        return f"{source}: {message}{more}"
    key = ".".join(str(part) for part in first["loc"])
    return f"{source}: invalid value for '{key}': {message}{more}"


def load_file_config(path: Path) -> FileConfig:
    if not path.exists():
        return FileConfig()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object")
    try:
        return FileConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source=str(path))) from exc


def load_config(*, env_overrides: dict[str, Any] | None = None) -> AppConfig:
    """Read the environment and the config file; raise ConfigError naming the bad key."""
    try:
        settings = Settings(**(env_overrides or {}))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source="environment")) from exc
    if "config_file" in settings.model_fields_set and not settings.config_file.exists():
        # Named on purpose and absent: running on defaults would quietly drop its policy.
        raise ConfigError(f"CONFIG_FILE={settings.config_file} does not exist")
    return AppConfig(settings=settings, file=load_file_config(settings.config_file))


@cache
def get_config() -> AppConfig:
    """The process-wide configuration, read once. Tests call `get_config.cache_clear()`."""
    return load_config()


def masked_view(config: AppConfig) -> dict[str, Any]:
    """The resolved configuration as plain data, secrets shown only as set/unset."""
    env: dict[str, Any] = {}
    for name, value in config.settings:
        if isinstance(value, SecretStr):
            env[name] = "********" if value.get_secret_value() else ""
        elif value is None:
            env[name] = None
        elif isinstance(value, str):
            # Every URL setting, not only the database's: a broker or Redis URL holds a
            # password as often.
            env[name] = _mask_url_password(value)
        else:
            env[name] = str(value) if isinstance(value, Path) else value
    env["database_url"] = _mask_url_password(config.settings.sqlalchemy_url)
    if config.settings.broker_url:
        env["broker_url"] = _mask_url_password(config.settings.broker_url)
    return {
        "environment": env,
        "mode": "embedded" if config.settings.embedded else "scaled",
        "config": json.loads(config.file.model_dump_json()),
        "repositories": {
            repo: json.loads(config.policy_for(repo).model_dump_json())
            for repo in config.repositories
        },
    }


def url_passwords(settings: Settings) -> list[str]:
    """The passwords inside the database, Redis and broker URLs (for redaction by value)."""
    urls = (settings.sqlalchemy_url, settings.redis_url, settings.broker_url)
    found = []
    for url in urls:
        _, sep, rest = (url or "").partition("://")
        credentials = rest.rpartition("@")[0] if sep else ""
        password = credentials.partition(":")[2]
        if password:
            found.append(unquote(password))
    return found


def _mask_url_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:****@{host}" if ":" in credentials else url
