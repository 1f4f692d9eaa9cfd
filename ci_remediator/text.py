"""Text from outside (logs, workflow files, a model's answer) made fit to store and show."""

import re

# C0 controls and DEL, tab and line breaks kept: nothing a person should be shown, and NUL,
# which Postgres stores in neither text nor JSON.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_controls(text: str) -> str:
    """`text` without its control characters (tabs and line breaks kept)."""
    return _CONTROL.sub("", text) if not text.isprintable() else text
