"""Console notifier: one line per stage, for the embedded form and the demo."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.markup import escape

from ci_remediator.notify.messages import StageMessage, SystemAlert
from ci_remediator.notify.notifier import ThreadRef
from ci_remediator.notify.untrusted import neutralize

STYLE = {"info": "cyan", "success": "green", "warning": "yellow", "critical": "bold red"}


class ConsoleNotifier:
    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._lock = threading.Lock()

    def send(self, message: StageMessage, *, thread: ThreadRef | None = None) -> None:
        lines = list(message.lines)
        if message.links:
            shown = (f"{neutralize(name, max_chars=100)} ({url})" for name, url in message.links)
            lines.append("failed jobs: " + ", ".join(shown))
        # Log and model text is quoted under a label: it can never pass for the system's words.
        for text in message.untrusted[:1]:
            first_line = neutralize(text, max_chars=300).splitlines()[0] if text.strip() else ""
            lines.append(f"model/log text (unverified): «{first_line}»")
        self._print(message.severity, message.title, tuple(lines))

    def alert(self, alert: SystemAlert) -> None:
        self._print(alert.severity, f"ALERT: {alert.title}", alert.lines)

    def _print(self, severity: str, title: str, lines: tuple[str, ...]) -> None:
        style = STYLE.get(severity, "white")
        # Every field is escaped: stored text may contain log-derived characters.
        text = f"[{style}]{escape(title)}[/]"
        if lines:
            text += "  " + escape(" | ".join(lines))
        with self._lock:
            self._console.print(text, highlight=False, soft_wrap=True)
