"""`ci-remediator sandbox`: the GitHub, Slack and OpenAI sandboxes with the demo's scenario,
served until Ctrl-C, and the environment that points the real processes at them.

So the whole stack (`honcho start web worker beat flower`, or `ci-remediator run`) can be
tried on this machine without GitHub: the sandboxes answer as the real services do, and the
database and broker are whatever the environment names (the embedded default otherwise).
"""

from __future__ import annotations

import shlex
import signal
import threading
from pathlib import Path

from rich.console import Console

from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.openai import OpenAISandbox
from ci_remediator.sandbox.scenarios import install_demo_scenario
from ci_remediator.sandbox.slack import SlackSandbox
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


def sandbox_environment(workdir: Path, github: str, openai: str, slack_api: str) -> dict[str, str]:
    """What to export so the real processes talk to the sandboxes (and use the demo's
    config.json); the database, broker and DATA_DIR stay the caller's."""
    full = demo_environment(workdir, github, openai, slack_api)
    return {name: full[name] for name in _PASSED_ON}


def serve_sandboxes(console: Console, workdir: Path, *, env_file: Path | None = None) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with GitHubSandbox() as github, OpenAISandbox() as model, SlackSandbox() as slack:
        slack.add_user("approver", user_id=DEMO_APPROVER)
        runs = install_demo_scenario(github, SLACK_DEMO_RUNS)
        env = sandbox_environment(workdir, github.url, model.url, slack.api_url)
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
        console.print("# serving until Ctrl-C", highlight=False)
        stop.wait()
    return 0
