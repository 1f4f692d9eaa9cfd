"""The outside world a process talks to, built once per process from the configuration.

Each integration sits behind a small interface; which implementation is used is decided here
and nowhere else (the sandbox is just a GitHub at another base URL).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from ci_remediator import config_reload
from ci_remediator.analysis.log_analysis import ModelAnalyzer
from ci_remediator.analysis.redaction import register_known_secrets
from ci_remediator.analysis.rules import KnowledgeBase, load_knowledge_base
from ci_remediator.config import AppConfig, get_config, url_passwords
from ci_remediator.config_reload import ConfigFileWatch, Refused, Reloaded
from ci_remediator.coordination import Coordinator, RedisCoordinator
from ci_remediator.db.leases import DatabaseCoordinator
from ci_remediator.db.session import session_factory
from ci_remediator.github.budget import RateBudget
from ci_remediator.github.credentials import GitHubCredential, credential_from_settings
from ci_remediator.github.gateway import GitHubGateway
from ci_remediator.github.read_cache import MemoryReadCache, ReadCache, RedisReadCache
from ci_remediator.notify.console import ConsoleNotifier
from ci_remediator.notify.messages import SystemAlert
from ci_remediator.notify.notifier import Notifier, raise_alert

log = logging.getLogger(__name__)

# Worst case of one model analysis: (1 + LLM_MAX_RETRIES) client attempts, twice (one retry
# after an unusable answer), all timing out: 4 x 40 s = 160 s, inside the analyze task's
# 240 s soft time limit with room for GitHub.
LLM_TIMEOUT_S = 40.0
LLM_MAX_RETRIES = 1


class MissingCredentialsError(RuntimeError):
    """A service is needed but its credentials are not configured."""


@dataclass
class Services:
    config: AppConfig
    # How the gateway waits between a read's retries (a test that times nothing passes a no-op).
    read_retry_sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def __post_init__(self) -> None:
        # These secrets have no recognisable prefix: redaction looks for their exact values.
        settings = self.config.settings
        register_known_secrets(
            [
                *(
                    secret.get_secret_value()
                    for secret in (
                        settings.github_webhook_secret,
                        settings.slack_signing_secret,
                        settings.openai_api_key,
                        settings.github_token,
                        settings.slack_bot_token,
                        settings.github_app_private_key,
                        settings.dashboard_auth,
                        settings.flower_basic_auth,
                    )
                    if secret is not None
                ),
                *url_passwords(settings),
            ]
        )

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.config.settings.sqlalchemy_url)

    @cached_property
    def github_credential(self) -> GitHubCredential:
        credential = credential_from_settings(self.config.settings)
        if credential is None:
            raise MissingCredentialsError("neither GITHUB_TOKEN nor a GitHub App is configured")
        return credential

    @cached_property
    def github_budget(self) -> RateBudget:
        return RateBudget(
            self.coordinator,
            credential=self.github_credential.fingerprint,
            max_per_minute=self.config.file.github_max_requests_per_minute,
        )

    @cached_property
    def github_read_cache(self) -> ReadCache:
        """Shared by every worker through the broker's Redis; one process's own otherwise."""
        settings = self.config.settings
        if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")):
            client = settings.redis_tls.client(
                settings.broker_url, socket_timeout=2, socket_connect_timeout=2
            )
            return RedisReadCache(client, prefix="ci-remediator:github-read")
        return MemoryReadCache()

    @property
    def gateway(self) -> GitHubGateway:
        """One per thread: PyGithub's requester keeps per-instance connection state."""
        gateway: GitHubGateway | None = getattr(self._local, "gateway", None)
        if gateway is None:
            gateway = GitHubGateway(
                base_url=self.config.settings.github_api_url,
                auth=self.github_credential.auth(),
                budget=self.github_budget,
                read_cache=self.github_read_cache,
                cache_scope=self.github_credential.fingerprint,
                read_retry_sleep=self.read_retry_sleep,
            )
            self._local.gateway = gateway
        return gateway

    @property
    def model(self) -> ModelAnalyzer | None:
        """The LLM analyzer, per thread; None when no key is set or `llm.enabled` is false."""
        settings, llm = self.config.settings, self.config.file.llm
        if settings.openai_api_key is None or not llm.enabled:
            return None
        analyzer: ModelAnalyzer | None = getattr(self._local, "model", None)
        if analyzer is None:
            from ci_remediator.llm.client import LlmAnalyzer

            analyzer = LlmAnalyzer(
                api_key=settings.openai_api_key.get_secret_value(),
                model=settings.openai_model,
                base_url=settings.openai_base_url,
                # Below the analyze task's soft time limit, with room for the client's retries.
                timeout_s=LLM_TIMEOUT_S,
                max_retries=LLM_MAX_RETRIES,
                max_prompt_chars=llm.max_prompt_chars,
            )
            self._local.model = analyzer
        return analyzer

    @cached_property
    def knowledge_base(self) -> KnowledgeBase:
        return load_knowledge_base(self.config.file.knowledge_base_file)

    @property
    def notifier_credential(self) -> str | None:
        """The Slack token's fingerprint (a changed token is a new credential), or None."""
        token = self.config.settings.slack_bot_token
        if token is None:
            return None
        return "slack:" + hashlib.sha256(token.get_secret_value().encode()).hexdigest()[:16]

    @cached_property
    def notifier(self) -> Notifier:
        """Slack when SLACK_BOT_TOKEN is set, else the console."""
        settings = self.config.settings
        if settings.slack_bot_token is None:
            return ConsoleNotifier()
        from ci_remediator.slack.notifier import SlackNotifier

        return SlackNotifier(
            token=settings.slack_bot_token.get_secret_value(),
            api_url=settings.slack_api_url,
            channels_for=lambda repository: self.config.policy_for(repository).slack_channels,
            default_channels=self.config.file.slack_channels,
        )

    def slack_workspace_url(self) -> str | None:
        """Where links to Slack threads point (the dashboard's); None when Slack is not the
        notifier or did not say."""
        if self.config.settings.slack_bot_token is None:
            return None
        from ci_remediator.slack.notifier import SlackNotifier

        notifier = self.notifier
        return notifier.workspace_url() if isinstance(notifier, SlackNotifier) else None

    @cached_property
    def coordinator(self) -> Coordinator:
        settings = self.config.settings
        if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")):
            return RedisCoordinator(settings.broker_url, tls=settings.redis_tls)
        return DatabaseCoordinator(self.sessions)


_lock = threading.Lock()
_services: Services | None = None
_watch: ConfigFileWatch | None = None


def get_services() -> Services:
    """This process's services, made on first use; when `config.json` changed since, made
    anew from the new file (or kept, with one critical alert, if the new file is invalid)."""
    global _services, _watch  # noqa: PLW0603 - one per process, made on first use
    with _lock:
        if _services is None:
            _services = Services(get_config())
            _watch = ConfigFileWatch(
                _services.config.settings.config_file, check_every_s=config_reload.CHECK_EVERY_S
            )
        elif _watch is not None:
            _services = _reloaded(_services, _watch)
        return _services


def set_services(services: Services | None) -> None:
    """Install services for this process (the demo and tests point them at sandboxes); they
    are not reloaded from any file."""
    global _services, _watch  # noqa: PLW0603
    with _lock:
        _services = services
        _watch = None


def _reloaded(current: Services, watch: ConfigFileWatch) -> Services:
    change = watch.poll()
    if isinstance(change, Reloaded):
        log.warning("configuration reloaded from %s", watch.path)
        # In-flight tasks finish with the services they hold; new ones get these.
        return Services(AppConfig(settings=current.config.settings, file=change.file))
    if isinstance(change, Refused):
        log.critical("%s; the previous configuration stays in force", change.error)
        if _first_to_report(current, change.digest):
            raise_alert(
                current.notifier,
                SystemAlert(
                    severity="critical",
                    title=f"Configuration not reloaded: {watch.path} is invalid",
                    lines=(str(change.error), "the previous configuration stays in force"),
                ),
            )
    return current


def _first_to_report(services: Services, digest: str) -> bool:
    """Whether this process is the first of the fleet to see this bad version (each worker
    and the web process watch the file; people hear of it once)."""
    try:
        return (
            services.coordinator.try_lock(f"config-refused:{digest}", ttl_s=7 * 86_400) is not None
        )
    except Exception:
        log.exception("could not coordinate the configuration alert")
        return True
