"""Stage messages to Slack: one thread per failure in the repository's alerts channel.

The first message of a failure starts its thread; later stages reply in it. Approval requests
go to the approvals channel with Approve and Reject buttons, critical notices to the critical
channel. One notification is one Slack call, so a retried notification is never posted twice
by halves. Whatever Slack answers that is not a delivery (429 with Retry-After, 5xx, a refused
token, a network error) is "try again later": the message stays queued, remediation goes on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ci_remediator.config import SlackChannels
from ci_remediator.domain import StageEvent
from ci_remediator.notify.messages import StageMessage, SystemAlert
from ci_remediator.notify.notifier import (
    NotifierRefusedError,
    NotifierUnavailableError,
    ThreadRef,
)
from ci_remediator.notify.untrusted import slack_code_block, slack_escape, slack_link
from ci_remediator.slack.blocks import approval_request_blocks

log = logging.getLogger(__name__)

CRITICAL_EVENTS = frozenset({StageEvent.ERRORED, StageEvent.EXPIRED, StageEvent.BREAKER_TRIPPED})
REFUSED_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "account_inactive"}
)
SLACK_TIMEOUT_S = 10
_CHANNEL_ID = re.compile(r"[A-Z0-9]{1,40}")
_MESSAGE_TS = re.compile(r"\d{1,12}\.\d{1,8}")


class SlackNotifier:
    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        channels_for: Callable[[str], SlackChannels],
        default_channels: SlackChannels,
    ) -> None:
        # No retry handlers: a retry is the notify task's, so the queue knows what happened.
        self._client = WebClient(
            token=token, base_url=api_url, timeout=SLACK_TIMEOUT_S, retry_handlers=[]
        )
        self._channels_for = channels_for
        self._default_channels = default_channels
        self._workspace_url: str | None = None

    def send(self, message: StageMessage, *, thread: ThreadRef | None) -> ThreadRef | None:
        channels = self._channels_for(message.repository)
        # The fallback text (notifications, screen readers) is mrkdwn too: a workflow or branch
        # name in the title must not mention, broadcast or link any more than in the blocks.
        text = slack_escape(message.title)
        if message.event is StageEvent.APPROVAL_REQUESTED and message.approval_id is not None:
            self._post(
                channel=channels.approvals,
                text=text,
                blocks=approval_request_blocks(
                    approval_id=message.approval_id,
                    title=message.title,
                    facts=[*message.lines, f"run: {message.run_url}"],
                    evidence="\n".join(message.untrusted),
                    memory_days=message.memory_days,
                    thread_link=self._permalink(thread),
                    job_links=_job_links(message),
                ),
            )
            return thread
        if message.event is StageEvent.BURST and thread is not None:
            # The thread's first message becomes the burst's: rewritten, not repeated.
            self._call(
                self._client.chat_update,
                channel=thread.channel,
                ts=thread.ts,
                text=text,
                blocks=_blocks(message),
            )
            return thread
        if message.event in CRITICAL_EVENTS:
            self._post(
                channel=channels.critical,
                text=text,
                blocks=_blocks(message, thread_link=self._permalink(thread)),
            )
            return thread
        if thread is None:
            answer = self._post(channel=channels.alerts, text=text, blocks=_blocks(message))
            return ThreadRef(channel=str(answer["channel"]), ts=str(answer["ts"]))
        self._post(channel=thread.channel, text=text, blocks=_blocks(message), thread_ts=thread.ts)
        return thread

    def alert(self, alert: SystemAlert) -> None:
        lines = "\n".join(f"• {slack_escape(line)}" for line in alert.lines)
        self._post(
            channel=self._default_channels.critical,
            text=slack_escape(alert.title),
            blocks=[
                _section(f"*{slack_escape(alert.title)}*"),
                *([_section(lines)] if lines else []),
            ],
        )

    def _permalink(self, thread: ThreadRef | None) -> str | None:
        if thread is None or not (
            _CHANNEL_ID.fullmatch(thread.channel) and _MESSAGE_TS.fullmatch(thread.ts)
        ):
            return None
        workspace = self.workspace_url()
        if workspace is None:
            return None
        return thread_permalink(workspace, channel=thread.channel, ts=thread.ts)

    def workspace_url(self) -> str | None:
        """The workspace's https address (auth.test, asked until it answers once), or None."""
        if self._workspace_url is None:
            try:
                self._workspace_url = str(self._client.auth_test().get("url") or "")
            except (SlackApiError, OSError) as error:
                log.warning("no link to the thread: auth.test failed (%s)", error)
                return None
        if not self._workspace_url.startswith("https://"):
            return None
        return self._workspace_url

    def _post(self, **arguments: Any) -> Any:
        return self._call(self._client.chat_postMessage, **arguments)

    def _call(self, method: Callable[..., Any], **arguments: Any) -> Any:
        try:
            return method(**arguments)
        except SlackApiError as error:
            status = error.response.status_code
            retry_after = error.response.headers.get("Retry-After") if status == 429 else None
            reason = error.response.get("error") if isinstance(error.response.data, dict) else ""
            if reason in REFUSED_TOKEN_ERRORS:
                raise NotifierRefusedError(f"Slack refused the bot token ({reason})") from error
            if status not in (429,) and status < 500:
                log.error("Slack refused a message (%s %s): kept queued", status, reason)
            raise NotifierUnavailableError(
                f"Slack answered {status} {reason}",
                retry_after_s=float(retry_after) if retry_after else None,
            ) from error
        except OSError as error:  # connection refused, reset, timed out, closed
            raise NotifierUnavailableError(f"Slack unreachable: {error}") from error


def _blocks(message: StageMessage, *, thread_link: str | None = None) -> list[dict[str, Any]]:
    blocks = [_section(f"*{slack_escape(message.title)}*")]
    facts = [*message.lines, f"run: {message.run_url}"]
    blocks.append(_section("\n".join(f"• {slack_escape(fact)}" for fact in facts)))
    if message.links:
        blocks.append(_section(_job_links(message)))
    if thread_link:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{thread_link}|The failure's thread>"}],
            }
        )
    if message.untrusted:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Model/log text (unverified data):"}],
            }
        )
        blocks.append(_section(slack_code_block("\n".join(message.untrusted))))
    return blocks


def _job_links(message: StageMessage) -> str:
    if not message.links:
        return ""
    return "failed jobs: " + ", ".join(slack_link(label, url) for label, url in message.links)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def thread_permalink(workspace_url: str, *, channel: str, ts: str) -> str | None:
    """A link to a thread, built from our own stored channel and ts and the workspace's
    address: never from message text. None when either does not look like Slack's."""
    if not (
        workspace_url.startswith("https://")
        and _CHANNEL_ID.fullmatch(channel)
        and _MESSAGE_TS.fullmatch(ts)
    ):
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
