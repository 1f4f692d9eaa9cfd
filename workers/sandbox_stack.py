"""`ci-remediator sandbox`: the GitHub, Slack and OpenAI sandboxes with the demo's scenario,
served until Ctrl-C, and the environment that points the real processes at them.

So the whole stack (`honcho start web worker beat flower`, or `ci-remediator run`) can be
tried on this machine without GitHub: the sandboxes answer as the real services do, and the
database and broker are whatever the environment names (the embedded default otherwise).

With a webhook URL the GitHub sandbox is also a hook: as GitHub does for a new hook, it pings
the receiver (every second until the web process answers), then delivers each failed run's
`workflow_run`, signed with a secret it hands out as GITHUB_WEBHOOK_SECRET. The beat's polls
find the same runs; whichever comes first records each failure, once.
"""

from __future__ import annotations

import secrets
import shlex
import signal
import threading
from collections import Counter
from pathlib import Path

import requests
from rich.console import Console

from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.openai import OpenAISandbox
from ci_remediator.sandbox.scenarios import install_demo_scenario
from ci_remediator.sandbox.slack import SlackSandbox
from ci_remediator.sandbox.webhook_sender import WebhookSender, ping_payload, workflow_run_payload
from workers.demo import DEMO_APPROVER, SLACK_DEMO_RUNS, demo_environment

# Names the real processes read from the environment: the sandboxes' and the demo's policy.
_PASSED_ON = (
    "CONFIG_FILE",
    "GITHUB_API_URL",
    "GITHUB_TOKEN",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "SLACK_API_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
)
PING_EVERY_S = 1.0


def sandbox_environment(workdir: Path, github: str, openai: str, slack_api: str) -> dict[str, str]:
    """What to export so the real processes talk to the sandboxes (and use the demo's
    config.json); the database, broker and DATA_DIR stay the caller's."""
    full = demo_environment(workdir, github, openai, slack_api)
    return {name: full[name] for name in _PASSED_ON}


def serve_sandboxes(
    console: Console, workdir: Path, *, env_file: Path | None = None, webhook_url: str | None = None
) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with GitHubSandbox() as github, OpenAISandbox() as model, SlackSandbox() as slack:
        slack.add_user("approver", user_id=DEMO_APPROVER)
        runs = install_demo_scenario(github, SLACK_DEMO_RUNS)
        env = sandbox_environment(workdir, github.url, model.url, slack.api_url)
        if webhook_url is not None:
            env["GITHUB_WEBHOOK_SECRET"] = secrets.token_urlsafe(24)
        lines = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
        if env_file is not None:
            env_file.write_text("".join(f"{name}={value}\n" for name, value in env.items()))
        console.print(
            f"# GitHub, Slack and OpenAI sandboxes: {len(runs)} failed runs waiting; "
            "paste these lines (or pass --env-file to honcho), then run the processes",
            highlight=False,
        )
        for line in lines:
            console.print(line, highlight=False, soft_wrap=True)
        if webhook_url is not None:
            sender = WebhookSender(webhook_url, env["GITHUB_WEBHOOK_SECRET"])
            failed = [(run.repository, run_id) for run_id, run in runs.items()]
            hook = threading.Thread(
                target=deliver_failed_runs,
                args=(console,),
                kwargs={
                    "github": github,
                    "failed": failed,
                    "sender": sender,
                    "url": webhook_url,
                    "stop": stop,
                },
                name="sandbox-webhooks",
                daemon=True,
            )
            hook.start()
        console.print("# serving until Ctrl-C", highlight=False)
        stop.wait()
    return 0


def deliver_failed_runs(
    console: Console,
    *,
    github: GitHubSandbox,
    failed: list[tuple[str, int]],
    sender: WebhookSender,
    url: str,
    stop: threading.Event,
) -> None:
    """Ping until the receiver answers 2xx, then deliver every failed run's `workflow_run`
    and print how the receiver answered them."""
    told: str | None = None
    while not stop.is_set():
        try:
            answer = sender.deliver("ping", ping_payload())
            heard = f"answered the ping with {answer.status_code}"
            if answer.ok:
                break
        except requests.RequestException as error:
            heard = f"is not answering yet ({type(error).__name__})"
        if heard != told:
            console.print(
                f"# webhooks: {url} {heard}; pinging every second", highlight=False, soft_wrap=True
            )
            told = heard
        stop.wait(PING_EVERY_S)
    else:
        return
    answers: Counter[str] = Counter()
    for repository, run_id in failed:
        payload = workflow_run_payload(github, repository, run_id)
        try:
            answers[f"answered {sender.deliver('workflow_run', payload).status_code}"] += 1
        except requests.RequestException:
            answers["unanswered"] += 1  # GitHub does not send it again either
    summary = ", ".join(f"{count} {answer}" for answer, count in sorted(answers.items()))
    console.print(
        f"# webhooks: delivered {answers.total()} failed runs to {url}: {summary}",
        highlight=False,
        soft_wrap=True,
    )
