"""`ci-remediator sandbox` serves the three sandboxes with the demo's runs and hands out the
environment that points the real clients at them: PyGithub through the gateway, slack_sdk's
WebClient and the openai client, over HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from slack_sdk import WebClient

from ci_remediator.config import load_config
from ci_remediator.sandbox.scenarios import WEB
from ci_remediator.services import Services
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

CLI = Path(sys.executable).with_name("ci-remediator")


def test_the_sandbox_command_serves_what_the_real_clients_talk_to(tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    served = subprocess.Popen(  # noqa: S603 - fixed argv
        [str(CLI), "sandbox", "--workdir", str(tmp_path / "sandbox"), "--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_until(env_file.exists, timeout_s=60)
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        services = Services(
            load_config(
                env_overrides={
                    "github_api_url": env["GITHUB_API_URL"],
                    "github_token": env["GITHUB_TOKEN"],
                    "config_file": Path(env["CONFIG_FILE"]),
                }
            )
        )

        failed = services.gateway.list_failed_runs(WEB)
        slack = WebClient(token=env["SLACK_BOT_TOKEN"], base_url=env["SLACK_API_URL"])
        model = openai.OpenAI(api_key=env["OPENAI_API_KEY"], base_url=env["OPENAI_BASE_URL"])

        assert failed, "the demo's failed runs of acme/web"
        assert WEB in services.config.repositories
        assert slack.auth_test()["ok"]
        answer = model.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "diagnose"}]
        )
        assert answer.choices[0].message.content
    finally:
        served.send_signal(signal.SIGINT)
        output = served.communicate(timeout=30)[0].decode()
    assert served.returncode == 0, output
    assert "export GITHUB_API_URL=" in output
