"""Console notifier: one line per stage, for the embedded form and the demo."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.markup import escape

from ci_remediator.notify.messages import StageMessage, SystemAlert

STYLE = {"info": "cyan", "success": "green", "warning": "yellow", "critical": "bold red"}


class ConsoleNotifier:
    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._lock = threading.Lock()

    def send(self, message: StageMessage) -> None:
        style = STYLE.get(message.severity, "white")
        # Every field is escaped: stored text may contain log-derived characters.
        text = f"[{style}]{escape(message.title)}[/]"
        if message.lines:
            text += "  " + escape(" | ".join(message.lines))
        with self._lock:
            self._console.print(text, highlight=False, soft_wrap=True)

    def alert(self, alert: SystemAlert) -> None:
        style = STYLE.get(alert.severity, "white")
        text = f"[{style}]ALERT: {escape(alert.title)}[/]"
        if alert.lines:
            text += "  " + escape(" | ".join(alert.lines))
        with self._lock:
            self._console.print(text, highlight=False, soft_wrap=True)
