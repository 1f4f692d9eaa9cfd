"""Monitoring: whatever GitHub holds, in whatever order and page size, every failed run of a
watched repository becomes one failure row (and one analysis) with the details GitHub served,
through polls, webhook redeliveries and rate limits alike.

Everything runs on the real Postgres and Redis, against the GitHub sandbox over HTTP (the real
PyGithub underneath the gateway). Each example uses repositories of its own, so the rows and
sandbox runs of earlier examples never count.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.analysis.rules import load_knowledge_base
from ci_remediator.config import AppConfig, FileConfig, load_config
from ci_remediator.coordination import RedisCoordinator
from ci_remediator.db.models import Analysis, DetectionSource, Failure
from ci_remediator.domain import FollowUp, Step
from ci_remediator.github.budget import RateBudget
from ci_remediator.github.gateway import GitHubGateway
from ci_remediator.github.values import parse_time
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.detect import poll_repository
from ci_remediator.pipeline.poll_cycle import plan_poll_cycle
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import DEMO_CONFIG
from ci_remediator.sandbox.webhook_sender import sign_payload, workflow_run_payload
from ci_remediator.services import Services, set_services
from ci_remediator.web import create_app
from tests.conftest import TEST_REDIS_URL
from tests.integration.conftest import engine, redis_client  # noqa: F401 - session fixtures
from tests.properties.profiles import NO_EXPLAIN, examples

TOKEN = "ghp_test_token_for_the_sandbox_only"
WEBHOOK_SECRET = "monitoring-properties-secret"
LOG = "##[error]Process completed with exit code 1.\n"
LOOKBACK = timedelta(days=1)
DEEP_SCAN_EVERY = timedelta(hours=1)
# What GitHub may conclude a completed run with (the sandbox serves these five).
CONCLUSIONS = ("failure", "timed_out", "startup_failure", "cancelled", "success")
# The conclusions that make a run a failure to look at (a cancelled run was stopped on purpose),
# written out here: the product's own constant must not be the test's oracle.
FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})

# ------------------------------------------------------------------ shared helpers ----


@pytest.fixture(scope="module")
def sandbox() -> Iterator[GitHubSandbox]:
    """One GitHub sandbox for the module: examples keep apart by repository name."""
    with GitHubSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def sessions(engine: Engine) -> sessionmaker[Session]:  # noqa: F811 - the fixture imported above
    return sessionmaker(engine, expire_on_commit=False)


def fresh_owner() -> str:
    """An organization no other example uses: caps, breakers and rows stay its own."""
    return f"o{uuid.uuid4().hex[:12]}"


def no_sleep(seconds: float) -> None:
    """The read retries' sleep in tests: nothing is timed, so nothing needs to wait."""


def gateway_on(sandbox: GitHubSandbox, *, per_page: int = 100, **options: Any) -> GitHubGateway:
    """A gateway to the sandbox whose read retries do not sleep."""
    options.setdefault("read_retry_sleep", no_sleep)
    return GitHubGateway(
        base_url=sandbox.url,
        token=str(options.pop("token", TOKEN)),
        per_page=per_page,
        **options,
    )


def services_on(
    sandbox: GitHubSandbox,
    sessions: sessionmaker[Session],
    *,
    env: dict[str, object] | None = None,
    **file: object,
) -> Services:
    """Services whose GitHub is the sandbox, on the shared engine, with the demo's policy and
    `file` overrides; request pacing high enough that no example waits on it."""
    settings_ = load_config(
        env_overrides={
            "github_api_url": sandbox.url,
            "github_webhook_secret": WEBHOOK_SECRET,
            **(env or {}),
        }
    ).settings
    document = {**DEMO_CONFIG, "github_max_requests_per_minute": 1_000_000, **file}
    services = Services(AppConfig(settings=settings_, file=FileConfig.model_validate(document)))
    services.sessions = sessions  # one engine for the module, not one per example
    return services


def add_run(
    sandbox: GitHubSandbox,
    repository: str,
    conclusion: str,
    *,
    created_at: datetime | None = None,
    **options: object,
) -> int:
    if conclusion == "success":
        return sandbox.add_successful_run(
            repository,
            workflow_name=str(options.pop("workflow_name", "CI")),
            job_name=str(options.pop("job_name", "test")),
            log_text="all good\n",
            created_at=created_at,
        )
    return sandbox.add_failed_run(
        repository,
        workflow_name=str(options.pop("workflow_name", "CI")),
        job_name=str(options.pop("job_name", "test")),
        log_text=str(options.pop("log_text", LOG)),
        conclusion=conclusion,
        created_at=created_at,
        **options,  # type: ignore[arg-type]
    )


def failing_attempts(sandbox: GitHubSandbox, repository: str, run_ids: Sequence[int]) -> set:
    """(repository, run id, latest attempt) of the runs whose latest attempt failed."""
    found = set()
    for run_id in run_ids:
        served = sandbox.run_json(repository, run_id)
        if served["status"] == "completed" and served["conclusion"] in FAILING_CONCLUSIONS:
            found.add((repository, run_id, served["run_attempt"]))
    return found


def recorded(sessions: sessionmaker[Session], repositories: Sequence[str]) -> list[tuple]:
    """Every failure row of these repositories, duplicates kept."""
    with sessions() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Failure.repository, Failure.run_id, Failure.run_attempt).where(
                    Failure.repository.in_(repositories)
                )
            )
        ]


def analyze_steps(follow_ups: Sequence[FollowUp]) -> list[int]:
    return [f.failure_id for f in follow_ups if f.step is Step.ANALYZE and f.failure_id]


def poll(
    sessions: sessionmaker[Session],
    gateway: GitHubGateway,
    repository: str,
    *,
    now: datetime,
    deep_scan_every: timedelta = DEEP_SCAN_EVERY,
) -> tuple[FollowUp, ...]:
    with sessions() as session, session.begin():
        return poll_repository(
            session,
            gateway=gateway,
            repository=repository,
            lookback=LOOKBACK,
            deep_scan_every=deep_scan_every,
            now=now,
        ).follow_ups


# --------------------------------------------------------- 1: polling consistency ----


@dataclass(frozen=True)
class RunSpec:
    conclusion: str
    age_minutes: int  # created this long before the first poll, within the lookback


run_specs = st.builds(RunSpec, st.sampled_from(CONCLUSIONS), st.integers(0, 20 * 60))


@dataclass(frozen=True)
class PollingScenario:
    monitored: list[list[RunSpec]]  # per watched repository: its runs before the first poll
    unmonitored: list[list[RunSpec]]
    later: list[list[RunSpec]]  # per watched repository: runs that completed after it
    per_page: int


polling_scenarios = st.builds(
    PollingScenario,
    monitored=st.lists(st.lists(run_specs, max_size=7), min_size=1, max_size=3),
    unmonitored=st.lists(st.lists(run_specs, min_size=1, max_size=3), max_size=2),
    later=st.lists(st.lists(run_specs, max_size=4), min_size=3, max_size=3),
    per_page=st.integers(2, 5),
)


@settings(max_examples=examples(20), phases=NO_EXPLAIN)
@given(polling_scenarios)
def test_every_failed_run_of_a_watched_repository_is_recorded_once_whatever_the_order_and_pages(
    sandbox: GitHubSandbox, sessions: sessionmaker[Session], scenario: PollingScenario
) -> None:
    """Property 1 (Monitoring): after a poll cycle every failed run (failure, timed_out,
    startup_failure) of a watched repository that the sandbox holds is recorded exactly once,
    in any creation order and page size, and nothing of an unwatched repository is.

    Runs that complete after the first poll are created at any earlier time: the second poll,
    when the deep scan is due, must find them too, however far back under the newer runs
    they sit.
    """
    owner = fresh_owner()
    watched = [f"{owner}/w{i}" for i in range(len(scenario.monitored))]
    unwatched = [f"{owner}/u{i}" for i in range(len(scenario.unmonitored))]
    first_poll = datetime.now(UTC)
    runs: dict[str, list[int]] = {name: [] for name in watched + unwatched}
    for name, specs in zip(
        watched + unwatched, scenario.monitored + scenario.unmonitored, strict=True
    ):
        for spec in specs:
            created = first_poll - timedelta(minutes=spec.age_minutes)
            runs[name].append(add_run(sandbox, name, spec.conclusion, created_at=created))
        sandbox.add_repository(name)  # a repository without runs is still there
    gateway = gateway_on(sandbox, per_page=scenario.per_page)
    analyzed: list[int] = []

    def poll_cycle(now: datetime) -> None:
        with sessions() as session, session.begin():
            plan = plan_poll_cycle(
                session,
                gateway=gateway,
                configured=tuple(watched),
                organizations=(),
                refresh_organizations=False,
                via_installation=False,
                interval_s=300,
                max_per_minute=600,
            )
        polled = [f.repository for f in plan.follow_ups if f.repository]
        assert set(watched) <= set(polled)
        for repository in polled:
            if repository.startswith(f"{owner}/"):
                analyzed.extend(analyze_steps(poll(sessions, gateway, repository, now=now)))

    with gateway:
        poll_cycle(first_poll)
        expected = set().union(*(failing_attempts(sandbox, n, runs[n]) for n in watched))
        rows = recorded(sessions, watched + unwatched)
        assert sorted(rows) == sorted(expected)
        # Late completions: GitHub lists each at its creation time, under newer runs.
        for name, specs in zip(watched, scenario.later, strict=False):
            for spec in specs:
                created = first_poll - timedelta(minutes=spec.age_minutes)
                runs[name].append(add_run(sandbox, name, spec.conclusion, created_at=created))
        poll_cycle(first_poll + DEEP_SCAN_EVERY)

    expected = set().union(*(failing_attempts(sandbox, n, runs[n]) for n in watched))
    rows = recorded(sessions, watched + unwatched)
    assert sorted(rows) == sorted(expected)  # each once, none of the unwatched repositories
    assert len(analyzed) == len(set(analyzed)) == len(rows)  # one analysis each


# ------------------------------------------------------ 2: failure details retrieval ----

# Names as people write them: any printable text (GitHub keeps workflow, job and step names
# as given), no control characters, which no GitHub name holds.
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda text: text.strip() == text and text != ""
)
branches = st.from_regex(r"[a-z][a-z0-9._-]{0,12}(/[a-z0-9._-]{1,12}){0,2}", fullmatch=True)
shas = st.text("0123456789abcdef", min_size=40, max_size=40)
events = st.sampled_from(["push", "pull_request", "schedule", "workflow_dispatch", "merge_group"])
failing = st.sampled_from(sorted(FAILING_CONCLUSIONS))


@dataclass(frozen=True)
class RunDetails:
    workflow_name: str
    job_name: str
    failed_step: str
    head_branch: str
    head_sha: str
    event: str
    conclusion: str
    reruns: int  # attempts someone re-ran by hand before the poll, each failing again
    age_minutes: int


run_details = st.builds(
    RunDetails,
    workflow_name=names,
    job_name=names.filter(lambda name: name != "prepare"),  # the sandbox's passing job
    failed_step=names,
    head_branch=branches,
    head_sha=shas,
    event=events,
    conclusion=failing,
    reruns=st.integers(0, 2),
    age_minutes=st.integers(0, 600),
)


def rerun_by_hand(
    sandbox: GitHubSandbox, gateway: GitHubGateway, repository: str, run_id: int
) -> None:
    """Someone re-ran the failed jobs on GitHub (not ci-remediator)."""
    gateway.rerun_failed_jobs(repository, run_id)
    while sandbox.run_json(repository, run_id)["status"] != "completed":
        gateway.get_run(repository, run_id)  # a GET is what moves a sandbox attempt on


def failed_run_with(sandbox: GitHubSandbox, repository: str, details: RunDetails) -> int:
    return sandbox.add_failed_run(
        repository,
        workflow_name=details.workflow_name,
        job_name=details.job_name,
        log_text=LOG,
        failed_step=details.failed_step,
        head_branch=details.head_branch,
        head_sha=details.head_sha,
        event=details.event,
        conclusion=details.conclusion,
        rerun_conclusions=(details.conclusion,),
        polls_until_complete=0,
        created_at=datetime.now(UTC) - timedelta(minutes=details.age_minutes),
    )


KNOWLEDGE_BASE = load_knowledge_base()


def analyze(sessions: sessionmaker[Session], gateway: GitHubGateway, failure_id: int) -> None:
    with sessions() as session, session.begin():
        analyze_failure(
            session, failure_id=failure_id, gateway=gateway, knowledge_base=KNOWLEDGE_BASE
        )


def stored_details(sessions: sessionmaker[Session], failure_id: int) -> tuple[object, ...]:
    with sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        return (
            failure.run_id,
            failure.run_attempt,
            failure.workflow_name,
            failure.workflow_id,
            failure.event,
            failure.head_branch,
            failure.head_sha,
            failure.conclusion,
            failure.html_url,
            failure.run_created_at,
            failure.workflow_path,
            failure.source,
        )


def served_details(served: dict[str, Any]) -> tuple[object, ...]:
    return (
        served["id"],
        served["run_attempt"],
        served["name"],
        served["workflow_id"],
        served["event"],
        served["head_branch"],
        served["head_sha"],
        served["conclusion"],
        served["html_url"],
        parse_time(served["created_at"]),
        served["path"],
        DetectionSource.POLL,
    )


@settings(max_examples=examples(20), phases=NO_EXPLAIN)
@given(run_details)
def test_the_stored_failure_carries_the_run_and_its_failed_jobs_as_github_served_them(
    sandbox: GitHubSandbox, sessions: sessionmaker[Session], details: RunDetails
) -> None:
    """Property 2 (Monitoring): the failure recorded from a poll carries the run's id, attempt,
    workflow (name, id and file), event, branch, commit, conclusion, link and creation time
    exactly as the GitHub API served them, and after analysis still does, with the failed jobs
    and their links as served."""
    repository = f"{fresh_owner()}/details"
    run_id = failed_run_with(sandbox, repository, details)
    with gateway_on(sandbox) as gateway:
        for _ in range(details.reruns):
            rerun_by_hand(sandbox, gateway, repository, run_id)
        new = analyze_steps(poll(sessions, gateway, repository, now=datetime.now(UTC)))
        assert len(new) == 1
        served = sandbox.run_json(repository, run_id)
        assert served["run_attempt"] == 1 + details.reruns
        assert stored_details(sessions, new[0]) == served_details(served)  # as detected
        analyze(sessions, gateway, new[0])

    assert stored_details(sessions, new[0]) == served_details(served)  # as the analysis re-read it
    failed_jobs = [
        job
        for job in sandbox.jobs_json(repository, run_id)
        if job["conclusion"] in FAILING_CONCLUSIONS
    ]
    with sessions() as session:
        analysis = session.scalar(select(Analysis).where(Analysis.failure_id == new[0]))
        assert analysis is not None
        assert analysis.failed_jobs == [job["name"] for job in failed_jobs] == [details.job_name]
        assert analysis.failed_job_links == [
            {"name": job["name"], "url": job["html_url"]} for job in failed_jobs
        ]


# ------------------------------------------------------ 3: failure reason extraction ----

words = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9)
sentences = st.lists(words, min_size=2, max_size=6).map(" ".join)


@dataclass(frozen=True)
class FailingLog:
    job_name: str
    failed_step: str
    noise_before: list[str]  # lines of an earlier step that passed
    output: list[str]  # what the failing step printed before its error
    error: str  # the `##[error]` message GitHub annotates the failure with

    def text(self) -> str:
        lines = [
            "##[group]Run actions/checkout@v4",
            *self.noise_before,
            "##[endgroup]",
            f"##[group]Run {self.failed_step}",
            *self.output,
            f"##[error]{self.error}",
            "##[endgroup]",
        ]
        return "".join(f"{line}\n" for line in lines)


failing_logs = st.builds(
    FailingLog,
    job_name=st.from_regex(r"[a-z][a-z0-9 _-]{0,20}", fullmatch=True).filter(
        lambda name: name.strip() == name and name != "prepare"
    ),
    failed_step=sentences,
    noise_before=st.lists(sentences, max_size=20),
    output=st.lists(sentences, max_size=20),
    error=sentences,
)


@settings(max_examples=examples(20), phases=NO_EXPLAIN)
@given(failing_logs)
def test_the_failing_job_step_and_error_reach_the_analysis(
    sandbox: GitHubSandbox, sessions: sessionmaker[Session], log: FailingLog
) -> None:
    """Property 3 (Monitoring): the failing job's name, the failed step GitHub reports for it
    and the `##[error]` line its log ends with all reach the analysis: the gateway hands the
    analyzer that job and step, and the stored analysis names the job (not the passing one)
    and quotes the error in its excerpt."""
    repository = f"{fresh_owner()}/reasons"
    run_id = sandbox.add_failed_run(
        repository,
        workflow_name="CI",
        job_name=log.job_name,
        log_text=log.text(),
        failed_step=log.failed_step,
    )
    with gateway_on(sandbox) as gateway:
        failed = gateway.list_failed_jobs(repository, run_id, 1)
        assert [(job.name, job.failed_steps) for job in failed] == [
            (log.job_name, (log.failed_step,))
        ]
        new = analyze_steps(poll(sessions, gateway, repository, now=datetime.now(UTC)))
        assert len(new) == 1
        analyze(sessions, gateway, new[0])

    with sessions() as session:
        analysis = session.scalar(select(Analysis).where(Analysis.failure_id == new[0]))
        assert analysis is not None
        assert analysis.failed_jobs == [log.job_name]
        assert log.error in analysis.excerpt


# ---------------------------------------------------------- 4: idempotent processing ----


@dataclass(frozen=True)
class Poll:
    pass


@dataclass(frozen=True)
class Deliver:
    run: int  # index into the scenario's runs: its latest attempt, as GitHub reports it


@dataclass(frozen=True)
class Redeliver:
    delivery: int  # index into the deliveries sent so far: the very same body and id again


@dataclass(frozen=True)
class RerunByHand:
    run: int


Operation = Poll | Deliver | Redeliver | RerunByHand

operations = st.lists(
    st.one_of(
        st.just(Poll()),
        st.builds(Deliver, st.integers(0, 3)),
        st.builds(Redeliver, st.integers(0, 20)),
        st.builds(RerunByHand, st.integers(0, 3)),
    ),
    min_size=1,
    max_size=12,
)


@dataclass
class Delivery:
    delivery_id: str
    body: bytes
    attempt: tuple[str, int, int]


@dataclass
class Receiver:
    """The web app under the WSGI test client; what it enqueued after each commit."""

    services: Services
    enqueued: list[FollowUp] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = create_app(
            enqueue=self.enqueued.extend, services=lambda: self.services
        ).test_client()

    def post(self, delivery: Delivery) -> int:
        signature = sign_payload(WEBHOOK_SECRET, delivery.body)
        answer = self.client.post(
            "/webhooks/github",
            data=delivery.body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "workflow_run",
                "X-GitHub-Delivery": delivery.delivery_id,
                "X-Hub-Signature-256": signature,
            },
        )
        return answer.status_code


@settings(max_examples=examples(20), phases=NO_EXPLAIN)
@given(st.lists(st.sampled_from(sorted(FAILING_CONCLUSIONS)), min_size=1, max_size=4), operations)
def test_any_mix_of_polls_and_webhook_redeliveries_records_each_attempt_once(
    sandbox: GitHubSandbox,
    sessions: sessionmaker[Session],
    conclusions: list[str],
    script: list[Operation],
) -> None:
    """Property 4 (Monitoring): any sequence of polls, webhook deliveries, redeliveries of the
    same delivery and reruns by hand yields exactly one failure row and one analysis per failed
    run attempt reported, and the webhook answers 201 only for the delivery that recorded it."""
    repository = f"{fresh_owner()}/idem"
    services = services_on(sandbox, sessions, repositories=[repository])
    receiver = Receiver(services)
    run_ids = [
        sandbox.add_failed_run(
            repository,
            workflow_name="CI",
            job_name="test",
            log_text=LOG,
            conclusion=conclusion,
            rerun_conclusions=(conclusion,),
            polls_until_complete=0,
        )
        for conclusion in conclusions
    ]
    reported: set[tuple[str, int, int]] = set()
    analyzed = []
    deliveries: list[Delivery] = []
    with gateway_on(sandbox) as gateway:
        for operation in script:
            if isinstance(operation, Poll):
                # The deep scan every time: each poll sees every run's latest attempt.
                follow_ups = poll(
                    sessions,
                    gateway,
                    repository,
                    now=datetime.now(UTC),
                    deep_scan_every=timedelta(0),
                )
                analyzed.extend(analyze_steps(follow_ups))
                reported |= failing_attempts(sandbox, repository, run_ids)
            elif isinstance(operation, RerunByHand):
                rerun_by_hand(sandbox, gateway, repository, run_ids[operation.run % len(run_ids)])
            else:
                if isinstance(operation, Deliver):
                    run_id = run_ids[operation.run % len(run_ids)]
                    payload = workflow_run_payload(sandbox, repository, run_id)
                    attempt = (repository, run_id, payload["workflow_run"]["run_attempt"])
                    delivery = Delivery(str(uuid.uuid4()), json.dumps(payload).encode(), attempt)
                    deliveries.append(delivery)
                elif deliveries:
                    delivery = deliveries[operation.delivery % len(deliveries)]
                else:
                    continue
                before = len(receiver.enqueued)
                status = receiver.post(delivery)
                assert status == (200 if delivery.attempt in reported else 201)
                reported.add(delivery.attempt)
                analyzed.extend(analyze_steps(receiver.enqueued[before:]))

    rows = recorded(sessions, [repository])
    assert sorted(rows) == sorted(reported)
    assert len(analyzed) == len(set(analyzed)) == len(rows)


# ------------------------------------------------------------ 5: rate limit handling ----


@dataclass
class VirtualClock:
    """The rate budget's clock and sleep: time moves only when the budget sleeps or the test
    lets a beat pass. GitHub's own window (the sandbox's budget) resets when this clock passes
    the reset the sandbox announced, as it would on GitHub."""

    now: float
    slept: list[float] = field(default_factory=list)
    on_advance: Callable[[float], None] = lambda now: None

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.on_advance(self.now)


@dataclass(frozen=True)
class PrimaryLimit:
    remaining: int  # requests left in GitHub's window
    reset_in_s: int


@dataclass(frozen=True)
class SecondaryLimit:
    status: int
    retry_after_s: int | None
    times: int


@dataclass(frozen=True)
class Beat:
    fault: PrimaryLimit | SecondaryLimit | None
    gap_s: float  # time passing before this beat


beats = st.lists(
    st.builds(
        Beat,
        fault=st.one_of(
            st.none(),
            st.builds(PrimaryLimit, st.integers(0, 3), st.integers(30, 3600)),
            st.builds(
                SecondaryLimit,
                st.sampled_from([403, 429]),
                st.one_of(st.none(), st.integers(1, 900)),
                st.integers(1, 3),
            ),
        ),
        gap_s=st.sampled_from([0.0, 1.0, 5.0, 30.0, 61.0, 300.0, 3601.0]),
    ),
    min_size=1,
    max_size=5,
)
MAX_WAIT_S = 10.0


@settings(max_examples=examples(20), phases=NO_EXPLAIN)
@given(st.integers(1, 8), beats)
def test_rate_limits_make_the_poller_wait_or_skip_and_lose_no_failure(
    sandbox: GitHubSandbox,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,  # noqa: F811 - the fixture imported above
    failed: int,
    schedule: list[Beat],
) -> None:
    """Property 5 (Monitoring): under any schedule of GitHub's primary limit (remaining and
    reset headers, then 403) and secondary limits (403/429, with or without Retry-After), the
    poll task never sleeps longer than the budget's short wait, sends nothing while GitHub's
    reset is further away than that (it skips to the next beat), and once the limits lift every
    failed run is recorded exactly once."""
    from workers import tasks

    repository = f"{fresh_owner()}/limited"
    services = services_on(sandbox, sessions, repositories=[repository])
    github_reset_at = [float("inf")]

    def github_window(now: float) -> None:
        if now >= github_reset_at[0]:
            sandbox.set_rate_limit(remaining=5000)
            github_reset_at[0] = float("inf")

    clock = VirtualClock(time.time(), on_advance=github_window)
    budget = RateBudget(
        RedisCoordinator(TEST_REDIS_URL, prefix=f"test-mon-{uuid.uuid4().hex[:8]}"),
        credential=uuid.uuid4().hex[:16],
        max_per_minute=1_000_000,
        max_wait_s=MAX_WAIT_S,
        clock=clock.time,
        sleep=clock.sleep,
    )
    services.github_budget = budget
    run_ids = [add_run(sandbox, repository, "failure") for _ in range(failed)]
    blocked_key = f"github:{budget.credential}:blocked-until"
    set_services(services)
    try:
        for beat in schedule:
            clock.advance(beat.gap_s)
            if isinstance(beat.fault, PrimaryLimit):
                sandbox.set_rate_limit(
                    remaining=beat.fault.remaining, reset_in_s=beat.fault.reset_in_s
                )
                github_reset_at[0] = int(time.time()) + beat.fault.reset_in_s
            elif isinstance(beat.fault, SecondaryLimit):
                sandbox.inject_error(
                    beat.fault.status,
                    path_pattern=rf"/repos/{repository}/actions/runs",
                    times=beat.fault.times,
                    retry_after_s=beat.fault.retry_after_s,
                )
            blocked_for = budget.coordinator.moment(blocked_key) - clock.now
            sent_before = sandbox.count("GET", rf"/repos/{repository}/.*")
            tasks.poll_repository(repository)  # as a worker runs it; a limit ends it quietly
            if blocked_for > MAX_WAIT_S:
                assert sandbox.count("GET", rf"/repos/{repository}/.*") == sent_before
            assert all(wait <= MAX_WAIT_S for wait in clock.slept)

        # The limits lift: GitHub's window resets, the scripted refusals run out, beats go on.
        refusals_left = sum(b.fault.times for b in schedule if isinstance(b.fault, SecondaryLimit))
        for _ in range(refusals_left + 1):
            clock.advance(max(0.0, budget.coordinator.moment(blocked_key) - clock.now) + 1)
            github_window(float("inf"))
            tasks.poll_repository(repository)
    finally:
        set_services(None)
        sandbox.set_rate_limit(remaining=5000)

    assert all(wait <= MAX_WAIT_S for wait in clock.slept)
    rows = recorded(sessions, [repository])
    assert sorted(rows) == sorted((repository, run_id, 1) for run_id in run_ids)
