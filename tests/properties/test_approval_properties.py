"""Invariants of the approval workflow on the real Postgres, the Slack sandbox and the real Bolt
endpoint: who is asked and where, what the buttons carry, what a click may do however often it
arrives, what a reject forbids, when a request expires, and what the audit trail says of a click.

The pipeline steps are the ones the tasks call (gate, request_approval, notify, decide, execute,
expire), run in this process with their follow-ups delivered by hand, so that a redelivered
message is something an example can ask for. Every example commits (the web app's own sessions
must see the rows) and starts from empty tables. The harness is shared with
test_notification_properties.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql

from ci_remediator.config import AppConfig, FileConfig, load_config
from ci_remediator.db.base import Base
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
    DetectionSource,
    Failure,
    GateDecision,
)
from ci_remediator.db.transitions import require_transition
from ci_remediator.domain import (
    ActionKind,
    Category,
    Decision,
    Effort,
    FailureState,
    FollowUp,
    StageEvent,
    Step,
    StepResult,
    Verdict,
)
from ci_remediator.pipeline.approve import request_approval
from ci_remediator.pipeline.decide import decide_approval
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.expire import expire_approvals
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.notify import notify_stage
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.slack import BOT_TOKEN, EphemeralMessage, PostedMessage, SlackSandbox
from ci_remediator.sandbox.slack_actions import (
    ButtonClick,
    InteractivitySender,
    block_actions_payload,
)
from ci_remediator.services import Services
from ci_remediator.slack.blocks import ActionId
from tests.integration.conftest import (  # noqa: F401 - engine, redis_client: fixtures
    SLACK_SIGNING_SECRET,
    engine,
    redis_client,
    wait_until,
)
from tests.integration.webhook_server import serving_web_app
from tests.properties.profiles import examples

APPROVERS = ("U0APPROVER1", "U0APPROVER2")
INTRUDER = "U0INTRUDER"
USERS = (*APPROVERS, INTRUDER)
DECISIONS = frozenset(decision.value for decision in Decision)
# Noise control holds "detected" back for the analysis: with it on, an example would wait.
QUIET: dict[str, Any] = {"noise_window_minutes": 0, "approvers": list(APPROVERS)}
_numbers = itertools.count(1)
# Children first; sent as one statement string, so that emptying costs one round trip.
EMPTY_EVERY_TABLE = "; ".join(
    str(delete(table).compile(dialect=postgresql.dialect()))
    for table in reversed(Base.metadata.sorted_tables)
)


# -------------------------------------------------------------------- the world ----


@dataclass
class World:
    """The real Postgres and the GitHub and Slack sandboxes, for a module's examples."""

    engine: Engine
    github: GitHubSandbox
    slack: SlackSandbox

    def services(self, **file: Any) -> Services:
        """Services on the sandboxes with `file` as config.json."""
        base = load_config(
            env_overrides={
                "github_api_url": self.github.url,
                "slack_signing_secret": SLACK_SIGNING_SECRET,
                "slack_bot_token": BOT_TOKEN,
                "slack_api_url": self.slack.api_url,
            }
        )
        return Services(AppConfig(settings=base.settings, file=FileConfig.model_validate(file)))

    def empty_tables(self) -> None:
        """Every row gone (DELETE: TRUNCATE costs far more per example)."""
        with self.engine.begin() as connection:
            connection.exec_driver_sql(EMPTY_EVERY_TABLE)

    def repository(self, prefix: str = "acme/approvals") -> str:
        repository = f"{prefix}-{next(_numbers)}"
        self.github.add_repository(repository)
        return repository

    def channels(self, prefix: str) -> dict[str, str]:
        """New alerts, approvals and critical channels: an example reads only its own."""
        number = next(_numbers)
        names = {kind: f"{prefix}-{number}-{kind}" for kind in ("alerts", "approvals", "critical")}
        for name in names.values():
            self.slack.add_channel(name)
        return {kind: f"#{name}" for kind, name in names.items()}


@pytest.fixture(scope="module", name="world")
def world_fixture(
    engine: Engine,  # noqa: F811 - the fixture imported above
    redis_client: Any,  # noqa: F811 - the gateway's budget and read cache live there
) -> Iterator[World]:
    with GitHubSandbox() as github, SlackSandbox() as slack:
        for user in USERS:
            slack.add_user(user.lower(), user_id=user)
        world = World(engine, github, slack)
        yield world
        world.empty_tables()  # the tests after these find the tables as they were


@dataclass(frozen=True)
class GeneratedAnalysis:
    category: Category
    risk_score: int
    proposed_action: ActionKind
    summary: str = "The registry answered 503"
    excerpt: str = "##[error]503 Service Unavailable"
    job_name: str = "test"
    job_url: str = "https://github.com/acme/web/actions/runs/1/job/2"


RERUN = GeneratedAnalysis(Category.INFRASTRUCTURE, 3, ActionKind.RERUN_FAILED_JOBS)


def add_analyzed_failure(
    services: Services,
    github: GitHubSandbox,
    *,
    repository: str,
    analysis: GeneratedAnalysis = RERUN,
    workflow_name: str = "CI",
    head_branch: str = "main",
    rerun_conclusions: Sequence[str] = ("success",),
) -> int:
    """A failed run in the GitHub sandbox, detected through the gateway, with `analysis`
    stored as the analyze step stores one (both transitions audited)."""
    run_id = github.add_failed_run(
        repository,
        workflow_name=workflow_name,
        job_name=analysis.job_name,
        log_text=analysis.excerpt,
        head_branch=head_branch,
        rerun_conclusions=rerun_conclusions,
    )
    with services.sessions() as session, session.begin():
        failure_id = record_failure(
            session, run=services.gateway.get_run(repository, run_id), source=DetectionSource.POLL
        )
        assert failure_id is not None
        for source, target in (
            (FailureState.DETECTED, FailureState.ANALYZING),
            (FailureState.ANALYZING, FailureState.ANALYZED),
        ):
            require_transition(
                session, failure_id=failure_id, expected=source, to=target, actor="analyzer"
            )
        session.add(
            Analysis(
                failure_id=failure_id,
                category=analysis.category,
                risk_score=analysis.risk_score,
                rules_risk_score=analysis.risk_score,
                confidence=0.9,
                flaky=False,
                summary=analysis.summary,
                root_cause=analysis.summary,
                proposed_action=analysis.proposed_action,
                analyzer="rules",
                affected_components=[],
                effort=Effort.SMALL,
                excerpt=analysis.excerpt,
                failed_jobs=[analysis.job_name],
                failed_job_links=[{"name": analysis.job_name, "url": analysis.job_url}],
                fingerprint=f"{failure_id:064x}",
            )
        )
    return failure_id


def run_step(services: Services, follow_up: FollowUp) -> StepResult:
    """The step the follow-up's task runs, in its own committed transaction."""
    failure_id = follow_up.failure_id
    assert failure_id is not None
    with services.sessions() as session, session.begin():
        if follow_up.step is Step.GATE:
            return gate_failure(session, failure_id=failure_id, config=services.config)
        if follow_up.step is Step.REQUEST_APPROVAL:
            return request_approval(session, failure_id=failure_id)
        if follow_up.step is Step.NOTIFY:
            return notify_stage(session, failure_id=failure_id, notifier=services.notifier)
        if follow_up.step is Step.EXECUTE:
            return execute_remediation(
                session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
            )
    return StepResult()  # analyze, verify, rollback: not what these examples are about


def deliver(
    services: Services, follow_ups: Sequence[FollowUp], *, times: int = 1
) -> list[FollowUp]:
    """Deliver each follow-up `times` times (a broker redelivering it), and what they lead
    to the same way, until nothing is left; every follow-up seen, in order."""
    queue, seen = list(follow_ups), []
    while queue:
        follow_up = queue.pop(0)
        seen.append(follow_up)
        for _ in range(times):
            queue.extend(run_step(services, follow_up).follow_ups)
    return seen


def buttons(message: PostedMessage) -> list[dict[str, Any]]:
    return [
        element
        for block in message.blocks or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def approval_messages(slack: SlackSandbox, channels: Sequence[str]) -> list[PostedMessage]:
    """The messages with decision buttons in `channels`."""
    return [m for channel in channels for m in slack.messages(channel) if buttons(m)]


def mrkdwn_texts(message: PostedMessage) -> list[str]:
    """Everything of the message that Slack formats: its fallback text and mrkdwn blocks."""
    texts = [message.text]
    for block in message.blocks or []:
        text = block.get("text")
        if isinstance(text, dict) and text.get("type") == "mrkdwn":
            texts.append(text["text"])
        texts.extend(
            element["text"]
            for element in block.get("elements", [])
            if isinstance(element, dict) and element.get("type") == "mrkdwn"
        )
    return texts


# Slack's link syntax is <url|label>; anything else between < and > mentions, broadcasts or
# links a channel.
SLACK_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")
PLAIN_URL = re.compile(r"https?://[^\s<>|\x00-\x1f]+")
ENTITY = re.compile(r"&(?:amp|lt|gt);")


def assert_only_escaped(text: str, *, allowed_urls: set[str]) -> None:
    """The only `<...>` are links to URLs we stored, and every `&` starts an entity."""
    for link in SLACK_LINK.finditer(text):
        assert link[1] in allowed_urls, f"a link to {link[1]!r} in {text!r}"
    bare = SLACK_LINK.sub("", text)
    assert "<" not in bare, text
    assert ">" not in bare, text
    assert "&" not in ENTITY.sub("", bare), text


# ------------------------------------------------------------------ strategies ----

categories = st.sampled_from(list(Category))
actions = st.sampled_from(list(ActionKind))
risks = st.integers(0, 10)
# Text a log, a model, a workflow file or a fork's branch may carry, with Slack's control
# syntax and entities mixed in (Postgres text holds no NUL).
hostile = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "<!channel> deploy now",
            "<@U0APPROVER1> approve this",
            "<https://evil.example|click here>",
            "&lt;already escaped&gt; & <!here>",
            "```closing the code block``` *bold* <!subteam^S123>",
            "\u202eevil\u202c <#C0APPROVALS>",
        ]
    ),
).map(lambda text: text.replace("\x00", ""))
names = st.one_of(st.just("CI"), hostile.map(str.strip).filter(bool))
job_urls = st.sampled_from(
    [
        "https://github.com/acme/web/actions/runs/1/job/2",
        "javascript:alert(1)",
        "https://evil.example/x|<!channel>",
        "https://github.com/acme/web/actions/runs/1/job/3>",
    ]
)
any_analysis = st.builds(GeneratedAnalysis, categories, risks, actions)
# What a threshold of 0 always sends to a human: an action that remediates.
hostile_reruns = st.builds(
    GeneratedAnalysis,
    category=st.just(Category.INFRASTRUCTURE),
    risk_score=risks,
    proposed_action=st.just(ActionKind.RERUN_FAILED_JOBS),
    summary=hostile,
    excerpt=hostile,
    job_name=names,
    job_url=job_urls,
)


# ------------------------------------------------------- 23: who is asked, where ----


@dataclass(frozen=True)
class RepositoryPlan:
    protected: bool
    risk_threshold: int
    own_channels: bool  # a repository_configs override of slack_channels


@dataclass(frozen=True)
class AskingPlan:
    repositories: tuple[RepositoryPlan, ...]
    failures: tuple[tuple[int, GeneratedAnalysis], ...]  # (repository index, analysis)
    deliveries: int  # how many times each message arrives


@st.composite
def asking_plans(draw: st.DrawFn) -> AskingPlan:
    repository = st.builds(RepositoryPlan, st.booleans(), risks, st.booleans())
    repositories = tuple(draw(st.lists(repository, min_size=1, max_size=3)))
    failure = st.tuples(st.integers(0, len(repositories) - 1), any_analysis)
    failures = tuple(draw(st.lists(failure, min_size=1, max_size=3)))
    return AskingPlan(repositories, failures, draw(st.integers(1, 3)))


@settings(max_examples=examples(12))
@given(plan=asking_plans())
def test_every_failure_needing_approval_gets_exactly_one_request_in_its_approvals_channel(
    world: World, plan: AskingPlan
) -> None:
    """Property 23 (Approval Workflow): whatever the analyses, thresholds, protections and
    per-repository channels, and however often each message is redelivered, every failure the
    gate sends to a human gets exactly one Slack message with decision buttons, in the
    approvals channel configured for its repository, and no other failure gets one."""
    world.empty_tables()
    default = world.channels("default")
    repositories = [(world.repository(), repository) for repository in plan.repositories]
    own = {name: world.channels("own") for name, repo in repositories if repo.own_channels}
    services = world.services(
        **QUIET,
        slack_channels=default,
        protected_repositories=[name for name, repo in repositories if repo.protected],
        repository_configs={
            name: {"risk_threshold": repo.risk_threshold}
            | ({"slack_channels": own[name]} if name in own else {})
            for name, repo in repositories
        },
    )
    failures = [
        (add_analyzed_failure(services, world.github, repository=repositories[i][0], analysis=a), i)
        for i, a in plan.failures
    ]
    deliver(services, [FollowUp(Step.GATE, f) for f, _ in failures], times=plan.deliveries)

    every_channel = [c for channels in (default, *own.values()) for c in channels.values()]
    posted = approval_messages(world.slack, every_channel)
    asked = 0
    with services.sessions() as session:
        for failure_id, index in failures:
            verdict = session.scalar(
                select(GateDecision.verdict).where(GateDecision.failure_id == failure_id)
            )
            approval = session.scalar(
                select(ApprovalRequest).where(ApprovalRequest.failure_id == failure_id)
            )
            if verdict is not Verdict.NEEDS_APPROVAL:
                assert approval is None
                continue
            asked += 1
            assert approval is not None
            assert approval.status is ApprovalStatus.PENDING
            (message,) = [
                m for m in posted if {b["value"] for b in buttons(m)} == {str(approval.id)}
            ]
            wanted = own.get(repositories[index][0], default)["approvals"]
            assert message.channel == world.slack.channel_id(wanted)
    assert len(posted) == asked


# ------------------------------------------------------ clicks through Bolt ----


@dataclass
class Clicking:
    """The web app on a loopback port with its Bolt endpoint, signed clicks to it, and the
    follow-ups its decisions enqueued."""

    world: World
    services: Services
    sender: InteractivitySender
    approvals_channel: str
    enqueued: list[FollowUp] = field(default_factory=list)

    def ask(self, analysis: GeneratedAnalysis = RERUN, *, workflow_name: str = "CI") -> Asked:
        """A failure gated to a human, and its approval message as first posted."""
        repository = self.world.repository()
        failure_id = add_analyzed_failure(
            self.services,
            self.world.github,
            repository=repository,
            analysis=analysis,
            workflow_name=workflow_name,
        )
        deliver(self.services, [FollowUp(Step.GATE, failure_id)])
        with self.services.sessions() as session:
            approval_id = session.scalar(
                select(ApprovalRequest.id).where(ApprovalRequest.failure_id == failure_id)
            )
        assert approval_id is not None, "a threshold of 0 sends every rerun to a human"
        (message,) = [
            m
            for m in approval_messages(self.world.slack, [self.approvals_channel])
            if {b["value"] for b in buttons(m)} == {str(approval_id)}
        ]
        return Asked(failure_id, approval_id, repository, message)

    def state(self, failure_id: int) -> FailureState:
        with self.services.sessions() as session:
            return session.get_one(Failure, failure_id).state


@dataclass(frozen=True)
class Asked:
    failure_id: int
    approval_id: int
    repository: str
    message: PostedMessage


@pytest.fixture(scope="module", name="clicking")
def clicking_fixture(world: World) -> Iterator[Clicking]:
    channels = world.channels("clicks")
    # A threshold of 0: every remediating action needs a human, whatever the analysis.
    services = world.services(**QUIET, slack_channels=channels, risk_threshold=0)
    enqueued: list[FollowUp] = []
    with (
        serving_web_app(services, enqueued.extend) as base_url,
        InteractivitySender(f"{base_url}/slack/events", SLACK_SIGNING_SECRET) as sender,
    ):
        yield Clicking(world, services, sender, channels["approvals"], enqueued)


def button_for(decision: Decision) -> ActionId:
    return ActionId.APPROVE if decision is Decision.APPROVE else ActionId.REJECT


# ---------------------------------------------- 24: the buttons and the text ----


@settings(max_examples=examples(10))
@given(
    asked=st.lists(
        st.tuples(hostile_reruns, names, st.sampled_from(list(Decision))), min_size=1, max_size=3
    ),
    order=st.randoms(use_true_random=False),
)
def test_approval_buttons_carry_only_the_request_id_and_untrusted_text_is_escaped(
    clicking: Clicking, asked: list[tuple[GeneratedAnalysis, str, Decision]], order: Any
) -> None:
    """Property 24 (Approval Workflow): an approval message has exactly an Approve and a Reject
    button whose value is the request's id and nothing else, so a click on a message decides
    that message's request and no other; log, model, job and workflow text reaches it only
    escaped (no mention, broadcast or foreign link, in the blocks or the fallback text)."""
    clicking.world.empty_tables()
    requests = [
        (clicking.ask(analysis, workflow_name=name), analysis, decision)
        for analysis, name, decision in asked
    ]
    for request, analysis, _ in requests:
        assert [
            (b["action_id"], b["value"], b["text"]["text"]) for b in buttons(request.message)
        ] == [
            (ActionId.APPROVE.value, str(request.approval_id), "Approve"),
            (ActionId.REJECT.value, str(request.approval_id), "Reject"),
        ]
        allowed = {analysis.job_url} if PLAIN_URL.fullmatch(analysis.job_url) else set()
        texts = mrkdwn_texts(request.message)
        for text in texts:
            assert_only_escaped(text, allowed_urls=allowed)
        # Log and model text is there, as a code block under its label.
        assert any(t.startswith("```") for t in texts) == bool(analysis.summary or analysis.excerpt)

    order.shuffle(requests)
    for request, _, decision in requests:
        click = ButtonClick.on(
            request.message, user_id=APPROVERS[0], action_id=button_for(decision).value
        )
        assert clicking.sender.click(click).status_code == 200
        failure_id = request.failure_id
        assert wait_until(
            lambda f=failure_id: clicking.state(f) is not FailureState.AWAITING_APPROVAL
        )
    for request, _, decision in requests:
        wanted = FailureState.EXECUTING if decision is Decision.APPROVE else FailureState.REJECTED
        assert clicking.state(request.failure_id) is wanted


# ------------------------------------------------ 25, 26, 28: clicks, however many ----


@dataclass(frozen=True)
class Click:
    user: str
    decision: Decision
    deliveries: int  # the same signed request, sent this many times back to back


def clicks_by(users: Sequence[str], decisions: Sequence[Decision]) -> st.SearchStrategy[Click]:
    return st.builds(Click, st.sampled_from(users), st.sampled_from(decisions), st.integers(1, 3))


any_click = clicks_by(USERS, list(Decision))


def clicks_deciding(decision: Decision) -> st.SearchStrategy[list[Click]]:
    """Click sequences whose first click from an approver is `decision`."""
    return st.tuples(
        st.lists(clicks_by([INTRUDER], list(Decision)), max_size=2),
        clicks_by(APPROVERS, [decision]),
        st.lists(any_click, max_size=3),
    ).map(lambda parts: [*parts[0], parts[1], *parts[2]])


def expected_answers(clicks: Sequence[Click]) -> list[list[tuple[str, str]]]:
    """For each click, what each of its deliveries must be audited as: (actor, the decision
    or the reason it was refused). Authority is checked first, then whether it is decided."""
    decided = False
    answers = []
    for click in clicks:
        mine = []
        for _ in range(click.deliveries):
            if click.user not in APPROVERS:
                mine.append((f"human:{click.user}", "not_an_approver"))
            elif decided:
                mine.append((f"human:{click.user}", "already_decided"))
            else:
                decided = True
                mine.append((f"human:{click.user}", click.decision.value))
        answers.append(mine)
    return answers


def human_entries(services: Services, failure_id: int) -> list[tuple[str, str, str]]:
    """(actor, decision or refusal reason, outcome) of the failure's audit entries by people."""
    decisions = {FailureState.EXECUTING.value: "approve", FailureState.REJECTED.value: "reject"}
    with services.sessions() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.failure_id == failure_id, AuditEntry.actor.startswith("human:"))
            .order_by(AuditEntry.at, AuditEntry.id)
        ).all()
        return [
            (
                entry.actor,
                decisions[entry.to_state or ""]
                if entry.action == "transition"
                else str(entry.detail.get("reason")),
                entry.outcome,
            )
            for entry in entries
        ]


@dataclass(frozen=True)
class Clicked:
    asked: Asked
    audited: list[list[tuple[str, str, str]]]  # each click's new audit entries
    told: list[EphemeralMessage]  # what only the clicker saw, in this example


def click_through(clicking: Clicking, clicks: Sequence[Click]) -> Clicked:
    """Ask for an approval and send `clicks` through Bolt, the deliveries of one click back to
    back; the next click waits until each delivery of this one was answered in Slack (so that
    clicks, not deliveries, have an order)."""
    clicking.world.empty_tables()
    clicking.enqueued.clear()
    slack = clicking.world.slack
    asked = clicking.ask()
    channel = slack.channel_id(clicking.approvals_channel)
    before = answered = len(slack.ephemerals(channel))
    audited: list[list[tuple[str, str, str]]] = []
    for click, answers in zip(clicks, expected_answers(clicks), strict=True):
        # Built from the message as first posted: a screen that did not refresh shows its
        # buttons still.
        signed = clicking.sender.sign(
            block_actions_payload(
                ButtonClick.on(
                    asked.message, user_id=click.user, action_id=button_for(click.decision).value
                )
            )
        )
        for _ in range(click.deliveries):
            assert clicking.sender.send(signed).status_code == 200
        answered += len(answers)

        def all_answered(wanted: int = answered) -> bool:
            rewritten = len(slack.message(channel, asked.message.ts).updates)
            return len(slack.ephemerals(channel)) + rewritten >= wanted

        assert wait_until(all_answered), f"{click} was not answered"
        entries = human_entries(clicking.services, asked.failure_id)
        audited.append(entries[sum(map(len, audited)) :])
    return Clicked(asked, audited, slack.ephemerals(channel)[before:])


def posts_to(github: GitHubSandbox, repository: str) -> int:
    """Requests that change something of `repository` on GitHub (reruns, issues, dispatches)."""
    return github.count("POST", rf".*/repos/{re.escape(repository)}/.*")


@settings(max_examples=examples(10))
@given(
    clicks=clicks_deciding(Decision.APPROVE),
    redeliveries=st.integers(1, 3),
    stray_executes=st.integers(0, 2),
)
def test_an_approvers_approve_executes_exactly_once_whatever_the_clicks_and_redeliveries(
    clicking: Clicking, clicks: list[Click], redeliveries: int, stray_executes: int
) -> None:
    """Property 25 (Approval Workflow): once an approver's first click is Approve, the
    remediation runs on GitHub exactly once, in that approver's name, whatever other clicks,
    double clicks, replayed requests and redelivered or stray execute messages follow."""
    clicked = click_through(clicking, clicks)
    assert [f.step for f in clicking.enqueued] == [Step.EXECUTE, Step.NOTIFY]
    stray = [FollowUp(Step.EXECUTE, clicked.asked.failure_id)] * stray_executes
    deliver(clicking.services, [*clicking.enqueued, *stray], times=redeliveries)

    assert posts_to(clicking.world.github, clicked.asked.repository) == 1
    decider = next(click.user for click in clicks if click.user in APPROVERS)
    with clicking.services.sessions() as session:
        failure = session.get_one(Failure, clicked.asked.failure_id)
        assert failure.state is FailureState.VERIFYING
        (remediation,) = failure.remediations
        assert remediation.approved_by == decider
        approval = session.get_one(ApprovalRequest, clicked.asked.approval_id)
        assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, decider)


@settings(max_examples=examples(8))
@given(clicks=clicks_deciding(Decision.REJECT), stray_executes=st.integers(0, 2))
def test_a_rejection_never_executes_whatever_clicks_and_messages_follow(
    clicking: Clicking, clicks: list[Click], stray_executes: int
) -> None:
    """Property 26 (Approval Workflow): once an approver's first click is Reject, nothing is
    ever sent to GitHub for the failure and it stays rejected, whatever approvals, replays or
    stray execute messages come after."""
    clicked = click_through(clicking, clicks)
    assert [(f.step, f.event) for f in clicking.enqueued] == [(Step.NOTIFY, StageEvent.REJECTED)]
    stray = [FollowUp(Step.EXECUTE, clicked.asked.failure_id)] * stray_executes
    deliver(clicking.services, [*clicking.enqueued, *stray])

    assert posts_to(clicking.world.github, clicked.asked.repository) == 0
    with clicking.services.sessions() as session:
        failure = session.get_one(Failure, clicked.asked.failure_id)
        assert failure.state is FailureState.REJECTED
        assert failure.remediations == []
        approval = session.get_one(ApprovalRequest, clicked.asked.approval_id)
        assert approval.status is ApprovalStatus.REJECTED


@settings(max_examples=examples(10))
@given(clicks=st.lists(any_click, min_size=1, max_size=4))
def test_every_click_is_one_audit_entry_naming_who_and_how_it_ended(
    clicking: Clicking, clicks: list[Click]
) -> None:
    """Property 28 (Approval Workflow): every click that reaches the endpoint, double clicks
    and replays included, leaves exactly one audit entry naming the clicker and the decision
    or why it was refused, a success only for the one decision; each refused click is told to
    its clicker alone, and the message is rewritten once, when it is decided."""
    clicked = click_through(clicking, clicks)
    answers = expected_answers(clicks)
    for click, answer, audited in zip(clicks, answers, clicked.audited, strict=True):
        wanted = [
            (actor, outcome, "success" if outcome in DECISIONS else "failure")
            for actor, outcome in answer
        ]
        assert Counter(audited) == Counter(wanted), click

    refused = Counter(
        actor.removeprefix("human:")
        for answer in answers
        for actor, outcome in answer
        if outcome not in DECISIONS
    )
    assert Counter(told.user for told in clicked.told) == refused
    decided = any(outcome in DECISIONS for answer in answers for _, outcome in answer)
    slack = clicking.world.slack
    message = slack.message(clicked.asked.message.channel, clicked.asked.message.ts)
    assert len(message.updates) == int(decided)
    if decided:
        assert buttons(message) == []


# ------------------------------------------------------- 27: expiry, at any time ----

TIMEOUT_HOURS = (0.1, 0.5, 1.0, 2.5, 24.0, 48.0)


@dataclass(frozen=True)
class ExpiryPlan:
    timeouts: tuple[float, ...]  # approval_timeout_hours, per repository
    requests: tuple[tuple[int, bool], ...]  # (repository index, decided before any sweep)
    # Sweep clocks: seconds after the first request, or (request, seconds off its deadline).
    sweeps: tuple[int | tuple[int, int], ...]


@st.composite
def expiry_plans(draw: st.DrawFn) -> ExpiryPlan:
    timeouts = tuple(draw(st.lists(st.sampled_from(TIMEOUT_HOURS), min_size=1, max_size=3)))
    request = st.tuples(st.integers(0, len(timeouts) - 1), st.booleans())
    requests = tuple(draw(st.lists(request, min_size=1, max_size=4)))
    sweep = st.one_of(
        st.integers(-3600, 50 * 3600),
        st.tuples(st.integers(0, len(requests) - 1), st.sampled_from([-1, 0, 1])),
    )
    return ExpiryPlan(timeouts, requests, tuple(draw(st.lists(sweep, min_size=1, max_size=5))))


@settings(max_examples=examples(12))
@given(plan=expiry_plans())
# Always tried: one sweep exactly at the deadline (a check-mutants run let `<` for `<=` live).
@example(plan=ExpiryPlan(timeouts=(0.1,), requests=((0, False),), sweeps=((0, 0),)))
def test_requests_past_their_timeout_expire_and_escalate_once_and_younger_ones_never(
    world: World, plan: ExpiryPlan
) -> None:
    """Property 27 (Approval Workflow): for any sweep clocks, in any order, a pending request
    expires exactly when some sweep ran at or after its deadline (its repository's
    approval_timeout_hours after it was asked) and then escalates once, to the critical
    channel; a request still inside its timeout, or already decided, never does."""
    world.empty_tables()
    channels = world.channels("expiry")
    names = [world.repository() for _ in plan.timeouts]
    services = world.services(
        **QUIET,
        slack_channels=channels,
        protected_repositories=names,
        repository_configs={
            name: {"approval_timeout_hours": hours}
            for name, hours in zip(names, plan.timeouts, strict=True)
        },
    )
    failure_ids = [
        add_analyzed_failure(services, world.github, repository=names[index])
        for index, _ in plan.requests
    ]
    deliver(services, [FollowUp(Step.GATE, f) for f in failure_ids])
    with services.sessions() as session, session.begin():
        approvals = [
            session.scalars(select(ApprovalRequest).where(ApprovalRequest.failure_id == f)).one()
            for f in failure_ids
        ]
        for approval, (index, decided) in zip(approvals, plan.requests, strict=True):
            timeout = timedelta(hours=plan.timeouts[index])
            assert approval.expires_at - approval.requested_at == timeout
            if decided:
                decide_approval(
                    session,
                    approval_id=approval.id,
                    decision=Decision.REJECT,
                    decided_by=APPROVERS[0],
                    via="cli",
                    config=services.config,
                )

    first = min(approval.requested_at for approval in approvals)
    clocks = [
        first + timedelta(seconds=sweep)
        if isinstance(sweep, int)
        else approvals[sweep[0]].expires_at + timedelta(seconds=sweep[1])
        for sweep in plan.sweeps
    ]
    escalations: list[FollowUp] = []
    for now in clocks:
        with services.sessions() as session, session.begin():
            escalations.extend(expire_approvals(session, now=now).follow_ups)
    deliver(services, escalations)

    with services.sessions() as session:
        for approval, (_, decided) in zip(approvals, plan.requests, strict=True):
            due = not decided and max(clocks) >= approval.expires_at
            stored = session.get_one(ApprovalRequest, approval.id)
            state = session.get_one(Failure, approval.failure_id).state
            told = [(f.step, f.event) for f in escalations if f.failure_id == approval.failure_id]
            expiries = session.scalars(
                select(AuditEntry.actor).where(
                    AuditEntry.failure_id == approval.failure_id,
                    AuditEntry.to_state == FailureState.EXPIRED.value,
                )
            ).all()
            if due:
                assert (stored.status, state) == (ApprovalStatus.EXPIRED, FailureState.EXPIRED)
                assert told == [(Step.NOTIFY, StageEvent.EXPIRED)]
                assert expiries == ["approval_timeout"]
            else:
                assert stored.status is not ApprovalStatus.EXPIRED
                assert state is not FailureState.EXPIRED
                assert told == []
                assert expiries == []
    assert len(world.slack.messages(channels["critical"])) == len(escalations)
