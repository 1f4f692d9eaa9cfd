"""A user knowledge base runs on RE2: no pattern can hang the analysis, and what RE2 cannot
compile is refused when the file loads, naming the rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ci_remediator.analysis import KnowledgeBaseError, load_knowledge_base
from ci_remediator.analysis.rules import parse_rules

_RULE = """
rules:
  - id: {rule_id}
    patterns: ['{pattern}']
    category: lint
    base_risk: 3
    confidence: 0.99
    flaky: false
    action: none
    summary: A user rule.
"""


def _user_file(tmp_path: Path, rule_id: str, pattern: str) -> Path:
    path = tmp_path / "user_rules.yaml"
    path.write_text(_RULE.format(rule_id=rule_id, pattern=pattern), encoding="utf-8")
    return path


def test_nested_repetition_loads_under_re2_and_matches_in_linear_time(tmp_path: Path) -> None:
    # `(a+)+$` on 33 "a"s and one "!" takes Python's `re` about 2**33 steps; RE2 is linear.
    # No timing assertion: a hang would hit pytest's timeout.
    kb = load_knowledge_base(_user_file(tmp_path, "nested-plus", "(a+)+$"))
    rule = next(rule for rule in kb.rules if rule.id == "nested-plus")
    assert type(rule.patterns[0]) is not re.Pattern
    assert rule.first_match("a" * 33 + "!") is None
    found = kb.match("a" * 34)
    assert found is not None
    assert found.rule.id == "nested-plus"
    assert found.line == "a" * 34


@pytest.mark.parametrize(
    ("rule_id", "pattern"),
    [
        ("after-deploy", "(?<=deploy )failed"),
        ("not-console", "(?!Console)\\w+ failed"),
        ("repeated-word", "(\\w+) \\1"),
    ],
)
def test_pattern_re2_cannot_compile_is_refused_naming_the_rule(
    tmp_path: Path, rule_id: str, pattern: str
) -> None:
    path = _user_file(tmp_path, rule_id, pattern)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(path)
    message = str(caught.value)
    assert str(path) in message
    assert repr(rule_id) in message
    assert "patterns" in message
    assert "RE2" in message
    assert repr(pattern) in message


def test_inline_flags_the_knowledge_base_documents_work_under_re2() -> None:
    text = _RULE.format(rule_id="flags", pattern="(?i)(?m)^widget.{0,20}(?s:exploded.down)$")
    [rule] = parse_rules(text, "user.yaml")
    assert rule.first_match("setup\nWIDGET 42 EXPLODED\nDOWN") is not None


def test_shipped_rules_stay_on_python_re() -> None:
    # The shipped file uses a look-ahead and \\u escapes, which RE2 rejects; it is reviewed here.
    kb = load_knowledge_base()
    assert all(type(p) is re.Pattern for rule in kb.rules for p in rule.patterns)
