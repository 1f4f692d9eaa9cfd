"""Notifications: the Notifier interface, stage messages built from stored (already redacted)
data, the console notifier, and untrusted text made safe to show. The notify step is
`ci_remediator.pipeline.notify`; Slack's notifier is `ci_remediator.slack.notifier`."""

from ci_remediator.notify.messages import StageMessage, build_stage_message
from ci_remediator.notify.notifier import Notifier, NotifierUnavailableError, ThreadRef

__all__ = [
    "Notifier",
    "NotifierUnavailableError",
    "StageMessage",
    "ThreadRef",
    "build_stage_message",
]
