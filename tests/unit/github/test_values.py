"""Names from a repository's workflow file reach Postgres and Slack: no control characters."""

from __future__ import annotations

from typing import Any

from ci_remediator.github.values import job_info, run_info


def run_payload(name: str) -> dict[str, Any]:
    return {
        "id": 30433642,
        "run_attempt": 1,
        "name": name,
        "workflow_id": 159038,
        "head_branch": "main",
        "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
        "status": "completed",
        "conclusion": "failure",
        "created_at": "2026-12-01T10:00:00Z",
    }


def test_a_workflow_name_with_a_nul_and_escapes_is_stored_without_them() -> None:
    # YAML's double-quoted "\0" and "\e" put a NUL and an ESC into `name:`.
    run = run_info("acme/web", run_payload("CI\x00 build\x1b[31m\tall"))
    assert run.workflow_name == "CI build[31m\tall"


def test_job_and_step_names_lose_their_control_characters_only() -> None:
    job = job_info(
        {
            "id": 1,
            "run_id": 30433642,
            "name": "test\x00 (ubuntu)\x7f",
            "conclusion": "failure",
            "steps": [{"name": "Run\x08 tests — ünïcode", "conclusion": "failure", "number": 3}],
        }
    )
    assert job.name == "test (ubuntu)"
    assert job.failed_steps == ("Run tests — ünïcode",)
