"""Noise control on the real stack: a burst of one failure in one repository is one Slack
message, rewritten with a count and the runs; "detected" waits for the analysis that tells a
repeat from a new failure, but never longer than its hold."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, update

from ci_remediator.db.bursts import join_burst
from ci_remediator.db.models import Analysis, Failure
from ci_remediator.domain import ActionKind, Category, Effort, FailureState
from ci_remediator.pipeline.detect import follow_ups_for_new_failure
from ci_remediator.pipeline.notify import DETECTED_HOLD_S, notify_stage
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import demo_log
from ci_remediator.sandbox.slack import PostedMessage, SlackSandbox
from ci_remediator.services import Services
from tests.integration.conftest import record_sandbox_failure, wait_until

ALERTS = "ci-cd-alerts"


def _parents(slack: SlackSandbox) -> list[PostedMessage]:
    return [message for message in slack.messages(ALERTS) if message.thread_ts is None]


def _states(services: Services, failure_ids: Sequence[int]) -> list[FailureState]:
    with services.sessions() as session:
        return [session.get(Failure, f).state for f in failure_ids]  # type: ignore[union-attr]


def _run_ids(services: Services, failure_ids: Sequence[int]) -> list[int]:
    with services.sessions() as session:
        return [session.get(Failure, f).run_id for f in failure_ids]  # type: ignore[union-attr]


def test_a_burst_of_one_failure_is_one_message_with_a_count_and_its_runs(
    slack_services: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    from workers.app import app
    from workers.base import send_follow_ups
    from workers.embedded import running_worker

    branches = iter(range(100))

    def new_failure(log_name: str) -> int:
        with slack_services.sessions() as session, session.begin():
            failure_id = record_sandbox_failure(
                session,
                slack_services,
                sandbox,
                log_text=demo_log(log_name),
                rerun_conclusions=("success",),
                # Each on its own branch: runs of one workflow on one branch supersede.
                head_branch=f"feature/{next(branches)}",
            )
            follow_ups = list(follow_ups_for_new_failure(session, failure_id))
        send_follow_ups(app, follow_ups)
        return failure_id

    with running_worker(app, concurrency=4):
        burst = [new_failure("network_blip.log")]
        # The first has its thread before the repeats arrive, as in a real storm.
        assert wait_until(lambda: len(_parents(slack)) == 1, timeout_s=30)
        burst += [new_failure("network_blip.log") for _ in range(3)]
        other = new_failure("compile_error.log")
        everyone = [*burst, other]
        done = {FailureState.RESOLVED, FailureState.ESCALATED}
        assert wait_until(lambda: set(_states(slack_services, everyone)) <= done, timeout_s=60), (
            _states(slack_services, everyone)
        )
        assert wait_until(lambda: "4 runs" in _parents(slack)[0].text, timeout_s=20)

    parents = _parents(slack)
    assert len(parents) == 2  # the burst, and the different failure
    burst_message, other_message = parents
    shown = str(burst_message.blocks)
    for run_id in _run_ids(slack_services, burst):
        assert f"#{run_id}/1" in shown
    assert str(_run_ids(slack_services, [other])[0]) not in shown
    assert burst_message.updates  # rewritten in place, never reposted
    replies = [m for m in slack.messages(ALERTS) if m.thread_ts == burst_message.ts]
    # Every run's remediation is told in the one thread: started and resolved, for each.
    for run_id in _run_ids(slack_services, burst):
        assert sum(f"#{run_id}/1" in m.text for m in replies) >= 2
    assert not any("Analyzed" in m.text and m.thread_ts == burst_message.ts for m in replies[1:])
    assert other_message.ts != burst_message.ts
    for run_id in _run_ids(slack_services, burst):
        assert sandbox.count("POST", rf".*/runs/{run_id}/rerun-failed-jobs") == 1


def test_a_repeat_after_the_window_starts_a_thread_of_its_own(
    slack_services: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    from workers.tasks import analyze

    with slack_services.sessions() as session, session.begin():
        first = record_sandbox_failure(
            session, slack_services, sandbox, log_text=demo_log("network_blip.log")
        )
    analyze(failure_id=first)
    window = timedelta(minutes=slack_services.config.file.noise_window_minutes)
    with slack_services.sessions() as session, session.begin():
        detected_at = session.get(Failure, first).detected_at  # type: ignore[union-attr]
        session.execute(
            update(Failure)
            .where(Failure.id == first)
            .values(detected_at=detected_at - window - timedelta(minutes=1))
        )
        second = record_sandbox_failure(
            session, slack_services, sandbox, log_text=demo_log("network_blip.log")
        )
    analyze(failure_id=second)
    with slack_services.sessions() as session, session.begin():
        third = record_sandbox_failure(
            session, slack_services, sandbox, log_text=demo_log("network_blip.log")
        )
    analyze(failure_id=third)
    with slack_services.sessions() as session:
        rows = session.execute(
            select(Failure.id, Failure.burst_of).where(Failure.id.in_([second, third]))
        ).all()
        burst_of = dict(rows)
    assert burst_of == {second: None, third: second}


def test_detected_waits_for_the_analysis_but_never_longer_than_its_hold(
    slack_services: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    from workers.tasks import analyze

    with slack_services.sessions() as session, session.begin():
        held, late = (
            record_sandbox_failure(
                session, slack_services, sandbox, log_text=demo_log("network_blip.log")
            )
            for _ in range(2)
        )
        for failure_id in (held, late):
            follow_ups_for_new_failure(session, failure_id)
    notifier = slack_services.notifier
    with slack_services.sessions() as session, session.begin():
        waiting = notify_stage(session, failure_id=held, notifier=notifier, noise_control=True)
    assert waiting.waiting
    assert waiting.retry_after_s is not None
    assert 0 < waiting.retry_after_s <= DETECTED_HOLD_S
    assert slack.messages(ALERTS) == []

    analyze(failure_id=held)
    with slack_services.sessions() as session, session.begin():
        assert not notify_stage(
            session, failure_id=held, notifier=notifier, noise_control=True
        ).waiting
    assert [m.text.split(":")[0] for m in slack.messages(ALERTS)] == [
        "Failure detected",
        "Analyzed",
    ]

    with slack_services.sessions() as session, session.begin():
        detected_at = session.get(Failure, late).detected_at  # type: ignore[union-attr]
        overdue = notify_stage(
            session,
            failure_id=late,
            notifier=notifier,
            noise_control=True,
            now=detected_at + timedelta(seconds=DETECTED_HOLD_S + 1),
        )
    assert not overdue.waiting
    assert len(_parents(slack)) == 2


def _analysis(failure_id: int, fingerprint: str) -> Analysis:
    return Analysis(
        failure_id=failure_id,
        category=Category.INFRASTRUCTURE,
        risk_score=2,
        confidence=0.9,
        flaky=False,
        summary="",
        root_cause="",
        proposed_action=ActionKind.RERUN_FAILED_JOBS,
        analyzer="rules",
        effort=Effort.TRIVIAL,
        excerpt="",
        fingerprint=fingerprint,
    )


def test_two_repeats_analyzed_at_the_same_instant_make_one_burst(
    slack_services: Services, sandbox: GitHubSandbox
) -> None:
    window = timedelta(minutes=15)
    with slack_services.sessions() as session, session.begin():
        first, second = (
            record_sandbox_failure(session, slack_services, sandbox, log_text="x") for _ in range(2)
        )
    joined: list[int | None] = []

    def second_joins() -> None:
        with slack_services.sessions() as session, session.begin():
            session.add(_analysis(second, "f" * 64))
            failure = session.get(Failure, second)
            assert failure is not None
            joined.append(join_burst(session, failure=failure, fingerprint="f" * 64, window=window))

    with slack_services.sessions() as session, session.begin():
        session.add(_analysis(first, "f" * 64))
        failure = session.get(Failure, first)
        assert failure is not None
        assert join_burst(session, failure=failure, fingerprint="f" * 64, window=window) is None
        # The first has not committed: the second must wait for it, not lead a burst of its own.
        other = threading.Thread(target=second_joins)
        other.start()
        other.join(timeout=0.5)
    other.join(timeout=10)
    assert joined == [first]
