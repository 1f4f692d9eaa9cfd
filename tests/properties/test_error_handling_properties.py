"""Error handling: whatever a step raises, the failure stays in a legal state and is never
lost; what ends a failure reaches a human as a critical alert; outages end and the work
resumes; GitHub calls are retried within bounds; a remediation still running at the verify
deadline is undone exactly once.

The base task's error handling runs as a worker runs it (a pushed request, retries sent to
the real Redis broker); steps run on the real Postgres against the GitHub sandbox and alerts
go through the real Slack client to the Slack sandbox. Every example starts from an empty
failures table (rows of earlier examples would be swept along).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from celery.exceptions import Retry, SoftTimeLimitExceeded
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.db.base import utcnow
from ci_remediator.db.models import (
    ApprovalRequest,
    AuditEntry,
    DetectionSource,
    DisabledCredential,
    Failure,
    Notification,
    Remediation,
)
from ci_remediator.domain import ActionKind, FailureState, FollowUp, Step
from ci_remediator.github.errors import (
    AuthenticationError,
    PermanentGitHubError,
    RateLimitedError,
    TransientGitHubError,
)
from ci_remediator.github.gateway import READ_ATTEMPTS
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.notify import notify_stage
from ci_remediator.pipeline.reconcile import find_stuck_failures
from ci_remediator.pipeline.rollback import roll_back_remediation
from ci_remediator.pipeline.verify import verify_remediation
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import demo_log
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.services import Services, set_services
from tests.integration.conftest import engine, redis_client  # noqa: F401 - session fixtures
from tests.properties.profiles import NO_EXPLAIN, examples
from tests.properties.test_github_integration_properties import CRITICAL, slack  # noqa: F401
from tests.properties.test_monitoring_properties import (
    analyze,
    fresh_owner,
    gateway_on,
    no_sleep,
    sandbox,  # noqa: F401 - the module's sandbox fixture
    services_on,
    sessions,  # noqa: F401 - the module's sessions fixture
)

# The states a failure can rest in between tasks, not terminal (GATED is entered and left
# within the gate's own transaction), and the task the reconcile sweep owes each of them.
RESTING = {
    FailureState.DETECTED: Step.ANALYZE,
    FailureState.ANALYZING: Step.ANALYZE,
    FailureState.ANALYZED: Step.GATE,
    FailureState.AWAITING_APPROVAL: Step.REQUEST_APPROVAL,
    FailureState.EXECUTING: Step.EXECUTE,
    FailureState.VERIFYING: Step.VERIFY,
    FailureState.REMEDIATION_FAILED: Step.ROLLBACK,
}
MAX_RETRIES = 3  # README: transient errors, exponential backoff, at most 3 attempts more
TIME_LIMIT_OVERRUNS = 3  # a step past its time limit this often is given up
STUCK_AFTER = timedelta(minutes=15)
LOG = "##[error]Process completed with exit code 1.\n"


@pytest.fixture(autouse=True)
def _no_services_left_installed() -> Iterator[None]:
    yield
    set_services(None)


@pytest.fixture(scope="module", autouse=True)
def _refusals_end_with_the_module(
    sessions: sessionmaker[Session],  # noqa: F811 - the fixture imported above
) -> Iterator[None]:
    """The examples here refuse the test credential on purpose: that mark must not follow
    the tests of other modules, which poll with it."""
    yield
    with sessions() as session, session.begin():
        session.execute(delete(DisabledCredential))


def empty_failures(db: sessionmaker[Session]) -> None:
    with db() as session, session.begin():
        session.execute(delete(Failure))
        session.execute(delete(DisabledCredential))


def detected_failure(
    db: sessionmaker[Session], github: GitHubSandbox, repository: str, **options: Any
) -> int:
    """A failed run in the github, read through the gateway and recorded (`detected`)."""
    run_id = github.add_failed_run(
        repository,
        workflow_name="CI",
        job_name="test",
        log_text=str(options.pop("log_text", LOG)),
        **options,
    )
    with gateway_on(github) as gateway, db() as session, session.begin():
        failure_id = record_failure(
            session, run=gateway.get_run(repository, run_id), source=DetectionSource.POLL
        )
    assert failure_id is not None
    return failure_id


def put_in_state(db: sessionmaker[Session], failure_id: int, state: FailureState) -> None:
    """Test set-up: the failure rests in `state`, as a task left it."""
    with db() as session, session.begin():
        session.execute(update(Failure).where(Failure.id == failure_id).values(state=state))


def state_of(db: sessionmaker[Session], failure_id: int) -> FailureState:
    with db() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        return failure.state


@contextlib.contextmanager
def as_a_worker_runs(task: Any, *, retries: int, failure_id: int) -> Iterator[Any]:
    """The task with the request a worker gives it (a retry is sent to the real broker)."""
    task.push_request(
        retries=retries,
        id=str(uuid.uuid4()),
        called_directly=False,
        kwargs={"failure_id": failure_id},
    )
    try:
        yield task
    finally:
        task.pop_request()


# ------------------------------------------------ 42: error catching and logging ----

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


def _transient_github(message: str, retried: bool) -> TransientGitHubError:
    error = TransientGitHubError(message, status=502)
    error.retried = retried
    return error


errors = st.one_of(
    # Bugs and bad data: permanent.
    st.builds(ValueError, texts),
    st.builds(KeyError, texts),
    st.builds(RuntimeError, texts),
    st.builds(TypeError, texts),
    st.builds(LookupError, texts),
    st.builds(ZeroDivisionError, texts),
    st.builds(lambda m: PermanentGitHubError(m, status=404), texts),
    # Outages: transient.
    st.builds(_transient_github, texts, st.booleans()),
    st.builds(lambda m: OperationalError("SELECT 1", {}, Exception(m)), texts),
    st.builds(redis.exceptions.ConnectionError, texts),
    st.builds(ConnectionError, texts),
    st.builds(TimeoutError, texts),
    # Neither the failure's fault nor an outage.
    st.builds(lambda m: AuthenticationError(m, status=401), texts),
    st.builds(
        lambda m, wait: RateLimitedError(m, retry_after_s=wait),
        texts,
        st.one_of(st.none(), st.floats(1, 7200)),
    ),
    st.just(SoftTimeLimitExceeded()),
)


@dataclass
class ErrorModel:
    """What the README's error rules say must follow an error (retry, wait, or errored)."""

    overruns: int = 0

    def expect(self, error: BaseException, retries: int) -> str:
        if isinstance(error, AuthenticationError):
            return "credential refused"  # log, critical alert, stop: the failure waits
        if isinstance(error, RateLimitedError):
            return "retry"  # waiting for GitHub spends no retry
        if isinstance(error, SoftTimeLimitExceeded):
            self.overruns += 1
            return "errored" if self.overruns >= TIME_LIMIT_OVERRUNS else "left for the sweep"
        if isinstance(error, TransientGitHubError) and error.retried:
            return "left for the sweep"  # the call was retried already: no second level
        transient = isinstance(
            error,
            TransientGitHubError
            | OperationalError
            | ConnectionError
            | TimeoutError
            | redis.exceptions.ConnectionError,
        )
        if transient and retries < MAX_RETRIES:
            return "retry"
        return "errored"


@settings(max_examples=examples(30), phases=NO_EXPLAIN)
@given(
    st.sampled_from(sorted(RESTING)),
    st.lists(st.tuples(errors, st.integers(0, MAX_RETRIES + 1)), min_size=1, max_size=5),
)
def test_whatever_a_step_raises_the_failure_stays_legal_and_is_never_lost(
    sandbox: GitHubSandbox,  # noqa: F811 - the fixture imported above
    sessions: sessionmaker[Session],  # noqa: F811
    redis_client: redis.Redis,  # noqa: F811
    resting: FailureState,
    raised: list[tuple[BaseException, int]],
) -> None:
    """Property 42 (Error Handling): whatever exceptions a task's step raises, in any order
    and at any retry count, the failure is either retried (a message is out), left where the
    reconcile sweep re-sends it, or moved to errored with the error's type and text recorded
    and audited; it never lands anywhere else, and a terminal failure is never moved again."""
    from workers.tasks import gate

    empty_failures(sessions)
    services = services_on(sandbox, sessions)
    set_services(services)
    failure_id = detected_failure(sessions, sandbox, f"{fresh_owner()}/errors")
    put_in_state(sessions, failure_id, resting)
    model = ErrorModel()
    errored_by: BaseException | None = None
    for error, retries in raised:
        expected = model.expect(error, retries)
        with as_a_worker_runs(gate, retries=retries, failure_id=failure_id) as task:
            try:
                task._handle_error(error, failure_id=failure_id)
                outcome = "returned"
            except Retry:
                outcome = "retry"
        state = state_of(sessions, failure_id)
        if errored_by is not None:  # terminal: nothing moves it any more
            assert state is FailureState.ERRORED
            continue
        if expected == "errored":
            assert outcome == "returned"
            assert state is FailureState.ERRORED
            errored_by = error
        else:
            assert outcome == ("retry" if expected == "retry" else "returned")
            assert state is resting  # and the sweep owes it a task: RESTING says which
    with sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.failure_id == failure_id, AuditEntry.to_state == "errored"
            )
        ).all()
        disabled = session.scalar(select(func.count()).select_from(DisabledCredential))
    if errored_by is None:
        assert failure.last_error is None
        assert entries == []
    else:
        # Its type and text, less any NUL (which Postgres cannot store).
        said = f"{type(errored_by).__name__}: {errored_by}".replace("\x00", "")[:2000]
        assert failure.last_error == said
        assert [(e.from_state, e.detail["error"]) for e in entries] == [(resting.value, said)]
    assert disabled == (1 if any(isinstance(e, AuthenticationError) for e, _ in raised) else 0)


# --------------------------------------------------- 43: critical error alerting ----


@settings(max_examples=examples(20), phases=NO_EXPLAIN)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["bug", "permanent", "refused", "transient", "overrun"]),
            max_size=4,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_each_failure_that_errors_and_each_refused_credential_raises_one_critical_alert(
    sandbox: GitHubSandbox,  # noqa: F811
    slack: SlackSandbox,  # noqa: F811
    sessions: sessionmaker[Session],  # noqa: F811
    per_failure: list[list[str]],
) -> None:
    """Property 43 (Error Handling): every failure that ends errored, however many errors
    its tasks hit, puts exactly one critical message in the critical channel naming its run
    and its error; a refused credential raises exactly one critical alert however often it is
    refused; nothing else reaches the critical channel."""
    from workers.tasks import analyze as analyze_task

    empty_failures(sessions)
    services = services_on(
        sandbox, sessions, env={"slack_bot_token": BOT_TOKEN, "slack_api_url": slack.api_url}
    )
    set_services(services)
    repository = f"{fresh_owner()}/alerts"
    failure_ids = [detected_failure(sessions, sandbox, repository) for _ in per_failure]
    before = len(slack.messages(CRITICAL))
    for failure_id, kinds in zip(failure_ids, per_failure, strict=True):
        for kind in kinds:
            error: BaseException = {
                "bug": ValueError(f"bug in {failure_id}"),
                "permanent": PermanentGitHubError(f"404 for {failure_id}", status=404),
                "refused": AuthenticationError("401 Bad credentials", status=401),
                "transient": TransientGitHubError("502", status=502),
                "overrun": SoftTimeLimitExceeded(),
            }[kind]
            with (
                as_a_worker_runs(analyze_task, retries=0, failure_id=failure_id) as task,
                contextlib.suppress(Retry),
            ):
                task._handle_error(error, failure_id=failure_id)
    with sessions() as session, session.begin():
        for failure_id in failure_ids:  # what the notify tasks sent after the commit do
            notify_stage(session, failure_id=failure_id, notifier=services.notifier)

    posted = slack.messages(CRITICAL)[before:]
    errored = [fid for fid in failure_ids if state_of(sessions, fid) is FailureState.ERRORED]
    expected_errored = [
        fid
        for fid, kinds in zip(failure_ids, per_failure, strict=True)
        if {"bug", "permanent"} & set(kinds) or kinds.count("overrun") >= TIME_LIMIT_OVERRUNS
    ]
    assert errored == expected_errored
    refused = any("refused" in kinds for kinds in per_failure)
    credential_alerts = [m for m in posted if "refused ci-remediator's credential" in m.text]
    assert len(credential_alerts) == (1 if refused else 0)
    failure_alerts = [m for m in posted if m not in credential_alerts]
    assert len(failure_alerts) == len(errored)
    with sessions() as session:
        for failure_id, message in zip(errored, failure_alerts, strict=True):
            failure = session.get(Failure, failure_id)
            assert failure is not None
            assert "could not process" in message.text
            assert f"#{failure.run_id}/" in message.text
            assert str(failure.last_error).split(":")[0] in str(message.blocks)


# -------------------------------------------------------- 44: service recovery ----


@dataclass(frozen=True)
class Resting:
    state: FailureState
    idle_minutes: int  # since its last transition
    announced: bool  # for awaiting_approval: was the approval request ever posted?


restings = st.lists(
    st.builds(
        Resting,
        st.sampled_from([*sorted(RESTING), FailureState.RESOLVED, FailureState.ERRORED]),
        st.integers(0, 600),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=examples(25), phases=NO_EXPLAIN)
@given(restings, st.integers(0, 600))
def test_the_sweep_resends_exactly_the_stuck_failures_their_next_task_each_time_it_is_due(
    sandbox: GitHubSandbox,  # noqa: F811
    sessions: sessionmaker[Session],  # noqa: F811
    failures: list[Resting],
    outage_minutes: int,
) -> None:
    """Property 44 (Error Handling): after an outage of any length that lost the broker's
    messages, the reconcile sweep re-sends to every failure idle past the deadline in a state
    that waits on a task (an approval only if it was never announced) exactly the task that
    moves it on, once per sweep; it leaves alone the terminal ones, the recent ones and those
    waiting for a human, and sends them again only once they are stuck again."""
    empty_failures(sessions)
    repository = f"{fresh_owner()}/stuck"
    base = utcnow()
    ids = []
    for spec in failures:
        failure_id = detected_failure(sessions, sandbox, repository)
        ids.append(failure_id)
        with sessions() as session, session.begin():
            session.execute(
                update(Failure)
                .where(Failure.id == failure_id)
                .values(state=spec.state, updated_at=base - timedelta(minutes=spec.idle_minutes))
            )
            if spec.state is FailureState.AWAITING_APPROVAL:
                session.add(
                    ApprovalRequest(
                        failure_id=failure_id,
                        action=ActionKind.RERUN_FAILED_JOBS,
                        expires_at=base + timedelta(hours=24),
                        notified_at=base if spec.announced else None,
                    )
                )
    # The broker lost every message; the sweep runs when the outage ends.
    now = base + timedelta(minutes=outage_minutes)

    def sweep(at: datetime) -> list[tuple[Step, int | None]]:
        with sessions() as session, session.begin():
            result = find_stuck_failures(session, stuck_after=STUCK_AFTER, now=at)
        return sorted(
            ((f.step, f.failure_id) for f in result.follow_ups if f.failure_id in ids),
            key=lambda pair: (pair[1] or 0, pair[0].value),
        )

    waits_on_a_task = [
        (RESTING[spec.state], failure_id)
        for spec, failure_id in zip(failures, ids, strict=True)
        if spec.state in RESTING
        and not (spec.state is FailureState.AWAITING_APPROVAL and spec.announced)
    ]
    idle = dict(zip(ids, (spec.idle_minutes for spec in failures), strict=True))
    stuck_now = [
        pair
        for pair in waits_on_a_task
        if timedelta(minutes=idle[pair[1]] + outage_minutes) > STUCK_AFTER
    ]
    assert sweep(now) == stuck_now
    assert sweep(now) == []  # re-sent once: stamped, not again in the same breath
    # Still not moved a deadline later (the re-sent task was lost too): every one again.
    assert sweep(now + STUCK_AFTER * 2) == waits_on_a_task


@settings(max_examples=examples(12), phases=NO_EXPLAIN)
@given(st.lists(st.sampled_from([500, 502, 503, 504]), max_size=12))
def test_after_a_github_outage_of_any_length_the_analysis_resumes_and_completes(
    sandbox: GitHubSandbox,  # noqa: F811
    sessions: sessionmaker[Session],  # noqa: F811
    redis_client: redis.Redis,  # noqa: F811
    outage: list[int],
) -> None:
    """Property 44 (Error Handling): whatever GitHub answers during an outage of any length,
    the analyze task never gives the failure up: each delivery stops after one call's three
    attempts and leaves it detected, the reconcile sweep re-sends it, and the delivery after
    the outage ends analyzes it (the number of deliveries is one more than the outage's
    length divided by the attempts, rounded down)."""
    from workers.tasks import analyze as analyze_task

    empty_failures(sessions)
    base = services_on(sandbox, sessions)
    services = Services(base.config, read_retry_sleep=no_sleep)
    services.sessions = sessions
    set_services(services)
    repository = f"{fresh_owner()}/outage"
    failure_id = detected_failure(sessions, sandbox, repository)
    for status in outage:  # one answer each, in this order, to whatever is asked of GitHub
        sandbox.inject_error(status, path_pattern=rf"/repos/{repository}/.*")
    deliveries = 0
    sweep_at = utcnow()
    while state_of(sessions, failure_id) is FailureState.DETECTED:
        deliveries += 1
        assert deliveries <= len(outage) + 1
        with (
            as_a_worker_runs(analyze_task, retries=0, failure_id=failure_id) as task,
            contextlib.suppress(TransientGitHubError),
        ):
            task.run(failure_id=failure_id)
        if state_of(sessions, failure_id) is FailureState.DETECTED:
            # Left for the sweep (no retry on top of the gateway's): the sweep re-sends it.
            sweep_at += STUCK_AFTER * 2
            with sessions() as session, session.begin():
                resent = find_stuck_failures(session, stuck_after=STUCK_AFTER, now=sweep_at)
            assert (Step.ANALYZE, failure_id) in [(f.step, f.failure_id) for f in resent.follow_ups]
    assert state_of(sessions, failure_id) is FailureState.ANALYZED
    assert deliveries == len(outage) // READ_ATTEMPTS + 1


# ------------------------------------------------------------ 45: API retry logic ----

answers = st.lists(
    st.sampled_from([None, 500, 502, 503, 504, 408, 400, 404, 410, 422, 401]),
    min_size=1,
    max_size=5,
)
TRANSIENT = frozenset({500, 502, 503, 504, 408})  # README: transient errors are retried


@dataclass
class Sleeps:
    waits: list[float]

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@settings(max_examples=examples(60), phases=NO_EXPLAIN)
@given(answers, st.sampled_from([0.0, 0.1, 0.5, 2.0]), st.booleans())
def test_reads_are_retried_with_backoff_up_to_three_attempts_and_writes_never(
    sandbox: GitHubSandbox,  # noqa: F811
    schedule: list[int | None],
    wait_s: float,
    mutating: bool,
) -> None:
    """Property 45 (Error Handling): for any schedule of GitHub answers, a read is attempted
    until it succeeds, meets a permanent error or has made three attempts, waiting between
    attempts exponentially longer (base, then twice the base, plus up to a second of jitter,
    never over 8 s); a rerun request is sent exactly once whatever GitHub answers (it may
    have worked). The attempts are what GitHub received."""
    repository = f"{fresh_owner()}/retries"
    run_id = sandbox.add_failed_run(repository, workflow_name="CI", job_name="t", log_text=LOG)
    path = rf"/repos/{repository}/actions/runs/{run_id}" + ("/rerun" if mutating else "")
    # The attempts the README's rule allows: until a success or a permanent error, at most
    # three (a rerun request: one). Only those answers are scripted; an attempt more would
    # meet GitHub's normal answer and show in the count.
    expected = 0
    for status in [*schedule, None][: 1 if mutating else READ_ATTEMPTS]:
        expected += 1
        if status is not None:
            sandbox.inject_error(status, path_pattern=path, message=f"scripted {status}")
        if status not in TRANSIENT:
            break
    sleeps = Sleeps([])
    with (
        gateway_on(sandbox, read_retry_wait_s=wait_s, read_retry_sleep=sleeps) as gateway,
        contextlib.suppress(Exception),
    ):
        if mutating:
            gateway.rerun_run(repository, run_id)
        else:
            gateway.get_run(repository, run_id)

    sent = sandbox.count("POST" if mutating else "GET", path)
    assert sent == expected
    assert len(sleeps.waits) == expected - 1
    for attempt, waited in enumerate(sleeps.waits):
        floor = min(wait_s * 2**attempt, 8.0)
        assert floor <= waited <= min(floor + 1.0, 8.0)


@settings(max_examples=examples(20), phases=NO_EXPLAIN)
@given(st.lists(st.sampled_from(["transient", "database", "broker"]), min_size=1, max_size=8))
def test_a_task_retries_a_transient_error_at_most_three_times_then_gives_up(
    sandbox: GitHubSandbox,  # noqa: F811
    sessions: sessionmaker[Session],  # noqa: F811
    redis_client: redis.Redis,  # noqa: F811
    faults: list[str],
) -> None:
    """Property 45 (Error Handling): a task whose step keeps hitting transient errors (a
    GitHub call that was not retried already, a dropped database or broker connection) is
    retried with a growing countdown at most three times, then the failure is errored: the
    number of runs of a task for one message is bounded by four whatever the fault schedule."""
    from workers.tasks import gate

    empty_failures(sessions)
    set_services(services_on(sandbox, sessions))
    failure_id = detected_failure(sessions, sandbox, f"{fresh_owner()}/task-retries")
    make = {
        "transient": lambda: TransientGitHubError("502", status=502),
        "database": lambda: OperationalError("SELECT 1", {}, Exception("server closed")),
        "broker": lambda: redis.exceptions.ConnectionError("broker gone"),
    }
    runs = 0
    countdowns = []
    for retries, fault in enumerate(faults):
        runs += 1
        with as_a_worker_runs(gate, retries=retries, failure_id=failure_id) as task:
            try:
                task._handle_error(make[fault](), failure_id=failure_id)
            except Retry as retry:
                countdowns.append(float(retry.when))  # type: ignore[arg-type]
                continue
        break  # no retry was sent: this message is done
    assert runs == min(len(faults), MAX_RETRIES + 1)
    assert len(countdowns) == min(len(faults), MAX_RETRIES)
    for retries, countdown in enumerate(countdowns):
        assert 0 <= countdown <= min(600.0, 5.0 * 2**retries)  # full jitter, growing cap
    expected = FailureState.ERRORED if len(faults) > MAX_RETRIES else FailureState.DETECTED
    assert state_of(sessions, failure_id) is expected


# ------------------------------------------------------- 46: remediation rollback ----

REVERSIBLE_RERUNS = [
    ActionKind.RERUN_FAILED_JOBS,
    ActionKind.RERUN_WORKFLOW,
    ActionKind.RERUN_WITH_DEBUG_LOGGING,
    ActionKind.CLEAR_CACHE_AND_RERUN,
]
VERIFY_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class RollbackCase:
    action: ActionKind
    rerun: str  # what the new attempt concludes
    polls_until_complete: int  # GETs of the new attempt before it completes
    checks_before_deadline: int
    crashes: int  # rollback deliveries whose worker died before the commit
    redeliveries: int  # deliveries after the rollback committed


rollback_cases = st.builds(
    RollbackCase,
    st.sampled_from(REVERSIBLE_RERUNS),
    st.sampled_from(["success", "failure"]),
    st.one_of(st.integers(1, 5), st.just(10_000)),
    st.integers(0, 3),
    st.integers(0, 2),
    st.integers(0, 2),
)


def executing(
    db: sessionmaker[Session], github: GitHubSandbox, services: Services, case: RollbackCase
) -> int:
    """A network-blip failure taken through analysis, the gate (automatic rerun) and
    execution of `case.action`: verifying, its new attempt started."""
    repository = f"{fresh_owner()}/rollback"
    failure_id = detected_failure(
        db,
        github,
        repository,
        log_text=demo_log("network_blip.log"),
        rerun_conclusions=(case.rerun,),
        polls_until_complete=case.polls_until_complete,
    )
    with gateway_on(github) as gateway:
        analyze(db, gateway, failure_id)
        with db() as session, session.begin():
            gated = gate_failure(session, failure_id=failure_id, config=services.config)
            assert Step.EXECUTE in [f.step for f in gated.follow_ups]
            remediation = session.scalar(
                select(Remediation).where(Remediation.failure_id == failure_id)
            )
            assert remediation is not None
            remediation.action = case.action  # any reversible rerun the gate could choose
            if case.action is ActionKind.CLEAR_CACHE_AND_RERUN:
                remediation.parameters = {"cache_keys": ["deps-main"]}
        # A cache clear deletes in a step of its own, which sends execute again for the rerun.
        for _ in range(2):
            with db() as session, session.begin():
                executed = execute_remediation(
                    session, failure_id=failure_id, gateway=gateway, verify_after_s=0
                )
            if FollowUp(Step.EXECUTE, failure_id) not in executed.follow_ups:
                break
    return failure_id


@settings(max_examples=examples(12), phases=NO_EXPLAIN)
@given(rollback_cases)
def test_a_remediation_still_running_at_the_deadline_is_rolled_back_exactly_once(
    sandbox: GitHubSandbox,  # noqa: F811
    sessions: sessionmaker[Session],  # noqa: F811
    redis_client: redis.Redis,  # noqa: F811
    case: RollbackCase,
) -> None:
    """Property 46 (Error Handling): a rerun whose attempt is still running at the verify
    deadline is cancelled exactly once, however often the rollback is delivered and whether
    or not a worker died after GitHub acted, and the failure ends rolled back; one that
    finished before (or between the deadline and the rollback) is never cancelled: resolved,
    or escalated; the rollback is asked for at most once."""
    empty_failures(sessions)
    services = services_on(sandbox, sessions)
    failure_id = executing(sessions, sandbox, services, case)
    with sessions() as session:
        remediation = session.scalar(
            select(Remediation).where(Remediation.failure_id == failure_id)
        )
        assert remediation is not None
        assert remediation.requested_at is not None
        requested_at, run_id = remediation.requested_at, remediation.run_id
    checks = [
        requested_at + VERIFY_TIMEOUT * (i + 1) / (case.checks_before_deadline + 1)
        for i in range(case.checks_before_deadline)
    ] + [requested_at + VERIFY_TIMEOUT, requested_at + VERIFY_TIMEOUT * 2]
    rollbacks = 0
    with gateway_on(sandbox) as gateway:
        for at in checks:
            with sessions() as session, session.begin():
                result = verify_remediation(
                    session, failure_id=failure_id, gateway=gateway, timeout=VERIFY_TIMEOUT, now=at
                )
            rollbacks += [f.step for f in result.follow_ups].count(Step.ROLLBACK)
        for _ in range(case.crashes):  # GitHub acted, the worker died before the commit
            with sessions() as session:
                roll_back_remediation(session, failure_id=failure_id, gateway=gateway)
                session.rollback()
        for _ in range(1 + case.redeliveries):
            with sessions() as session, session.begin():
                roll_back_remediation(session, failure_id=failure_id, gateway=gateway)

    # The attempt completes once GitHub has been asked about it `polls_until_complete` times;
    # each GET answers with the state before it. The verify checks are GETs 1..checks (the
    # last at the deadline), the rollback's look is the next one, then its cancel.
    polls, checks = case.polls_until_complete, case.checks_before_deadline + 1
    cancels = sandbox.count("POST", rf"/repos/.*/actions/runs/{run_id}/cancel")
    state = state_of(sessions, failure_id)
    if polls < checks:  # a check saw it completed: judged, nothing to undo
        assert (rollbacks, cancels) == (0, 0)
        ended = FailureState.RESOLVED if case.rerun == "success" else FailureState.ESCALATED
        assert state is ended
    elif polls == checks:  # done by the time the rollback looked
        assert (rollbacks, cancels) == (1, 0)
        assert state is FailureState.ESCALATED
    elif polls == checks + 1:  # done by the time the cancel arrived: GitHub refused it
        assert (rollbacks, cancels) == (1, 1)
        assert state is FailureState.ESCALATED
    else:
        assert (rollbacks, cancels) == (1, 1)
        assert state is FailureState.ROLLED_BACK
    with sessions() as session:
        moved = session.scalar(
            select(func.count()).where(
                AuditEntry.failure_id == failure_id, AuditEntry.to_state == state.value
            )
        )
        notices = session.scalar(
            select(func.count()).where(
                Notification.failure_id == failure_id, Notification.event == state.value
            )
        )
    assert moved == 1  # one transition into the end state, audited once
    assert notices == 1  # and one message saying so
