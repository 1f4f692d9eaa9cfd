"""A tracking issue shows the analysis as data: fenced so no markup, mention or link renders."""

from __future__ import annotations

from ci_remediator.actions.issue_text import IssueFacts, draft_issue, fenced


def facts(**changes: object) -> IssueFacts:
    base: dict[str, object] = {
        "repository": "acme/web",
        "workflow_name": "CI",
        "head_branch": "main",
        "head_sha": "0123456789abcdef",
        "run_id": 42,
        "run_html_url": "https://github.com/acme/web/actions/runs/42",
        "category": "test_failure",
        "summary": "tests failed",
        "root_cause": "assertion",
        "fingerprint": "f" * 64,
    }
    return IssueFacts(**{**base, **changes})  # type: ignore[arg-type]


def test_text_holding_a_fence_cannot_close_the_one_around_it() -> None:
    hostile = "```\n@acme/security-team [click](https://evil.example) ````"

    block = fenced(hostile)

    fence = block.split("text", 1)[0]
    assert fence == "`" * 5  # longer than the longest backtick run inside
    assert block.endswith("\n" + fence)
    assert block.count(fence) == 2


def test_invisible_and_bidirectional_controls_are_removed() -> None:
    assert "\u202e" not in fenced("abc\u202edef\u200b")


def test_the_analysis_appears_only_inside_fences_and_the_marker_finds_it_again() -> None:
    draft = draft_issue(facts(summary="@acme/oncall see https://evil.example"))

    outside = draft.body.split("```text")[0]
    assert "@acme/oncall" not in outside
    assert "@acme/oncall" in draft.body
    assert draft.marker == f"<!-- ci-remediator fingerprint: {'f' * 64} -->"
    assert draft.body.endswith(draft.marker)


def test_a_failure_without_a_fingerprint_is_tracked_by_its_run() -> None:
    assert draft_issue(facts(fingerprint=None)).marker.endswith("run-42 -->")
