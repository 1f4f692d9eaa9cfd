"""`ci-remediator demo`: the whole pipeline on the embedded default against the sandboxes.

Six failed runs are detected, analyzed, gated, re-run, verified and reported by a real Celery
worker, with GitHub, OpenAI and Slack stand-ins. A protected repository's request is approved
by a signed click on its Slack button (the web app's /slack/events, as Slack sends it), and
another is left to expire. The demo then checks every failure ended where it should and tells
each one's story.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from ci_remediator.db.models import AuditEntry, Failure
from ci_remediator.db.timeline import failure_timelines
from ci_remediator.domain import TERMINAL_STATES, FailureState, StageEvent
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.openai import OpenAISandbox
from ci_remediator.sandbox.scenarios import (
    API,
    DEMO_APPROVER,
    DEMO_CONFIG,
    INFRA,
    MOBILE,
    PAYMENTS,
    SLACK_DEMO_RUNS,
    STORM_POLICY,
    ScenarioRun,
    install_demo_scenario,
)
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.sandbox.slack_actions import ButtonClick, InteractivitySender
from ci_remediator.services import Services

# Where a failure rests: a terminal state, or waiting for a human (the demo's human answers).
SETTLED = TERMINAL_STATES | {FailureState.AWAITING_APPROVAL}
SIGNING_SECRET = "demo-signing-secret-for-the-sandbox-only"  # noqa: S105 - a sandbox's
APPROVALS_CHANNEL = "ci-cd-approvals"
RERUN_PATH = r"/repos/[^/]+/[^/]+/actions/runs/{run_id}/rerun-failed-jobs"


@dataclass(frozen=True, slots=True)
class ScenarioCheck:
    run: ScenarioRun
    run_id: int
    state: FailureState | None
    reruns: int

    @property
    def passed(self) -> bool:
        return self.state is self.run.expected_state and self.reruns == self.run.expected_reruns


def demo_environment(
    workdir: Path, github_url: str, openai_url: str, slack_api_url: str
) -> dict[str, str]:
    """Force the embedded default: SQLite file and filesystem broker inside `workdir`."""
    config_file = workdir / "config.json"
    # The demo asks the (sandboxed) model about every failure, so its path is on show.
    config = {
        **DEMO_CONFIG,
        "repositories": [*DEMO_CONFIG["repositories"], INFRA, API, MOBILE],
        "protected_repositories": [PAYMENTS, INFRA],
        "approvers": [DEMO_APPROVER],
        "llm": {"enabled": True, "skip_when_rule_confidence": 1.0},
        # Seconds, not minutes: the demo's sweeps re-send a lost task and expire a request fast.
        "stuck_after_minutes": 0.05,
        "polling_interval_minutes": 0.1,
        # A rerun still running after 15 s is cancelled (the rollback scenario).
        "verify_timeout_minutes": 0.25,
        "repository_configs": {
            INFRA: {"approval_timeout_hours": 0.002},
            MOBILE: STORM_POLICY,
        },
    }
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return {
        "CONFIG_FILE": str(config_file),
        "DATA_DIR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'ci_remediator.db'}",
        "GITHUB_API_URL": github_url,
        "GITHUB_TOKEN": "ghp_demo_token_for_the_sandbox_only",
        "OPENAI_API_KEY": "sk-demo-key-for-the-sandbox-only",
        "OPENAI_BASE_URL": openai_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
    }


class DemoApprover:
    """The human of the demo: clicks Approve on the payments request when it shows up in
    Slack, and never answers the infra one (it expires)."""

    def __init__(self, slack: SlackSandbox, sender: InteractivitySender) -> None:
        self._slack, self._sender = slack, sender
        self.clicked: list[str] = []

    def look(self) -> None:
        for message in self._slack.messages(APPROVALS_CHANNEL):
            if message.ts in self.clicked or PAYMENTS not in message.text:
                continue
            click = ButtonClick.on(
                message,
                user_id=DEMO_APPROVER,
                action_id="ci_remediator.approve",
                channel_name=APPROVALS_CHANNEL,
            )
            self._sender.click(click)
            self.clicked.append(message.ts)


def wait_until_settled(
    services: Services,
    *,
    expected: int,
    timeout_s: float,
    sweep: Callable[[], object] | None = None,
    sweep_every_s: float = 2.0,
    worker_alive: Callable[[], bool] = lambda: True,
    meanwhile: Callable[[], object] = lambda: None,
    states: frozenset[FailureState] = SETTLED,
) -> bool:
    """Wait for `expected` failures to settle; `sweep` (the reconcile task) runs meanwhile, as
    beat would run it, so a lost message is re-sent instead of stalling the wait. Stops
    waiting at once if the worker died."""
    deadline = time.monotonic() + timeout_s
    next_sweep = time.monotonic() + sweep_every_s
    while time.monotonic() < deadline and worker_alive():
        meanwhile()
        if sweep is not None and time.monotonic() >= next_sweep:
            sweep()
            next_sweep = time.monotonic() + sweep_every_s
        with services.sessions() as session:
            settled = session.scalar(
                select(func.count(Failure.id)).where(Failure.state.in_(list(states)))
            )
        if settled is not None and settled >= expected:
            return True
        time.sleep(0.1)
    return False


def check_scenario(
    services: Services, sandbox: GitHubSandbox, runs: Mapping[int, ScenarioRun]
) -> list[ScenarioCheck]:
    with services.sessions() as session:
        states = {
            (failure.repository, failure.run_id): failure.state
            for failure in session.scalars(select(Failure))
        }
    checks = [
        ScenarioCheck(
            run=run,
            run_id=run_id,
            state=states.get((run.repository, run_id)),
            reruns=sandbox.count("POST", RERUN_PATH.format(run_id=run_id)),
        )
        for run_id, run in runs.items()
    ]
    return _match_groups(checks)


def _match_groups(checks: list[ScenarioCheck]) -> list[ScenarioCheck]:
    """Within a group the runs race, so each outcome is paired with an expectation of the
    group it meets, if any is left: the group passes when its outcomes are the expected ones
    in any order."""
    left: dict[str, list[ScenarioRun]] = {}
    for check in checks:
        if check.run.group is not None:
            left.setdefault(check.run.group, []).append(check.run)
    matched: list[ScenarioCheck] = []
    for check in checks:
        if check.run.group is None:
            matched.append(check)
            continue
        pool = left[check.run.group]
        met = next(
            (
                run
                for run in pool
                if run.expected_state is check.state and run.expected_reruns == check.reruns
            ),
            None,
        )
        chosen = met or pool[0]
        pool.remove(chosen)
        matched.append(replace(check, run=chosen))
    return matched


def notified_twice(services: Services) -> list[tuple[int, str]]:
    """(failure, event) pairs delivered more than once: each stage is told once."""
    with services.sessions() as session:
        rows = session.execute(
            select(AuditEntry.failure_id, AuditEntry.detail).where(AuditEntry.action == "notified")
        ).all()
    seen: dict[tuple[int, str], int] = {}
    for failure_id, detail in rows:
        event = str((detail or {}).get("event"))
        if event == StageEvent.BURST.value:  # a burst's message is rewritten per repeat
            continue
        key = (failure_id, event)
        seen[key] = seen.get(key, 0) + 1
    return sorted(key for key, count in seen.items() if count > 1)


def print_slack(console: Console, slack: SlackSandbox, approver: DemoApprover) -> None:
    """What people saw in the Slack sandbox: threads, requests, and what became of them."""
    table = Table(title="Slack (sandbox)", title_justify="left")
    for column in ("channel", "messages", "threads", "last message"):
        table.add_column(column, overflow="fold")
    for channel in ("ci-cd-alerts", APPROVALS_CHANNEL, "critical-alerts"):
        messages = slack.messages(channel)
        threads = sum(1 for message in messages if message.thread_ts is None)
        last = messages[-1].text if messages else ""
        table.add_row(f"#{channel}", str(len(messages)), str(threads), last)
    console.print(table)
    for message in slack.messages("ci-cd-alerts"):
        if message.updates and message.thread_ts is None:
            console.print(f"one message for a burst: {message.text}", highlight=False)
    console.print(f"approval clicks by {DEMO_APPROVER}: {len(approver.clicked)}")


def print_report(
    console: Console, services: Services, checks: list[ScenarioCheck], elapsed: float
) -> None:
    by_run = {(c.run.repository, c.run_id): c for c in checks}
    # The scenario's order, not detection order (which the worker threads decide): the same
    # story every time, so two runs can be compared line by line.
    order = {key: position for position, key in enumerate(by_run)}
    with services.sessions() as session:
        timelines = sorted(
            failure_timelines(session),
            key=lambda t: (
                order.get((t.failure.repository, t.failure.run_id), len(order)),
                t.failure.id,
            ),
        )
        for timeline in timelines:
            failure = timeline.failure
            check = by_run.get((failure.repository, failure.run_id))
            title = f"{failure.repository} · {failure.workflow_name} run {failure.run_id}"
            if check is not None:
                title += f" · {check.run.key}"
            table = Table(title=title, title_justify="left", show_edge=False, expand=False)
            table.add_column("+s", justify="right", style="dim")
            table.add_column("actor", style="cyan")
            table.add_column("what")
            table.add_column("why", style="dim", overflow="fold")
            start = timeline.entries[0].at if timeline.entries else failure.detected_at
            for entry in timeline.entries:
                table.add_row(
                    f"{(entry.at - start).total_seconds():.2f}", entry.actor, entry.what, entry.note
                )
            console.print(table)
            console.print()
    summary = Table(title="Demo outcome", title_justify="left")
    for column in ("failure", "expected", "reached", "reruns", ""):
        summary.add_column(column)
    for check in checks:
        summary.add_row(
            check.run.key,
            check.run.expected_state.value,
            check.state.value if check.state else "(not detected)",
            f"{check.reruns} (expected {check.run.expected_reruns})",
            "[green]ok[/]" if check.passed else "[bold red]MISMATCH[/]",
        )
    console.print(summary)
    console.print(f"finished in {elapsed:.1f}s")


PIPED_WIDTH = 120


def run_demo(console: Console, *, timeout_s: float = 90.0) -> int:
    started = time.monotonic()
    if not console.is_terminal:
        # Piped or redirected: Rich would assume 80 columns and fold every table.
        console.width = max(console.width, PIPED_WIDTH)
    with (
        tempfile.TemporaryDirectory(prefix="ci-remediator-demo-") as workdir,
        GitHubSandbox() as sandbox,
        OpenAISandbox() as model,
        SlackSandbox() as slack,
    ):
        slack.add_user("approver", user_id=DEMO_APPROVER)
        runs = install_demo_scenario(sandbox, SLACK_DEMO_RUNS)
        for name in ("REDIS_URL", "CELERY_BROKER_URL"):
            os.environ.pop(name, None)
        os.environ.update(demo_environment(Path(workdir), sandbox.url, model.url, slack.api_url))

        from ci_remediator.config import get_config
        from ci_remediator.db import migrate
        from ci_remediator.log_context import configure_logging
        from ci_remediator.services import get_services

        get_config.cache_clear()
        # Errors only: a worker that dies must say why (Celery logs it; nothing else is noise).
        configure_logging(os.environ.get("DEMO_LOG_LEVEL", "ERROR"))
        services = get_services()
        migrate.upgrade(services.config.settings.sqlalchemy_url)

        from workers.app import app
        from workers.embedded import running_worker
        from workers.tasks import expire_approvals, poll_repositories, reconcile
        from workers.web import serving

        console.print(
            f"[bold]ci-remediator demo[/]: {len(runs)} failed runs in "
            f"{len(services.config.repositories)} repositories; GitHub sandbox at {sandbox.url}, "
            f"OpenAI sandbox at {model.url}, Slack sandbox at {slack.url}"
        )
        with (
            running_worker(app, concurrency=4) as worker,
            serving() as web_url,
            InteractivitySender(f"{web_url}/slack/events", SIGNING_SECRET) as clicks,
        ):
            approver = DemoApprover(slack, clicks)
            poll_repositories.delay()

            def sweeps() -> None:
                reconcile.delay()
                expire_approvals.delay()

            settled = wait_until_settled(
                services,
                expected=len(runs),
                timeout_s=timeout_s,
                sweep=sweeps,
                worker_alive=lambda: worker.alive,
                meanwhile=approver.look,
                states=TERMINAL_STATES,
            )
            # Let the last notifications drain so the worker stops on an empty queue.
            time.sleep(0.5)
        if worker.failure is not None:
            console.print(f"[bold red]{worker.failure}[/] (the log above says why)")
        checks = check_scenario(services, sandbox, runs)
        doubled = notified_twice(services)
        if doubled:
            console.print(f"[bold red]notified more than once:[/] {doubled}")
        print_report(console, services, checks, time.monotonic() - started)
        console.print(f"model requests: {len(model.completion_requests)}")
        print_slack(console, slack, approver)
        from ci_remediator.db.session import dispose_engines

        dispose_engines()
    if not settled:
        console.print(f"[bold red]not every failure settled within {timeout_s:.0f}s[/]")
    return 0 if settled and not doubled and all(check.passed for check in checks) else 1
