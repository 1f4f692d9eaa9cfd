"""Text that came from a log or a model, made safe to show people as data.

Such text is already redacted. Here it loses what could make it pass for something else:
control characters (terminal escapes, carriage returns that overwrite a line), bidirectional
overrides and isolates (text that reads differently from what it is: "Trojan Source"),
zero-width characters (invisible differences, hidden words), and length. Each channel then
frames it its own way: the console quotes it under a label, Slack puts it in a code block with
`&`, `<` and `>` escaped so it can never mention anyone, link anywhere or format itself.
"""

from __future__ import annotations

import re
import unicodedata

MAX_UNTRUSTED_CHARS = 1_500

# Bidirectional embeddings, overrides and isolates, and the invisible formatting characters.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\u034f\u061c\u180e]"
)
# Terminal escape sequences, with the ESC byte and as some logs carry them literally ("^[[31m").
_ESCAPE_SEQUENCE = re.compile(r"(?:\x1b|\^\[)\[[0-9;?]*[ -/]*[@-~]")


def neutralize(text: str, *, max_chars: int = MAX_UNTRUSTED_CHARS) -> str:
    """`text` without control, bidirectional or invisible characters, at most `max_chars`."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _INVISIBLE.sub("", text)
    kept = "".join(
        char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co")
    )
    if len(kept) > max_chars:
        kept = kept[: max_chars - 1] + "…"
    return kept


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities: no `<@U123>`, `<!channel>` or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_code_block(text: str) -> str:
    """Untrusted text as a Slack code block (mrkdwn): shown verbatim, never formatted."""
    body = slack_escape(neutralize(text)).replace("```", "'''")
    return f"```{body}```"


_SAFE_URL = re.compile(r"https?://[^\s<>|\x00-\x1f]{1,500}")


def is_plain_http_url(url: str) -> bool:
    """An http(s) URL of at most 500 characters with no space, control character, `<`, `>`
    or `|`: never `javascript:`, never a second link hidden in the first."""
    return _SAFE_URL.fullmatch(url) is not None


def slack_link(label: str, url: str) -> str:
    """A Slack link to an address we got from an API, or the escaped label alone when the
    address is not a plain http(s) URL (nothing can smuggle a second link or a mention in)."""
    text = slack_escape(neutralize(label, max_chars=100)).replace("|", "¦")
    if not is_plain_http_url(url):
        return text
    return f"<{url}|{text}>"
