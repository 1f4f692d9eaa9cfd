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


def approval_request_blocks(
    *, approval_id: int, title: str, facts: list[str], evidence: str = ""
) -> list[dict[str, Any]]:
    """`title` and `facts` are the system's own words (escaped all the same); `evidence` is
    log or model text, shown only as a code block under a label saying so."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack_escape(title)}*"}},
    ]
    if facts:
        lines = "\n".join(f"• {slack_escape(fact)}" for fact in facts)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": lines}})
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
    blocks.append(
        {
            "type": "actions",
            "block_id": "decision",
            "elements": [
                _button("Approve", ActionId.APPROVE, approval_id, style="primary"),
                _button("Reject", ActionId.REJECT, approval_id, style="danger"),
            ],
        }
    )
    return blocks


def decided_blocks(
    previous: list[dict[str, Any]], *, summary: str, at: datetime
) -> list[dict[str, Any]]:
    """The same message with its buttons replaced by who decided, and when."""
    kept = [block for block in previous if block.get("type") != "actions"]
    note = f"{slack_escape(summary)} · {at:%Y-%m-%d %H:%M} UTC"
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]


def _button(text: str, action_id: ActionId, approval_id: int, *, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id.value,
        "value": str(approval_id),
        "style": style,
    }
