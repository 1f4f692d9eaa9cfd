"""Log and model text shown to people cannot pass for anything but data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ci_remediator.notify.untrusted import (
    MAX_UNTRUSTED_CHARS,
    neutralize,
    slack_code_block,
    slack_escape,
    slack_link,
)

BIDI_AND_INVISIBLE = "\u202e\u2066\u2067\u2068\u2069\u200b\u200d\u2060\ufeff\u061c"


def test_terminal_escapes_in_both_forms_and_carriage_returns_go() -> None:
    text = "\x1b[31mFAIL\x1b[0m ^[[32mok^[[0m\rfake line\x07"
    assert neutralize(text) == "FAIL okfake line"


def test_bidirectional_overrides_cannot_reorder_what_people_read() -> None:
    trojan = "access = 'user\u202e \u2066// admin\u2069 \u2066'"
    assert neutralize(trojan) == "access = 'user // admin '"


def test_long_text_is_cut_with_a_mark() -> None:
    cut = neutralize("x" * 5_000)
    assert len(cut) == MAX_UNTRUSTED_CHARS
    assert cut.endswith("…")


def test_slack_text_cannot_mention_link_or_close_its_code_block() -> None:
    hostile = "<!channel> <@U0ADMIN> <https://evil.example|click> ``` *bold*"
    block = slack_code_block(hostile)
    assert block.startswith("```")
    assert block.endswith("```")
    assert "<" not in block
    assert ">" not in block
    assert block.count("```") == 2
    assert "&lt;!channel&gt;" in block


@given(st.text())
def test_nothing_invisible_or_controlling_survives(text: str) -> None:
    shown = neutralize(text)
    assert not any(char in shown for char in BIDI_AND_INVISIBLE)
    assert all(char in "\n\t" or ord(char) >= 0x20 for char in shown)
    assert not any(0x7F <= ord(char) <= 0x9F for char in shown)
    assert len(shown) <= MAX_UNTRUSTED_CHARS


@given(st.text())
def test_slack_escaping_leaves_no_control_character(text: str) -> None:
    escaped = slack_escape(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert escaped.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


def test_a_link_is_made_only_to_a_plain_web_address_and_its_label_is_inert() -> None:
    url = "https://github.com/acme/web/actions/runs/1/job/2"
    assert slack_link("test", url) == f"<{url}|test>"
    assert slack_link("<!channel> a|b", url) == f"<{url}|&lt;!channel&gt; a¦b>"
    for bad in ("javascript:alert(1)", "https://x|<!here>", "https://a b", "https://a>b", ""):
        assert slack_link("test", bad) == "test"
