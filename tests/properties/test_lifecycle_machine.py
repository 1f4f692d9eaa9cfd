"""The failure lifecycle as a state machine that hypothesis drives through any interleaving.

Failed runs appear in the GitHub sandbox and are recorded by webhook or poll (and delivered
again); the pipeline's step functions run in process on the real Postgres, against the GitHub
sandbox over HTTP and Slack's, in any order and any number of times, two at once, or dying
between their GitHub call and their commit; approvers click (twice, two at once, too late, or
not being approvers), the approval clock runs out, verification times out, the reconcile sweep
re-sends what looks stuck, retries run out.

After every step the machine checks what the design promises whatever happened: each failure
is in a state the lifecycle allows and its audit trail is its transitions, one entry each, in
order, never rewritten; every GitHub side effect was asked for at most once per failure (the
sandbox's request log says), exactly once when the remediation says it acted; nothing reached
GitHub without an `auto` verdict or a human's approval.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar, cast

import pytest
import redis
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.analysis.rules import KnowledgeBase, load_knowledge_base
from ci_remediator.config import AppConfig, FileConfig, load_config
from ci_remediator.db.base import Base, utcnow
from ci_remediator.db.models import (
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
    Failure,
    GateDecision,
    Remediation,
    RemediationStatus,
)
from ci_remediator.db.transitions import StaleStateError, mark_errored
from ci_remediator.domain import (
    ALLOWED_TRANSITIONS,
    ActionKind,
    Decision,
    FailureState,
    FollowUp,
    Step,
    StepResult,
    Verdict,
)
from ci_remediator.github.gateway import GitHubGateway
from ci_remediator.github.read_cache import RedisReadCache
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.approve import request_approval
from ci_remediator.pipeline.decide import DecisionOutcome, decide_approval
from ci_remediator.pipeline.detect import poll_repository
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.expire import expire_approvals
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.notify import notify_stage
from ci_remediator.pipeline.reconcile import find_stuck_failures
from ci_remediator.pipeline.rollback import roll_back_remediation
from ci_remediator.pipeline.verify import verify_remediation
from ci_remediator.pipeline.webhook import handle_delivery
from ci_remediator.policy.catalog import RERUNS
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import demo_log
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.sandbox.webhook_sender import workflow_run_payload
from ci_remediator.slack.notifier import SlackNotifier
from tests.integration.conftest import engine, redis_client  # noqa: F401 - session fixtures
from tests.properties.profiles import NO_EXPLAIN, examples

WEB = "acme/web"  # the defaults: a network blip is re-run automatically
PAYMENTS = "acme/payments"  # protected: every remediation waits for a human
TRACK = "acme/track"  # infrastructure failures get a tracking issue, automatically
OPS = "acme/ops"  # protected, and infrastructure failures dispatch the remediation workflow
REPOSITORIES = (WEB, PAYMENTS, TRACK, OPS)
REMEDIATION_WORKFLOW = ".github/workflows/remediate.yml"
APPROVER, INTRUDER = "U0APPROVER", "U0INTRUDER"
TOKEN = "ghp_lifecycle_machine_token"
VERIFY_TIMEOUT = timedelta(minutes=120)
STUCK_AFTER = timedelta(minutes=15)

CONFIG = FileConfig.model_validate(
    {
        "repositories": list(REPOSITORIES),
        "protected_repositories": [PAYMENTS, OPS],
        "approvers": [APPROVER],
        "approval_timeout_hours": 1,
        "repository_configs": {
            TRACK: {
                "category_actions": {
                    "infrastructure": ["open_tracking_issue"],
                    "flaky_test": ["open_tracking_issue"],
                }
            },
            OPS: {
                "remediation_workflows": ["remediate.yml"],
                "category_actions": {"infrastructure": ["dispatch_remediation_workflow"]},
            },
        },
    }
)
# What the rules make of each: infrastructure and flaky (a remediation), a dependency outage
# (a re-run everywhere), a compile error (nothing safe to do: escalated).
LOGS = ("network_blip.log", "flaky_test.log", "registry_503.log", "compile_error.log")


T = TypeVar("T")


def pick(data: st.DataObject, choices: Sequence[T]) -> T:
    """One of `choices`, drawn as an index of a fixed range: how many there are depends on
    threads racing (two deliveries at once), and a strategy whose bounds change between
    replays of one example is an error to hypothesis (FlakyStrategyDefinition)."""
    return choices[data.draw(st.integers(0, 2**16)) % len(choices)]


class Crash(StrEnum):
    NONE = "none"
    # The worker dies right after its first GitHub write went out, before its commit.
    AFTER_GITHUB_WRITE = "after_github_write"
    # The step ran to its end; the worker dies before the commit.
    BEFORE_COMMIT = "before_commit"


class SimulatedCrash(Exception):
    """The worker died here: nothing after this point ran and its transaction never committed."""


GITHUB_WRITES = frozenset(
    {
        "rerun_failed_jobs",
        "rerun_run",
        "cancel_run",
        "delete_caches",
        "create_issue",
        "close_issue",
        "dispatch_workflow",
    }
)

# The steps whose tasks ask GitHub to change something (the others only read it).
WRITING_STEPS = frozenset({Step.EXECUTE, Step.ROLLBACK})


class CrashAfterWrite:
    """A gateway whose first write reaches GitHub, after which the worker dies."""

    def __init__(self, inner: GitHubGateway) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in GITHUB_WRITES:
            return attribute

        def written_then_died(*args: Any, **kwargs: Any) -> Any:
            attribute(*args, **kwargs)
            raise SimulatedCrash(f"died after {name}")

        return written_then_died


# ----------------------------------------------------------------------------- world ----


@dataclass
class World:
    """What outlives one example: the database, Redis, Slack, the policy, the rules."""

    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    slack: SlackSandbox
    config: AppConfig
    knowledge_base: KnowledgeBase
    notifier: SlackNotifier


_world: World | None = None


@pytest.fixture(scope="module", autouse=True)
def lifecycle_world(
    engine: Engine,  # noqa: F811 - the session fixture imported above
    redis_client: redis.Redis,  # noqa: F811
) -> Iterator[World]:
    """The world every machine of this module runs in (a state machine's examples cannot take
    pytest fixtures themselves)."""
    global _world  # noqa: PLW0603 - handed to the machines, which hypothesis instantiates
    settings_ = load_config().settings
    config = AppConfig(settings=settings_, file=CONFIG)
    with SlackSandbox() as slack:
        _world = World(
            engine=engine,
            sessions=sessionmaker(engine, expire_on_commit=False),
            redis=redis_client,
            slack=slack,
            config=config,
            knowledge_base=load_knowledge_base(None),
            notifier=SlackNotifier(
                token=BOT_TOKEN,
                api_url=slack.api_url,
                channels_for=lambda repository: config.policy_for(repository).slack_channels,
                default_channels=config.file.slack_channels,
            ),
        )
        yield _world
        _world = None
    redis_client.flushdb()


def current_world() -> World:
    if _world is None:
        raise RuntimeError("the lifecycle machines run only under the lifecycle_world fixture")
    return _world


def clear_database(database: Engine) -> None:
    """Every row goes (the caps and the breaker count across failures); faster than TRUNCATE
    on tables this small."""
    with database.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


# --------------------------------------------------------------------------- machine ----


@dataclass(frozen=True)
class Delivery:
    result: StepResult | None = None
    died: bool = False  # the worker died before its commit


@dataclass(frozen=True)
class RunSpec:
    """A failed run as it appears in GitHub, and who tells ci-remediator about it."""

    repository: str
    log: str
    shared_branch: bool
    rerun: str  # what its rerun concludes
    polls: int  # how many reads the rerun stays queued or running
    detected_by: str


def run_specs() -> st.SearchStrategy[RunSpec]:
    return st.builds(
        RunSpec,
        repository=st.sampled_from(REPOSITORIES),
        log=st.sampled_from(LOGS),
        # Mostly a branch of its own: runs on a shared one supersede each other.
        shared_branch=st.sampled_from([False, False, False, True]),
        rerun=st.sampled_from(["success", "failure"]),
        polls=st.integers(min_value=0, max_value=2),
        detected_by=st.sampled_from(["webhook", "webhook", "poll", "nobody yet"]),
    )


@dataclass(frozen=True)
class RunRef:
    repository: str
    run_id: int


@dataclass
class Facts:
    """What one invariant pass read, in one transaction."""

    failures: dict[int, Failure] = field(default_factory=dict)
    chains: dict[int, list[tuple[str | None, str | None, str]]] = field(default_factory=dict)
    verdicts: dict[int, Verdict] = field(default_factory=dict)
    approvals: dict[int, ApprovalRequest] = field(default_factory=dict)
    remediations: dict[int, list[Remediation]] = field(default_factory=dict)


RERUN_PATH = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/actions/runs/(?P<run>\d+)/(?P<what>.+)")
ISSUE_PATH = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues")
DISPATCH_PATH = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/actions/workflows/[^/]+/dispatches")
ISSUE_RUN = re.compile(r"\[run (\d+)\]")


class LifecycleMachine(RuleBasedStateMachine):
    """Failures, steps, clicks, clocks and crashes in any order (no property of its own: the
    TestCases below carry them)."""

    runs = Bundle("runs")

    def __init__(self) -> None:
        super().__init__()
        self.world = current_world()
        clear_database(self.world.engine)
        self.world.redis.flushdb()
        self.github = GitHubSandbox().start()
        for repository in REPOSITORIES:
            self.github.add_repository(repository)
        self.github.add_workflow(OPS, "Remediate", path=REMEDIATION_WORKFLOW, dispatchable=True)
        self._local = threading.local()
        self._gateways: list[GitHubGateway] = []
        self._branches = 0
        # The broker: task messages sent and not yet acknowledged, delivered in any order.
        self.queue: list[FollowUp] = []
        self.known_runs: list[RunRef] = []
        self.announced: set[tuple[RunRef, int]] = set()  # attempts GitHub sent webhooks of
        # The audit trail each failure had when last looked at: it may only grow.
        self.seen_chains: dict[int, list[tuple[str | None, str | None, str]]] = {}
        # Approvals whose deadline the machine's clock has passed: later clicks come late too.
        self.late: set[int] = set()
        # How many clicks each approval request was decided by (approved or rejected).
        self.deciding_clicks: Counter[int] = Counter()
        self.approved_by_click: set[int] = set()

    def teardown(self) -> None:
        # What the examples reached (`--hypothesis-show-statistics`): that they reach far.
        facts = self.facts()
        for failure in facts.failures.values():
            event(f"a failure ended {failure.state.value}")
        for what, _ in self.side_effects(facts):
            event(f"GitHub was asked to {what}")
        for gateway in self._gateways:
            gateway.close()
        self.github.stop()

    # -- plumbing ---------------------------------------------------------------------------

    def gateway(self) -> GitHubGateway:
        """This thread's gateway (PyGithub's requester is not shared between threads), on the
        read cache every worker shares."""
        gateway: GitHubGateway | None = getattr(self._local, "gateway", None)
        if gateway is None:
            gateway = GitHubGateway(
                base_url=self.github.url,
                token=TOKEN,
                read_cache=RedisReadCache(self.world.redis, prefix="life"),
                cache_scope="life",
            )
            self._local.gateway = gateway
            self._gateways.append(gateway)
        return gateway

    def run_step(
        self, work: Callable[[Session, GitHubGateway], StepResult | None], crash: Crash
    ) -> Delivery:
        """One delivery of a task: its own transaction, committed at the end, rolled back if
        the worker dies first or another worker moved the failure first (as the base task)."""
        gateway = self.gateway()
        if crash is Crash.AFTER_GITHUB_WRITE:
            gateway = cast(GitHubGateway, CrashAfterWrite(gateway))
        try:
            with self.world.sessions() as session, session.begin():
                result = work(session, gateway)
                if crash is Crash.BEFORE_COMMIT:
                    raise SimulatedCrash("died before the commit")
        except SimulatedCrash as death:
            event(f"a worker {death}")
            return Delivery(died=True)
        except StaleStateError:
            return Delivery()
        return Delivery(result)

    def failure_id(self, run: RunRef) -> int | None:
        with self.world.sessions() as session:
            return session.scalar(
                select(Failure.id).where(
                    Failure.repository == run.repository,
                    Failure.run_id == run.run_id,
                    Failure.run_attempt == 1,
                )
            )

    def state_of(self, failure_id: int) -> FailureState:
        with self.world.sessions() as session:
            state = session.scalar(select(Failure.state).where(Failure.id == failure_id))
            assert state is not None
            return state

    def step_work(
        self, step: Step, failure_id: int
    ) -> Callable[[Session, GitHubGateway], StepResult | None]:
        """The step function a task of `step` calls, with what the task would pass it."""
        world = self.world
        steps: dict[Step, Callable[[Session, GitHubGateway], StepResult]] = {
            Step.ANALYZE: lambda session, gateway: analyze_failure(
                session,
                failure_id=failure_id,
                gateway=gateway,
                knowledge_base=world.knowledge_base,
                llm_config=world.config.file.llm,
                burst_window=timedelta(minutes=world.config.file.noise_window_minutes),
            ),
            Step.GATE: lambda session, _: gate_failure(
                session, failure_id=failure_id, config=world.config
            ),
            Step.REQUEST_APPROVAL: lambda session, _: request_approval(
                session, failure_id=failure_id
            ),
            Step.EXECUTE: lambda session, gateway: execute_remediation(
                session, failure_id=failure_id, gateway=gateway, verify_after_s=0
            ),
            Step.VERIFY: lambda session, gateway: verify_remediation(
                session,
                failure_id=failure_id,
                gateway=gateway,
                timeout=VERIFY_TIMEOUT,
                knowledge_base=world.knowledge_base,
            ),
            Step.ROLLBACK: lambda session, gateway: roll_back_remediation(
                session, failure_id=failure_id, gateway=gateway
            ),
            Step.NOTIFY: lambda session, _: notify_stage(
                session,
                failure_id=failure_id,
                notifier=world.notifier,
                notifier_credential="slack:lifecycle",
                noise_control=True,
            ),
        }
        return steps[step]

    def at_once(self, *works: Callable[[], object]) -> None:
        """Run the works on threads released together: two workers, one message each."""
        barrier = threading.Barrier(len(works))
        errors: list[BaseException] = []

        def worker(work: Callable[[], object]) -> None:
            try:
                barrier.wait(timeout=30)
                work()
            except BaseException as error:  # noqa: BLE001 - re-raised on the main thread
                errors.append(error)
            finally:
                gateway = getattr(self._local, "gateway", None)
                if gateway is not None:
                    gateway.close()
                    self._gateways.remove(gateway)

        threads = [threading.Thread(target=worker, args=(work,)) for work in works]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), "a worker never finished: a deadlock"
        if errors:
            raise errors[0]

    def deliver(self, message: FollowUp, crash: Crash) -> None:
        """A worker takes the message and runs its step; the message is acknowledged after the
        step's commit (acks_late), so a worker that dies leaves it to be delivered again, and a
        step still waiting (a rerun running) is sent again by the task's countdown retry."""
        if message.failure_id is None:
            raise AssertionError(f"{message} names no failure")
        before = (self.state_of(message.failure_id), self.read_chain(message.failure_id))
        delivery = self.run_step(self.step_work(message.step, message.failure_id), crash)
        if delivery.died:
            after = (self.state_of(message.failure_id), self.read_chain(message.failure_id))
            assert after == before, f"a worker that died left its work behind: {before} -> {after}"
            return
        self.queue.remove(message)
        if delivery.result is not None and delivery.result.waiting:
            self.queue.append(message)  # the task's countdown retry: behind what is queued
        else:
            self.send(delivery)
        self.github_announces_completed_attempts()

    def github_announces_completed_attempts(self) -> None:
        """GitHub sends `workflow_run` completed for each attempt that completes: our reruns'
        too, which belong to their failures and must never become failures of their own."""
        for run in self.known_runs:
            for attempt in self.github.attempts(run.repository, run.run_id):
                announced = (run, attempt.number)
                if attempt.status == "completed" and announced not in self.announced:
                    self.announced.add(announced)
                    self.github_reports(run, "webhook", Crash.NONE)

    def a_pipeline_message(self, data: st.DataObject, *, writing: bool = False) -> FollowUp:
        """A message of a pipeline step (notify messages, the most numerous, only when there is
        no other); `writing`: of a step that writes to GitHub, when there is one."""
        moving = [message for message in self.queue if message.step is not Step.NOTIFY]
        writers = [message for message in moving if message.step in WRITING_STEPS]
        return pick(data, (writing and writers) or moving or self.queue)

    def send(self, delivery: Delivery) -> None:
        """The follow-ups of a committed step go to the broker."""
        if delivery.result is not None and not delivery.died:
            self.queue.extend(f for f in delivery.result.follow_ups if f.failure_id is not None)

    def read_chain(self, failure_id: int) -> list[tuple[str | None, str | None, str]]:
        with self.world.sessions() as session:
            return [
                (entry.from_state, entry.to_state, entry.action)
                for entry in session.scalars(
                    select(AuditEntry)
                    .where(
                        AuditEntry.failure_id == failure_id,
                        AuditEntry.action.in_(("detected", "transition")),
                    )
                    .order_by(AuditEntry.id)
                )
            ]

    def decide(self, approval_id: int, decision: Decision, clicker: str, *, late: bool) -> None:
        """One click, in its own transaction, at the machine's clock for this request."""
        with self.world.sessions() as session:
            expires_at = session.scalar(
                select(ApprovalRequest.expires_at).where(ApprovalRequest.id == approval_id)
            )
        assert expires_at is not None
        now = expires_at + timedelta(seconds=1) if late else None
        with self.world.sessions() as session, session.begin():
            result = decide_approval(
                session,
                approval_id=approval_id,
                decision=decision,
                decided_by=clicker,
                via="slack",
                config=self.world.config,
                now=now,
            )
        self.send(Delivery(result))
        if result.outcome in (DecisionOutcome.APPROVED, DecisionOutcome.REJECTED):
            self.deciding_clicks[approval_id] += 1
        if result.outcome is DecisionOutcome.APPROVED:
            self.approved_by_click.add(approval_id)

    def an_approval_request(self, data: st.DataObject) -> int | None:
        """One of the requests there are, a pending one when there is one (clicks on decided
        ones are the double clicks); None when the gate has asked nobody yet."""
        with self.world.sessions() as session:
            requests = dict(
                session.execute(select(ApprovalRequest.id, ApprovalRequest.status)).all()
            )
        pending = sorted(i for i, status in requests.items() if status is ApprovalStatus.PENDING)
        if not requests:
            return None
        return pick(data, pending or sorted(requests))

    def sweep_expired(self) -> None:
        """The expiry beat at a moment past the deadline of every request there is."""
        with self.world.sessions() as session, session.begin():
            deadlines = dict(
                session.execute(select(ApprovalRequest.id, ApprovalRequest.expires_at)).all()
            )
            moment = max(deadlines.values(), default=utcnow()) + timedelta(minutes=1)
            self.late.update(deadlines)
            result = expire_approvals(session, now=moment)
        self.send(Delivery(result))

    # -- rules: GitHub and detection --------------------------------------------------------

    def add_run(self, spec: RunSpec) -> RunRef:
        # Runs on a shared branch supersede each other; dispatches are told apart by branch.
        self._branches += 1
        shared = spec.shared_branch and spec.repository != OPS
        run_id = self.github.add_failed_run(
            spec.repository,
            workflow_name="CI",
            job_name="test",
            log_text=demo_log(spec.log),
            rerun_conclusions=(spec.rerun,),
            polls_until_complete=spec.polls,
            head_branch="main" if shared else f"topic/{self._branches}",
        )
        run = RunRef(spec.repository, run_id)
        self.known_runs.append(run)
        # Its failed attempt's webhook is sent (or lost, "nobody yet") here.
        self.announced.add((run, 1))
        if spec.detected_by != "nobody yet":
            self.github_reports(run, spec.detected_by, Crash.NONE)
        return run

    def github_reports(self, run: RunRef, via: str, crash: Crash) -> None:
        """A webhook delivery of the run's latest attempt, or a poll of its repository."""
        if via == "webhook":
            payload = workflow_run_payload(self.github, run.repository, run.run_id)
            reported = self.run_step(
                lambda session, _: handle_delivery(
                    session,
                    event="workflow_run",
                    delivery_id=str(uuid.uuid4()),
                    payload=payload,
                    configured_repositories=CONFIG.repositories,
                ),
                crash,
            )
        else:
            reported = self.run_step(
                lambda session, gateway: poll_repository(
                    session,
                    gateway=gateway,
                    repository=run.repository,
                    lookback=timedelta(hours=24),
                ),
                crash,
            )
        self.send(reported)

    @initialize(target=runs, specs=st.lists(run_specs(), min_size=1, max_size=4))
    def runs_fail(self, specs: list[RunSpec]) -> MultipleResults[RunRef]:
        """A few failed runs (few enough that their lifecycles get far within an example)."""
        return multiple(*(self.add_run(spec) for spec in specs))

    @rule(
        run=runs,
        via=st.sampled_from(["webhook", "poll"]),
        crash=st.sampled_from([Crash.NONE, Crash.BEFORE_COMMIT]),
    )
    def github_reports_again(self, run: RunRef, via: str, crash: Crash) -> None:
        """A redelivered webhook or another poll: of the same failed attempt, or of the attempt
        our own rerun started, which belongs to its failure and is never one of its own."""
        self.github_reports(run, via, crash)

    # -- rules: the broker and the workers --------------------------------------------------

    # Three ways workers take messages, so that the rule sets hypothesis switches off in an
    # example (swarm testing) seldom stop every worker.

    @precondition(lambda self: self.queue)
    @rule(messages=st.integers(min_value=1, max_value=12))
    def workers_take_messages_in_order(self, messages: int) -> None:
        for _ in range(messages):
            if not self.queue:
                return
            self.deliver(self.queue[0], Crash.NONE)

    @precondition(lambda self: self.queue)
    @rule(data=st.data(), messages=st.integers(min_value=1, max_value=12))
    def workers_take_messages_in_any_order(self, data: st.DataObject, messages: int) -> None:
        for _ in range(messages):
            if not self.queue:
                return
            self.deliver(pick(data, self.queue), Crash.NONE)

    @precondition(lambda self: self.queue)
    @rule(
        data=st.data(),
        crash=st.sampled_from([Crash.AFTER_GITHUB_WRITE, Crash.BEFORE_COMMIT]),
    )
    def a_worker_dies_mid_task(self, data: st.DataObject, crash: Crash) -> None:
        """Between its GitHub call and its commit, or just before the commit: the message
        stays in the broker and is delivered again."""
        message = self.a_pipeline_message(data, writing=crash is Crash.AFTER_GITHUB_WRITE)
        self.deliver(message, crash)

    @precondition(lambda self: self.queue)
    @rule(data=st.data(), mishap=st.sampled_from(["delivered twice at once", "lost"]))
    def the_broker_misbehaves(self, data: st.DataObject, mishap: str) -> None:
        """A message goes to two workers at once (its visibility timeout ran out), or Redis
        loses it (only the reconcile sweep, reading Postgres, brings it back)."""
        message = self.a_pipeline_message(data)
        if mishap == "lost":
            self.queue.remove(message)
            return
        assert message.failure_id is not None
        work = self.step_work(message.step, message.failure_id)
        deliveries: list[Delivery] = []
        self.at_once(*(lambda: deliveries.append(self.run_step(work, Crash.NONE)),) * 2)
        self.queue.remove(message)
        if any(d.result is not None and d.result.waiting for d in deliveries):
            self.queue.append(message)
        for delivery in deliveries:
            self.send(delivery)
        self.github_announces_completed_attempts()

    @rule(
        run=runs,
        step=st.sampled_from(
            [
                Step.ANALYZE,
                Step.GATE,
                Step.REQUEST_APPROVAL,
                Step.EXECUTE,
                Step.VERIFY,
                Step.ROLLBACK,
                Step.NOTIFY,
            ]
        ),
        crash=st.sampled_from(Crash),
    )
    def a_stray_task_arrives(self, run: RunRef, step: Step, crash: Crash) -> None:
        """Any step's task, whatever state the failure is in: long late, early, or again."""
        failure_id = self.failure_id(run)
        if failure_id is not None:
            message = FollowUp(step, failure_id)
            self.queue.append(message)
            self.deliver(message, crash)

    # -- rules: the clock -------------------------------------------------------------------

    @rule(
        run=runs,
        what=st.sampled_from(
            [
                "the verify deadline passes",
                "the verify deadline passes",
                "the approval deadlines pass",
                "the approval deadlines pass",
                "the reconcile sweep looks",
                "the reconcile sweep looks",
                "the retries run out",  # now and then
            ]
        ),
    )
    def time_passes(self, run: RunRef, what: str) -> None:
        if what == "the approval deadlines pass":
            self.sweep_expired()
            return
        if what == "the reconcile sweep looks":
            # What looks stuck to the sweep (a while from now) is sent again.
            swept = self.run_step(
                lambda session, _: find_stuck_failures(
                    session,
                    stuck_after=STUCK_AFTER,
                    now=utcnow() + STUCK_AFTER + timedelta(minutes=1),
                ),
                Crash.NONE,
            )
            self.send(swept)
            return
        failure_id = self.failure_id(run)
        if failure_id is None:
            return
        if what == "the verify deadline passes":
            # Verify past the deadline: the attempt may still be running.
            timed_out = self.run_step(
                lambda session, gateway: verify_remediation(
                    session,
                    failure_id=failure_id,
                    gateway=gateway,
                    timeout=VERIFY_TIMEOUT,
                    now=utcnow() + VERIFY_TIMEOUT + timedelta(minutes=1),
                ),
                Crash.NONE,
            )
            self.send(timed_out)
            self.github_announces_completed_attempts()
            return

        def give_up(session: Session, _: GitHubGateway) -> None:
            # The base task's last retry failed: errored, from whatever live state.
            mark_errored(session, failure_id=failure_id, error="retries exhausted", actor="test")

        self.run_step(give_up, Crash.NONE)

    # -- rules: people ----------------------------------------------------------------------

    @rule(
        data=st.data(),
        decision=st.sampled_from(Decision),
        other=st.sampled_from(Decision),
        how=st.sampled_from(
            [
                "an approver clicks",
                "an approver clicks late",
                "someone not an approver clicks",
                "two clicks at once",
                "a click races the expiry",
            ]
        ),
    )
    def people_click(
        self, data: st.DataObject, decision: Decision, other: Decision, how: str
    ) -> None:
        approval_id = self.an_approval_request(data)
        if approval_id is None:
            return
        late = approval_id in self.late or how == "an approver clicks late"
        if late:
            self.late.add(approval_id)
        if how == "two clicks at once":
            # A double click, or two approvers at the same instant.
            self.at_once(
                lambda: self.decide(approval_id, decision, APPROVER, late=late),
                lambda: self.decide(approval_id, other, APPROVER, late=late),
            )
        elif how == "a click races the expiry" and not late:
            # A click just before the deadline while the expiry beat sweeps just after it.
            self.at_once(
                lambda: self.decide(approval_id, decision, APPROVER, late=False),
                self.sweep_expired,
            )
        else:
            clicker = INTRUDER if how == "someone not an approver clicks" else APPROVER
            self.decide(approval_id, decision, clicker, late=late)

    # -- invariants -------------------------------------------------------------------------

    def facts(self) -> Facts:
        facts = Facts()
        with self.world.sessions() as session:
            for failure in session.scalars(select(Failure)):
                facts.failures[failure.id] = failure
                facts.chains[failure.id] = []
                facts.remediations[failure.id] = []
            for entry in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_(("detected", "transition")))
                .order_by(AuditEntry.id)
            ):
                assert entry.failure_id in facts.chains, f"an audit entry of no failure: {entry}"
                facts.chains[entry.failure_id].append(
                    (entry.from_state, entry.to_state, entry.action)
                )
            for decision in session.scalars(select(GateDecision)):
                facts.verdicts[decision.failure_id] = decision.verdict
            for approval in session.scalars(select(ApprovalRequest)):
                facts.approvals[approval.failure_id] = approval
            for remediation in session.scalars(select(Remediation).order_by(Remediation.id)):
                facts.remediations[remediation.failure_id].append(remediation)
        return facts

    def side_effects(self, facts: Facts) -> Counter[tuple[str, int]]:
        """(what, failure id) for every request that asked GitHub to change something."""
        by_run = {(f.repository, f.run_id): f.id for f in facts.failures.values()}
        by_branch = {(f.repository, f.head_branch): f.id for f in facts.failures.values()}
        effects: Counter[tuple[str, int]] = Counter()
        for request in self.github.requests:
            if request.method == "POST" and (match := RERUN_PATH.fullmatch(request.path)):
                key = (match["repo"], int(match["run"]))
                what = "cancel" if match["what"] == "cancel" else "rerun"
                failure = by_run.get(key)
                if failure is None and what == "cancel":
                    # A dispatched run's: its branch says whose it is.
                    branch = self.github.run_json(*key)["head_branch"]
                    failure = by_branch.get((match["repo"], branch))
                assert failure is not None, f"{request.path} for a run of no failure"
                effects[(what, failure)] += 1
            elif request.method == "POST" and (match := ISSUE_PATH.fullmatch(request.path)):
                found = ISSUE_RUN.search(json.loads(request.body)["body"])
                assert found is not None, "a tracking issue that names no run"
                effects[("issue", by_run[(match["repo"], int(found[1]))])] += 1
            elif request.method == "POST" and (match := DISPATCH_PATH.fullmatch(request.path)):
                ref = json.loads(request.body)["ref"]
                failure = by_branch[(match["repo"], ref.removeprefix("refs/heads/"))]
                effects[("dispatch", failure)] += 1
            elif request.method == "DELETE":
                raise AssertionError(f"no cache is configured, yet {request.path} was deleted")
        return effects

    @invariant()
    def the_lifecycle_promises_hold(self) -> None:
        facts = self.facts()  # read once: the checks below are of one moment
        self.every_state_is_legal_and_its_audit_trail_is_its_transitions(facts)
        self.every_remediation_reached_github_at_most_once_and_only_when_allowed(facts)
        self.each_request_is_decided_by_one_click_at_most(facts)

    def every_state_is_legal_and_its_audit_trail_is_its_transitions(self, facts: Facts) -> None:
        for failure_id, failure in facts.failures.items():
            chain = facts.chains[failure_id]
            assert chain[:1] == [(None, FailureState.DETECTED.value, "detected")], chain
            assert [entry for entry in chain if entry[2] == "detected"] == chain[:1], chain
            state = FailureState.DETECTED
            for from_state, to_state, _ in chain[1:]:
                assert from_state == state.value, f"{failure_id}: {chain} skips a step"
                assert to_state is not None
                assert FailureState(to_state) in ALLOWED_TRANSITIONS[state], chain
                state = FailureState(to_state)
            assert failure.state is state, f"{failure_id} is {failure.state}, audited {chain}"
            seen = self.seen_chains.get(failure_id, [])
            assert chain[: len(seen)] == seen, f"{failure_id}: audit rewritten {seen} -> {chain}"
            self.seen_chains[failure_id] = chain
        # An attempt a remediation started belongs to its failure, never one of its own.
        ours = {
            (r.repository, r.run_id, r.target_attempt)
            for remediations in facts.remediations.values()
            for r in remediations
        }
        for failure in facts.failures.values():
            assert (failure.repository, failure.run_id, failure.run_attempt) not in ours

    def every_remediation_reached_github_at_most_once_and_only_when_allowed(
        self, facts: Facts
    ) -> None:
        effects = self.side_effects(facts)
        for (what, failure_id), count in effects.items():
            assert count == 1, f"{what} asked {count} times for failure {failure_id}"
            if what == "cancel":
                continue  # undoing is not executing: it follows an execution checked here
            verdict = facts.verdicts.get(failure_id)
            approval = facts.approvals.get(failure_id)
            approved = approval is not None and approval.status is ApprovalStatus.APPROVED
            assert verdict is Verdict.AUTO or approved, (
                f"{what} for failure {failure_id} with verdict {verdict} and no approval"
            )
            if verdict is not Verdict.AUTO:
                assert approval is not None
                assert approval.id in self.approved_by_click
                assert approval.decided_at is not None
                assert approval.decided_at < approval.expires_at
                assert {r.approved_by for r in facts.remediations[failure_id]} == {APPROVER}
        for failure_id, remediations in facts.remediations.items():
            assert len(remediations) <= 1, f"failure {failure_id} was remediated twice"
            for remediation in remediations:
                acted = remediation.status in (
                    RemediationStatus.REQUESTED,
                    RemediationStatus.SUCCEEDED,
                    RemediationStatus.FAILED,
                )
                if acted and remediation.action in RERUNS:
                    # The remediation says a rerun happened: exactly one did.
                    assert effects[("rerun", failure_id)] == 1
                    assert self.github.run_attempt(remediation.repository, remediation.run_id) == 2
                if acted and remediation.action is ActionKind.DISPATCH_REMEDIATION_WORKFLOW:
                    assert effects[("dispatch", failure_id)] == 1

    def each_request_is_decided_by_one_click_at_most(self, facts: Facts) -> None:
        for approval_id, clicks in self.deciding_clicks.items():
            assert clicks <= 1, f"approval request {approval_id} was decided {clicks} times"
        for approval in facts.approvals.values():
            decided = approval.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)
            assert self.deciding_clicks[approval.id] == (1 if decided else 0), approval.status
            if decided:
                assert approval.decided_by == APPROVER, "someone not an approver decided"
                assert approval.decided_at is not None
                assert approval.decided_at < approval.expires_at, "decided after its deadline"


class TestAtMostOnce(LifecycleMachine.TestCase):
    """Property 62 (Remediation Execution): a remediation is executed at most once under any
    interleaving of redelivery, approval clicks, expiry and crashes.

    Long lifecycles: many deliveries, clicks and crashes per failure."""

    settings = settings(max_examples=examples(15), stateful_step_count=50, phases=NO_EXPLAIN)


class TestLegalLifecycle(LifecycleMachine.TestCase):
    """Property 69 (Lifecycle): after every step of any lifecycle the failure's state is legal
    and its audit entries match its transitions.

    Many short lifecycles: the machine's invariants checked after every one of their steps."""

    settings = settings(max_examples=examples(20), stateful_step_count=25, phases=NO_EXPLAIN)
