"""Notifications: the Notifier interface, stage messages built from stored (already redacted)
data, and the console notifier. The notify step is `ci_remediator.pipeline.notify`."""

from ci_remediator.notify.messages import StageMessage, build_stage_message
from ci_remediator.notify.notifier import Notifier, deliver

__all__ = ["Notifier", "StageMessage", "build_stage_message", "deliver"]
