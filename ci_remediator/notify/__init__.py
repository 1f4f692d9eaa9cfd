"""Notifications: one message per stage, built from stored (already redacted) data."""

from ci_remediator.notify.messages import StageMessage, build_stage_message
from ci_remediator.notify.notifier import Notifier, deliver, notify_stage

__all__ = ["Notifier", "StageMessage", "build_stage_message", "deliver", "notify_stage"]
