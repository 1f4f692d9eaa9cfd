"""The text of a tracking issue. What the analysis says (redacted already, but written by a
model or taken from a log) goes inside a code fence longer than any backtick run in it, so
GitHub renders it as data: no mentions, no links, no markup. Links come only from GitHub's own
run and job URLs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ci_remediator.actions.base import IssueDraft
from ci_remediator.notify.untrusted import neutralize

MAX_SECTION_CHARS = 4_000
_BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True, slots=True)
class IssueFacts:
    repository: str
    workflow_name: str
    head_branch: str | None
    head_sha: str
    run_id: int
    run_html_url: str
    category: str
    summary: str
    root_cause: str
    fingerprint: str | None
    failed_jobs: Sequence[str] = ()


def marker_for(facts: IssueFacts) -> str:
    key = facts.fingerprint or f"run-{facts.run_id}"
    return f"<!-- ci-remediator fingerprint: {key} -->"


def fenced(text: str) -> str:
    # Without control, bidirectional or zero-width characters, as every channel shows it.
    cleaned = neutralize(text, max_chars=MAX_SECTION_CHARS)
    longest = max((len(run) for run in _BACKTICKS.findall(cleaned)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{cleaned}\n{fence}"


def draft_issue(facts: IssueFacts) -> IssueDraft:
    branch = facts.head_branch or "(no branch)"
    title = f"CI failure: {facts.workflow_name} on {branch} ({facts.category})"
    jobs = ", ".join(facts.failed_jobs) or "(unknown)"
    body = "\n".join(
        (
            f"ci-remediator tracks a failure of **{facts.workflow_name}** on `{branch}` "
            f"(commit `{facts.head_sha[:12]}`): [run {facts.run_id}]({facts.run_html_url}).",
            "",
            "Failed jobs:",
            fenced(jobs),
            "Summary:",
            fenced(facts.summary),
            "Root cause, as analyzed:",
            fenced(facts.root_cause),
            "",
            "It is closed automatically when a later run of this workflow on this branch passes.",
            "",
            marker_for(facts),
        )
    )
    return IssueDraft(title=title[:256], body=body, marker=marker_for(facts))
