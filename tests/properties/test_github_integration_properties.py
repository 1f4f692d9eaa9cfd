"""The GitHub integration: which credential is used and what happens when GitHub refuses it,
which runs count as failures, what the gateway reads back, how GitHub's rate headers are
accounted, and what error each GitHub answer becomes.

The gateway talks to the GitHub sandbox over HTTP through the real PyGithub; the rate budget
and the read cache live in the real Redis, the refused-credential marks in the real Postgres.
The oracles (which conclusions fail, which statuses are transient) are written out here from
GitHub's documentation and the product README, never read from the product's own constants.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.config import ConfigError, Settings
from ci_remediator.coordination import RedisCoordinator
from ci_remediator.db.models import AuditEntry, DisabledCredential
from ci_remediator.db.refused_credentials import credential_disabled
from ci_remediator.github.budget import RateBudget
from ci_remediator.github.credentials import (
    AppCredential,
    TokenCredential,
    credential_from_settings,
)
from ci_remediator.github.errors import (
    AuthenticationError,
    GitHubError,
    PermanentGitHubError,
    RateLimitedError,
    RerunRefusedError,
    TransientGitHubError,
)
from ci_remediator.github.gateway import READ_ATTEMPTS, GitHubGateway
from ci_remediator.github.read_cache import RedisReadCache
from ci_remediator.github.values import job_info, run_info
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.services import set_services
from tests.conftest import TEST_REDIS_URL
from tests.integration.conftest import engine, redis_client  # noqa: F401 - session fixtures
from tests.properties.profiles import examples
from tests.properties.test_monitoring_properties import (
    NO_EXPLAIN,
    VirtualClock,
    add_run,
    fresh_owner,
    gateway_on,
    recorded,
    rerun_by_hand,
    sandbox,  # noqa: F401 - the module's sandbox fixture
    services_on,
    sessions,  # noqa: F401 - the module's sessions fixture
)

# GitHub's run and job conclusions (REST reference), and which of them are failures to look
# at: a cancelled run was stopped on purpose, a neutral or skipped job did not fail.
RUN_CONCLUSIONS = (
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
    "stale",
    "startup_failure",
    None,
)
FAILED_RUN = frozenset({"failure", "timed_out", "startup_failure"})
PASSED_OR_UNFINISHED_JOB = frozenset({"success", "skipped", "neutral", None})
RUN_STATUSES = ("completed", "in_progress", "queued", "requested", "waiting", "pending")
CRITICAL = "critical-alerts"


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackSandbox]:
    with SlackSandbox() as running:
        yield running


# --------------------------------------------------------------- 47: authentication ----

tokens = st.one_of(
    st.from_regex(r"ghp_[A-Za-z0-9]{36}", fullmatch=True),
    st.from_regex(r"gho_[A-Za-z0-9]{36}", fullmatch=True),
    st.from_regex(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{30}", fullmatch=True),
    st.from_regex(r"[0-9a-f]{40}", fullmatch=True),  # a classic token
)
maybe = st.one_of(st.none(), st.just(""))


@dataclass(frozen=True)
class CredentialSettings:
    token: str | None
    app_id: str | None
    private_key: str | None
    installation_id: str | None


credential_settings = st.builds(
    CredentialSettings,
    token=st.one_of(maybe, tokens),
    app_id=st.one_of(maybe, st.from_regex(r"[1-9][0-9]{0,8}", fullmatch=True)),
    private_key=st.one_of(
        maybe,
        st.just("-----BEGIN RSA PRIVATE KEY-----\\nMIIE\\n-----END RSA PRIVATE KEY-----"),
    ),
    installation_id=st.one_of(
        maybe, st.from_regex(r"[1-9][0-9]{0,9}", fullmatch=True), st.just("12ab")
    ),
)


@settings(max_examples=examples(100))
@given(credential_settings, tokens)
def test_the_configured_credential_is_chosen_and_a_half_configured_app_names_what_is_missing(
    given_settings: CredentialSettings, other_token: str
) -> None:
    """Property 47 (GitHub Integration): any part of a GitHub App configured means App auth,
    which needs all three of id, key and a numeric installation id (else the error names what
    is missing); otherwise a token is used, and without either there is no credential. The
    fingerprint that names a credential's budget and refusal mark never holds the secret, and
    two tokens never share one."""
    settings_ = Settings(
        github_token=SecretStr(given_settings.token) if given_settings.token is not None else None,
        github_app_id=given_settings.app_id,
        github_app_private_key=(
            SecretStr(given_settings.private_key)
            if given_settings.private_key is not None
            else None
        ),
        github_app_installation_id=given_settings.installation_id,
    )
    app_parts = {
        "GITHUB_APP_ID": given_settings.app_id,
        "GITHUB_APP_PRIVATE_KEY": given_settings.private_key,
        "GITHUB_APP_INSTALLATION_ID": given_settings.installation_id,
    }
    if any(app_parts.values()):
        missing = [name for name, value in app_parts.items() if not value]
        if missing or not str(given_settings.installation_id).isdigit():
            with pytest.raises(ConfigError) as refused:
                credential_from_settings(settings_)
            for name in missing or ["GITHUB_APP_INSTALLATION_ID"]:
                assert name in str(refused.value)
            return
        credential = credential_from_settings(settings_)
        assert isinstance(credential, AppCredential)
        assert credential.app_id == given_settings.app_id
        assert credential.installation_id == int(str(given_settings.installation_id))
        # A PEM pasted into one environment line arrives with literal "\n"s.
        assert credential.private_key == str(given_settings.private_key).replace("\\n", "\n")
        assert "PRIVATE KEY" not in credential.fingerprint
        return
    credential = credential_from_settings(settings_)
    if not given_settings.token:
        assert credential is None
        return
    assert isinstance(credential, TokenCredential)
    assert credential.token == given_settings.token
    assert given_settings.token[:8] not in credential.fingerprint
    other = credential_from_settings(Settings(github_token=SecretStr(other_token)))
    assert isinstance(other, TokenCredential)
    assert (other.fingerprint == credential.fingerprint) == (other_token == given_settings.token)


class Captured(logging.Handler):
    """Every log record of the example, formatted with its traceback, at every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class capturing_logs:
    handler: Captured = field(default_factory=Captured)

    def __enter__(self) -> Captured:
        root = logging.getLogger()
        self._level = root.level
        root.addHandler(self.handler)
        root.setLevel(logging.DEBUG)  # LOG_LEVEL=DEBUG must not leak it either
        return self.handler

    def __exit__(self, *exc_info: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self._level)


def leaks(secret: str, text: str) -> bool:
    """Does `text` hold the secret or any 12 characters of it in a row?"""
    return any(secret[i : i + 12] in text for i in range(max(1, len(secret) - 11)))


@settings(max_examples=examples(20), phases=NO_EXPLAIN)
@given(st.tuples(tokens, st.integers(1, 3), st.integers(1, 4)))
def test_a_refused_credential_is_reported_once_never_retried_and_never_shown(
    sandbox: GitHubSandbox,  # noqa: F811 - the fixture imported above
    slack: SlackSandbox,
    sessions: sessionmaker[Session],  # noqa: F811
    redis_client: redis.Redis,  # noqa: F811
    case: tuple[str, int, int],
) -> None:
    """Property 47 (GitHub Integration): a token GitHub refuses (401) is tried once: one
    request, one critical alert, the credential marked refused, and no beat of polling or
    reconciling asks GitHub with it again; the token appears in no log line (any level), no
    error, no alert, no stored row and no Redis key; a new token resumes polling."""
    from workers import tasks

    # The token, how many repositories are watched, how many beats poll and reconcile.
    token, repositories, beats = case
    owner = fresh_owner()
    names = [f"{owner}/r{i}" for i in range(repositories)]
    for name in names:
        add_run(sandbox, name, "failure")
    sandbox.revoke_token(token)
    with sessions() as session, session.begin():
        # A token an earlier example drew again starts unrefused: each example its own story.
        session.execute(delete(DisabledCredential))
    services = services_on(
        sandbox,
        sessions,
        env={"github_token": token, "slack_bot_token": BOT_TOKEN, "slack_api_url": slack.api_url},
        repositories=names,
    )
    alerts_before = len(slack.messages(CRITICAL))
    requests_before = len(sandbox.requests)
    audit_before = _last_audit_id(sessions)
    set_services(services)
    try:
        with capturing_logs() as logs:
            for _ in range(beats):
                for name in names:
                    # What the beat's fan-out sends; a refusal fails the task, unretried.
                    with contextlib.suppress(AuthenticationError):
                        tasks.poll_repository(name)
                tasks.reconcile()
    finally:
        set_services(None)

    with_token = [
        r
        for r in sandbox.requests[requests_before:]
        if r.headers.get("authorization", "").endswith(token)
    ]
    assert len(with_token) == 1  # the first poll; nothing after GitHub said no
    alerts = slack.messages(CRITICAL)[alerts_before:]
    assert len(alerts) == 1
    assert "refused" in alerts[0].text
    fingerprint = services.github_credential.fingerprint
    with sessions() as session:
        assert credential_disabled(session, fingerprint)
        stored = [
            repr((row.fingerprint, row.reason))
            for row in session.scalars(select(DisabledCredential))
        ] + [
            json.dumps([entry.actor, entry.action, entry.detail])
            for entry in session.scalars(select(AuditEntry).where(AuditEntry.id > audit_before))
        ]
    texts = [
        *logs.lines,
        *(json.dumps([m.text, m.blocks]) for m in alerts),
        *stored,
        *(key.decode(errors="replace") for key in redis_client.scan_iter(count=1000)),
    ]
    assert not any(leaks(token, text) for text in texts)
    assert recorded(sessions, names) == []

    # The configuration is fixed: another token is another credential, and polling resumes.
    fixed_token = f"ghp_{uuid.uuid4().hex}"
    fixed = services_on(sandbox, sessions, env={"github_token": fixed_token}, repositories=names)
    set_services(fixed)
    try:
        for name in names:
            tasks.poll_repository(name)
    finally:
        set_services(None)
    assert len(recorded(sessions, names)) == repositories


def _last_audit_id(opened: sessionmaker[Session]) -> int:
    with opened() as session:
        return session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0


@settings(max_examples=examples(30), phases=NO_EXPLAIN)
@given(tokens, st.sampled_from([401, 403, 404, 422, 500, 502]), st.text(min_size=1, max_size=60))
def test_no_error_the_gateway_raises_shows_the_token(
    sandbox: GitHubSandbox,  # noqa: F811
    token: str,
    status: int,
    message: str,
) -> None:
    """Property 47 (GitHub Integration): whatever the token and whatever GitHub answers, the
    error the gateway raises (its text, its representation and its cause) holds no part of
    the token."""
    repository = f"{fresh_owner()}/secret"
    run_id = add_run(sandbox, repository, "failure")
    sandbox.inject_error(status, path_pattern=rf"/repos/{repository}/.*", times=3, message=message)
    with gateway_on(sandbox, token=token) as gateway, pytest.raises(GitHubError) as raised:
        gateway.get_run(repository, run_id)
    error: BaseException | None = raised.value
    while error is not None:
        assert not leaks(token, f"{error} {error!r} {getattr(error, 'github_message', '')}")
        error = error.__cause__


# ------------------------------------------------------ 48: failed workflow filtering ----


@settings(max_examples=examples(300))
@given(
    st.sampled_from(RUN_STATUSES),
    st.sampled_from(RUN_CONCLUSIONS),
    st.lists(st.sampled_from(RUN_CONCLUSIONS), max_size=6),
)
def test_only_runs_and_jobs_that_failed_count_as_failed(
    status: str, conclusion: str | None, job_conclusions: list[str | None]
) -> None:
    """Property 48 (GitHub Integration): a run counts as failed exactly when GitHub concluded
    it failure, timed_out or startup_failure (never cancelled, skipped, neutral, stale,
    action_required, success or unfinished), and a job exactly when it finished without
    passing or being skipped."""
    run = run_info(
        "acme/web",
        {
            "id": 1,
            "workflow_id": 2,
            "status": status,
            "conclusion": conclusion,
            "created_at": "2026-01-01T00:00:00Z",
        },
    )
    assert run.failed == (conclusion in FAILED_RUN)
    for number, job_conclusion in enumerate(job_conclusions, start=1):
        job = job_info({"id": number, "name": f"job {number}", "conclusion": job_conclusion})
        assert job.failed == (job_conclusion not in PASSED_OR_UNFINISHED_JOB)


@dataclass(frozen=True)
class ListedRun:
    conclusion: str  # of its first attempt (the sandbox serves these five)
    rerun: str | None  # a rerun by hand: what it concludes
    rerun_finished: bool  # or still queued when the list is read
    age_minutes: int


listed_runs = st.lists(
    st.builds(
        ListedRun,
        st.sampled_from(["success", "failure", "timed_out", "cancelled", "startup_failure"]),
        st.one_of(st.none(), st.sampled_from(["success", "failure", "cancelled", "timed_out"])),
        st.booleans(),
        st.integers(0, 23 * 60),
    ),
    max_size=10,
)


@settings(max_examples=examples(25), phases=NO_EXPLAIN)
@given(listed_runs, st.integers(2, 5))
def test_the_gateway_lists_exactly_the_completed_failed_runs(
    sandbox: GitHubSandbox,  # noqa: F811
    runs: list[ListedRun],
    per_page: int,
) -> None:
    """Property 48 (GitHub Integration): for any mix of conclusions and of reruns finished or
    still running, the gateway's failed-run listing and its deep scan both return exactly the
    runs whose latest attempt completed as a failure, newest first, over any page size."""
    repository = f"{fresh_owner()}/filter"
    sandbox.add_repository(repository)
    now = datetime.now(UTC)
    ids = []
    with gateway_on(sandbox, per_page=per_page) as gateway:
        for spec in runs:
            created = now - timedelta(minutes=spec.age_minutes)
            if spec.rerun is None or spec.conclusion in ("success", "startup_failure"):
                ids.append(add_run(sandbox, repository, spec.conclusion, created_at=created))
                continue
            run_id = sandbox.add_failed_run(
                repository,
                workflow_name="CI",
                job_name="test",
                log_text="x\n",
                conclusion=spec.conclusion,
                rerun_conclusions=(spec.rerun,),
                polls_until_complete=0 if spec.rerun_finished else 1_000,
                created_at=created,
            )
            if spec.rerun_finished:
                rerun_by_hand(sandbox, gateway, repository, run_id)
            else:
                gateway.rerun_run(repository, run_id)
            ids.append(run_id)
        listed = gateway.list_failed_runs(repository, since=now - timedelta(days=1))
        scanned = gateway.deep_scan(repository, since_day=(now - timedelta(days=1)).date())

    served = [sandbox.run_json(repository, run_id) for run_id in ids]
    expected = sorted(
        (run for run in served if run["status"] == "completed" and run["conclusion"] in FAILED_RUN),
        key=lambda run: (run["created_at"], run["id"]),
        reverse=True,
    )
    assert [(r.run_id, r.run_attempt) for r in listed] == [
        (run["id"], run["run_attempt"]) for run in expected
    ]
    assert sorted(r.run_id for r in scanned.runs) == sorted(run["id"] for run in expected)


# ---------------------------------------------------- 49: complete workflow details ----


def expected_run(served: dict[str, Any], repository: str) -> dict[str, Any]:
    """What RunInfo must say, field by field, about a run GitHub served as `served`."""
    head = served.get("head_repository") or {}
    return {
        "repository": repository,
        "run_id": served["id"],
        "run_attempt": served["run_attempt"],
        "workflow_name": served["name"],
        "workflow_id": served["workflow_id"],
        "event": served["event"],
        "head_branch": served["head_branch"],
        "head_sha": served["head_sha"],
        "status": served["status"],
        "conclusion": served["conclusion"],
        "html_url": served["html_url"],
        "created_at": datetime.fromisoformat(served["created_at"].replace("Z", "+00:00")),
        "updated_at": datetime.fromisoformat(served["updated_at"].replace("Z", "+00:00")),
        "actor": (served.get("actor") or {}).get("login"),
        "head_repository": head.get("full_name"),
        "workflow_path": served["path"],
    }


def as_fields(run: Any) -> dict[str, Any]:
    return dataclasses.asdict(run)


@dataclass(frozen=True)
class DetailedRun:
    workflow_name: str
    job_name: str
    branch: str
    event: str
    conclusion: str
    fork: bool
    workflow_file: str


detailed_runs = st.builds(
    DetailedRun,
    workflow_name=st.text(
        st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
    ).filter(lambda name: name.strip() == name),
    job_name=st.from_regex(r"[a-z][a-z0-9 _-]{0,20}", fullmatch=True).filter(
        lambda name: name.strip() == name and name != "prepare"
    ),
    branch=st.from_regex(r"[a-z][a-z0-9._-]{0,12}(/[a-z0-9._-]{1,12}){0,2}", fullmatch=True),
    event=st.sampled_from(["push", "pull_request", "pull_request_target", "schedule"]),
    conclusion=st.sampled_from(["failure", "timed_out", "cancelled", "startup_failure"]),
    fork=st.booleans(),
    workflow_file=st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True),
)
# What a caller does next, in any order: read the run or one of its attempts, list an
# attempt's jobs, or re-run it by hand (which changes what every read must now say).
reads = st.lists(
    st.one_of(
        st.just(("run", 0)),
        st.tuples(st.just("attempt"), st.integers(1, 3)),
        st.tuples(st.just("jobs"), st.integers(1, 3)),
        st.just(("rerun", 0)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=examples(25), phases=NO_EXPLAIN)
@given(detailed_runs, reads)
def test_every_read_of_a_run_its_attempts_and_jobs_says_what_github_serves_now(
    sandbox: GitHubSandbox,  # noqa: F811
    redis_client: redis.Redis,  # noqa: F811
    run: DetailedRun,
    script: list[tuple[str, int]],
) -> None:
    """Property 49 (GitHub Integration): every field of a run, of any of its attempts and of
    their jobs, as the gateway returns them, is what GitHub serves at that moment, whatever
    the names, branch, event, fork or workflow file, and through the shared conditional read
    cache: a rerun in between never leaves a stale answer behind."""
    repository = f"{fresh_owner()}/details"
    run_id = sandbox.add_failed_run(
        repository,
        workflow_name=run.workflow_name,
        job_name=run.job_name,
        log_text="x\n",
        conclusion=run.conclusion,
        head_branch=run.branch,
        event=run.event,
        head_repository=f"{fresh_owner()}/fork" if run.fork else None,
        workflow_path=f".github/workflows/{run.workflow_file}.yml",
        rerun_conclusions=("failure",),
        polls_until_complete=0,
    )
    cache = RedisReadCache(redis_client, prefix=f"test-mon-{uuid.uuid4().hex[:8]}")
    with gateway_on(sandbox, read_cache=cache) as gateway:
        for what, number in script:
            attempts = len(sandbox.attempts(repository, run_id))
            if what == "rerun":
                rerun_by_hand(sandbox, gateway, repository, run_id)
                continue
            if what == "run":
                served = sandbox.run_json(repository, run_id)
                read = gateway.get_run(repository, run_id)
                assert as_fields(read) == expected_run(served, repository)
                continue
            attempt = min(number, attempts)
            if what == "attempt":
                served = sandbox.run_json(repository, run_id, attempt=attempt)
                read = gateway.get_run_attempt(repository, run_id, attempt)
                assert as_fields(read) == expected_run(served, repository)
                continue
            jobs = sandbox.jobs_json(repository, run_id, attempt=attempt)
            listed = gateway.list_jobs(repository, run_id, attempt)
            assert [(j.job_id, j.name, j.conclusion, j.html_url) for j in listed] == [
                (job["id"], job["name"], job["conclusion"], job["html_url"]) for job in jobs
            ]
            assert [j.failed_steps for j in listed] == [
                tuple(
                    step["name"]
                    for step in job["steps"]
                    if step["conclusion"] in ("failure", "timed_out", "cancelled")
                )
                for job in jobs
            ]


# ------------------------------------------------------- 50: rate limit handling ----


@dataclass(frozen=True)
class Answer:
    """GitHub's rate headers on an answer."""

    remaining: str | None
    reset_in_s: float | None  # None: no reset header
    garbled_reset: bool = False


@dataclass(frozen=True)
class Refusal:
    retry_after_s: float | None
    reset_in_s: float | None  # a primary-limit 403 (x-ratelimit-reset), when no Retry-After


@dataclass(frozen=True)
class Request:
    pass


@dataclass(frozen=True)
class Wait:
    seconds: float


Event = Answer | Refusal | Request | Wait

events = st.lists(
    st.one_of(
        st.builds(
            Answer,
            st.one_of(st.just("0"), st.none(), st.sampled_from(["1", "59", "4999"])),
            st.one_of(st.none(), st.floats(-100, 4000, allow_nan=False)),
            st.booleans(),
        ),
        st.builds(
            Refusal,
            st.one_of(st.none(), st.floats(0, 900, allow_nan=False)),
            st.one_of(st.none(), st.floats(-100, 4000, allow_nan=False)),
        ),
        st.just(Request()),
        st.builds(Wait, st.sampled_from([0.5, 3.0, 9.0, 11.0, 60.0, 600.0, 4000.0])),
    ),
    min_size=1,
    max_size=15,
)
BUDGET_WAIT_S = 10.0


def fresh_budget(clock: VirtualClock, *, max_per_minute: int = 1_000_000) -> RateBudget:
    return RateBudget(
        RedisCoordinator(TEST_REDIS_URL, prefix=f"test-mon-{uuid.uuid4().hex[:8]}"),
        credential=uuid.uuid4().hex[:16],
        max_per_minute=max_per_minute,
        max_wait_s=BUDGET_WAIT_S,
        clock=clock.time,
        sleep=clock.sleep,
    )


@dataclass
class BudgetModel:
    """GitHub's documented rules, as the budget must follow them: the moment requests are held
    until, in the virtual clock's time."""

    blocked_until: float = 0.0
    secondary_hits: int = 0
    window: int = field(default_factory=lambda: int(time.time()) // 3600)

    def answered(self, event: Answer, now: float) -> dict[str, str]:
        headers = {}
        if event.remaining is not None:
            headers["x-ratelimit-remaining"] = event.remaining
        if event.reset_in_s is not None:
            headers["x-ratelimit-reset"] = (
                "soon" if event.garbled_reset else f"{now + event.reset_in_s:.0f}"
            )
        if event.remaining == "0":
            usable = event.reset_in_s is not None and not event.garbled_reset
            # A spent budget without a usable reset: wait a minute.
            until = float(headers["x-ratelimit-reset"]) if usable else now + 60
            self.blocked_until = max(self.blocked_until, until)
        return headers

    def refused(self, event: Refusal, now: float) -> float:
        """The moment GitHub's refusal holds requests until."""
        if event.retry_after_s is not None:
            until = now + event.retry_after_s
        elif event.reset_in_s is not None:
            until = now + event.reset_in_s
        else:
            # Repeats are counted per hour of the wall clock (a fixed window).
            if int(time.time()) // 3600 != self.window:
                self.window, self.secondary_hits = int(time.time()) // 3600, 0
            self.secondary_hits += 1
            until = now + min(60 * 2 ** (self.secondary_hits - 1), 3600)
        self.blocked_until = max(self.blocked_until, until)
        return until


def refusal_error(event: Refusal, now: float) -> RateLimitedError:
    reset_at = (
        datetime.fromtimestamp(now + event.reset_in_s, UTC)
        if event.reset_in_s is not None
        else None
    )
    return RateLimitedError(
        "refused", status=403, retry_after_s=event.retry_after_s, reset_at=reset_at
    )


def check_request(budget: RateBudget, clock: VirtualClock, model: BudgetModel) -> None:
    """One request asks the budget: refused without sleeping when the reset is further than
    the short wait, else sent after sleeping exactly what is left, never before the reset."""
    slept_before = len(clock.slept)
    wait = model.blocked_until - clock.now
    if wait > BUDGET_WAIT_S:
        with pytest.raises(RateLimitedError) as refused:
            budget.acquire()
        assert refused.value.retry_after_s == pytest.approx(wait, abs=1e-3)
        assert len(clock.slept) == slept_before
        return
    budget.acquire()
    # A reset GitHub names travels as a datetime (microseconds): a wait of less than that is
    # nothing to sleep for.
    if wait > 1e-3:
        assert clock.slept[slept_before] == pytest.approx(wait, abs=1e-3)
    assert clock.now >= model.blocked_until - 1e-3


@settings(max_examples=examples(200))
@given(events)
def test_the_budget_blocks_until_the_latest_reset_and_sleeps_only_short_waits(
    redis_client: redis.Redis,  # noqa: F811
    script: list[Event],
) -> None:
    """Property 50 (GitHub Integration): for any sequence of rate headers, refusals and
    requests at any times, the budget holds requests until the latest moment GitHub named
    (x-ratelimit-reset once remaining is 0, Retry-After, or a secondary limit's backoff of a
    minute doubling per repeat, capped at an hour), never earlier and never moving back; a
    request sleeps exactly the time left when that is at most the short wait, and is refused
    without sleeping when it is more."""
    clock = VirtualClock(time.time())
    budget = fresh_budget(clock)
    model = BudgetModel()
    for event in script:
        now = clock.now
        if isinstance(event, Wait):
            clock.advance(event.seconds)
        elif isinstance(event, Answer):
            budget.observe(model.answered(event, now))
        elif isinstance(event, Refusal):
            error = budget.rate_limited(refusal_error(event, now))
            until = model.refused(event, now)
            assert error.retry_after_s == pytest.approx(max(0.0, until - now), abs=1e-3)
        else:
            check_request(budget, clock, model)
        moment = budget.coordinator.moment(f"github:{budget.credential}:blocked-until")
        assert moment == pytest.approx(model.blocked_until, abs=1e-3)


@settings(max_examples=examples(40))
@given(st.integers(1, 120), st.integers(1, 200))
def test_pacing_never_puts_more_than_the_cap_in_any_minute(
    redis_client: redis.Redis,  # noqa: F811
    max_per_minute: int,
    requests: int,
) -> None:
    """Property 50 (GitHub Integration): however many requests are asked for at once, the
    slots the budget hands out put no more than `github_max_requests_per_minute` in any
    60 seconds, and no request waits longer than the budget's wait limit: one that would is
    refused instead, and only once the queue is full."""
    clock = VirtualClock(time.time())
    coordinator = RedisCoordinator(TEST_REDIS_URL, prefix=f"test-mon-{uuid.uuid4().hex[:8]}")
    budget = RateBudget(
        coordinator,
        credential=uuid.uuid4().hex[:16],
        max_per_minute=max_per_minute,
        max_wait_s=120.0,  # long enough that a minute's worth of slots is handed out
        clock=clock.time,
        sleep=clock.sleep,
    )
    started = time.time()
    waits: list[float] = []
    refused = 0
    for _ in range(requests):
        before = len(clock.slept)
        try:
            budget.acquire()
        except RateLimitedError:
            refused += 1
            continue
        waits.append(sum(clock.slept[before:]))
    elapsed = time.time() - started  # the Redis clock moved this much meanwhile
    assert all(wait <= 120.0 + elapsed for wait in waits)
    # Each slot is (now at the ask + its wait): asked within `elapsed`, so `elapsed` is slack.
    waits.sort()
    for first, last in zip(waits, waits[max_per_minute:], strict=False):
        assert last - first >= 60.0 - elapsed - 1e-6
    if refused:
        # Refused only once the queue is full: the slots handed out reach near the wait limit
        # (within one interval, at most a minute).
        assert waits[-1] >= 120.0 - 60.0 - elapsed


# ------------------------------------------------------------ 51: error reporting ----

# Every error status there is: each example asks them all, the ones GitHub documents first.
DOCUMENTED = [401, 403, 404, 408, 409, 410, 422, 429, 500, 502, 503, 504]
ERROR_STATUSES = DOCUMENTED + sorted(
    status.value
    for status in HTTPStatus
    if 400 <= status.value <= 599 and status.value not in DOCUMENTED
)
messages = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80
).filter(lambda text: text.strip() == text and "secondary rate limit" not in text.lower())


@dataclass(frozen=True)
class GitHubAnswer:
    status: int
    message: str
    secondary: bool  # the message says it is a secondary rate limit
    retry_after_s: int | None


def expected_error(answer: GitHubAnswer) -> type[GitHubError]:
    """GitHub's documented meaning of an error answer (README: transient errors are retried,
    authentication errors stop processing; GitHub: 403/429 with Retry-After or a secondary
    limit message are rate limits)."""
    if answer.status == 401:
        return AuthenticationError
    if answer.status in (403, 429) and (
        answer.retry_after_s is not None or answer.status == 429 or answer.secondary
    ):
        return RateLimitedError
    if answer.status >= 500 or answer.status == 408:
        return TransientGitHubError
    return PermanentGitHubError


def check_answer(
    github: GitHubSandbox, gateway: GitHubGateway, answer: GitHubAnswer, *, mutating: bool
) -> None:
    """GitHub answers `answer` to a read of a run (or to a rerun request): the error raised."""
    repository = f"{fresh_owner()}/errors"
    run_id = add_run(github, repository, "failure")
    message = f"{answer.message} (secondary rate limit)" if answer.secondary else answer.message
    path = rf"/repos/{repository}/actions/runs/{run_id}" + ("/rerun" if mutating else "")
    kind = expected_error(answer)
    transient_read = kind is TransientGitHubError and not mutating
    # As many refusals as attempts are expected: one more attempt would reach GitHub's normal
    # answer and show in the count (and none are left over to slow the sandbox down).
    github.inject_error(
        answer.status,
        path_pattern=path,
        times=READ_ATTEMPTS if transient_read else 1,
        message=message,
        retry_after_s=answer.retry_after_s,
    )
    ask = gateway.rerun_run if mutating else gateway.get_run
    before = len(github.requests)
    with pytest.raises(GitHubError) as raised:
        ask(repository, run_id)

    error = raised.value
    refused_rerun = mutating and kind is PermanentGitHubError and answer.status in (403, 409, 422)
    assert type(error) is (RerunRefusedError if refused_rerun else kind), answer
    assert error.status == answer.status
    assert error.github_message == message
    assert f"{repository}#{run_id}" in str(error)
    assert message in str(error)
    if not isinstance(error, RerunRefusedError):  # that one says "GitHub refused: <reason>"
        assert f": {answer.status} " in str(error)
    if isinstance(error, RateLimitedError) and answer.retry_after_s is not None:
        assert error.retry_after_s == answer.retry_after_s
    if isinstance(error, RerunRefusedError):
        assert error.reason == message
    sent = len([r for r in github.requests[before:] if r.path == path])
    assert sent == (READ_ATTEMPTS if transient_read else 1), answer
    if isinstance(error, TransientGitHubError) and not isinstance(error, RateLimitedError):
        assert error.retried == transient_read


@settings(max_examples=examples(15), phases=NO_EXPLAIN)
@given(messages, st.booleans(), st.integers(1, 600), st.booleans())
def test_every_github_error_answer_becomes_its_documented_error_naming_what_was_asked(
    sandbox: GitHubSandbox,  # noqa: F811
    message: str,
    secondary: bool,
    retry_after_s: int,
    mutating: bool,
) -> None:
    """Property 51 (GitHub Integration): every error status GitHub can answer, with any
    message, becomes the documented error type (401 authentication, rate limits with their
    wait, 5xx and 408 transient, other 4xx permanent; a refused rerun says GitHub's reason),
    whose message names the repository, the run and the status and quotes GitHub; a read is
    tried three times when transient and once otherwise, a rerun request exactly once."""
    # Each status with or without Retry-After and a secondary-limit message as drawn; the two
    # rate-limit statuses with every combination of them.
    answers = [
        GitHubAnswer(status, message, secondary, retry_after_s if secondary else None)
        for status in ERROR_STATUSES
    ] + [
        GitHubAnswer(status, message, said, wait)
        for status in (403, 429)
        for said in (False, True)
        for wait in (None, retry_after_s)
    ]
    with gateway_on(sandbox) as gateway:
        for answer in answers:
            check_answer(sandbox, gateway, answer, mutating=mutating)
