"""Block Kit for approval requests and for what became of them.

A button's value carries only the approval request's id: who may decide, and what happens, is
looked up on the server when the click arrives, never taken from the message.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from ci_remediator.notify.untrusted import slack_code_block, slack_escape


class ActionId(StrEnum):
    APPROVE = "ci_remediator.approve"
    REJECT = "ci_remediator.reject"
    APPROVE_ALWAYS = "ci_remediator.approve_always"
    REJECT_NEVER = "ci_remediator.reject_never"


def approval_request_blocks(
    *,
    approval_id: int,
    title: str,
    facts: list[str],
    evidence: str = "",
    memory_days: int | None = None,
    thread_link: str | None = None,
    job_links: str = "",
) -> list[dict[str, Any]]:
    """`title` and `facts` are the system's own words (escaped all the same); `evidence` is
    log or model text, shown only as a code block under a label saying so. With `memory_days`
    the request also offers "Approve and always" and "Reject and never ask"."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack_escape(title)}*"}},
    ]
    if facts:
        lines = "\n".join(f"• {slack_escape(fact)}" for fact in facts)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": lines}})
    if job_links:  # already built as links by slack_link
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": job_links}})
    if evidence:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Key log lines (unverified data):"}],
            }
        )
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": slack_code_block(evidence)}}
        )
    if thread_link:
        blocks.append(_context(f"<{thread_link}|The failure's thread>"))
    buttons = [
        _button("Approve", ActionId.APPROVE, approval_id, style="primary"),
        _button("Reject", ActionId.REJECT, approval_id, style="danger"),
    ]
    if memory_days is not None:
        buttons += [
            _button("Approve and always for this", ActionId.APPROVE_ALWAYS, approval_id),
            _button("Reject and never ask", ActionId.REJECT_NEVER, approval_id),
        ]
        blocks.append(
            _context(
                f'"always" and "never" hold for {memory_days} days for this action on this '
                "failure in this repository; `ci-remediator memories revoke` undoes them"
            )
        )
    blocks.append({"type": "actions", "block_id": "decision", "elements": buttons})
    return blocks


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def decided_blocks(
    previous: list[dict[str, Any]], *, summary: str, at: datetime
) -> list[dict[str, Any]]:
    """The same message with its buttons replaced by who decided, and when."""
    kept = [block for block in previous if block.get("type") != "actions"]
    note = f"{slack_escape(summary)} · {at:%Y-%m-%d %H:%M} UTC"
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]


def _button(
    text: str, action_id: ActionId, approval_id: int, *, style: str | None = None
) -> dict[str, Any]:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id.value,
        "value": str(approval_id),
    }
    return {**button, "style": style} if style else button
