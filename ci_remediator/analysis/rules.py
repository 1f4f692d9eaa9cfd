"""The rules analyzer: a knowledge base of regexes mapped to category, risk and action.

It is the default analyzer and the fallback of the LLM one (DESIGN.md section 6). The shipped
rules live in `knowledge_base.yaml` beside this module; a user file (config key
`knowledge_base_file`) is loaded before them, so on equal confidence its rules win.

A user file's patterns are compiled with RE2, which matches in time linear in the text: a
pattern such as `(a+)+$` cannot stall the analysis on untrusted log text, and what RE2 does
not support (look-arounds, back-references, `\\u` escapes) is refused when the file loads,
naming the rule. The shipped file stays on Python's `re`: it is reviewed here, kept linear by
hand, and uses a look-ahead and `\\u2716`-style escapes that RE2 rejects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import zip_longest
from pathlib import Path
from typing import Any, Protocol, TypeVar

import re2
import yaml

from ci_remediator.analysis.excerpt import build_excerpt
from ci_remediator.analysis.redaction import redact
from ci_remediator.analysis.required_literals import Literals, may_match, required_literals, screen
from ci_remediator.domain import ActionKind, AnalysisResult, Category, Effort
from ci_remediator.text import strip_controls

SHIPPED_KNOWLEDGE_BASE = "knowledge_base.yaml"
ANALYZER_NAME = "rules"
MAX_ROOT_CAUSE_CHARS = 300

UNKNOWN_RISK = 5
UNKNOWN_CONFIDENCE = 0.2
UNKNOWN_SUMMARY = "No known failure pattern matched; needs a closer look."

_REQUIRED_FIELDS = ("id", "patterns", "category", "base_risk", "confidence", "flaky", "action")
_OPTIONAL_FIELDS = ("summary", "effort")
_ERROR_LINE = re.compile(r"(?m)^##\[error\](?!Process completed with exit code).+$")
_EXIT_LINE = re.compile(r"(?m)^.*Process completed with exit code \d+.*$")


E = TypeVar("E", Category, ActionKind, Effort)


class KnowledgeBaseError(ValueError):
    """A knowledge base file is unreadable or one of its rules is invalid."""


class PatternMatch(Protocol):
    def start(self) -> int: ...


class Pattern(Protocol):
    """What a rule needs of a compiled pattern; `re` and RE2 patterns both provide it."""

    @property
    def pattern(self) -> str: ...

    def search(self, text: str, /) -> PatternMatch | None: ...


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    patterns: tuple[Pattern, ...]
    category: Category
    base_risk: int
    confidence: float
    flaky: bool
    action: ActionKind
    summary: str
    effort: Effort = Effort.SMALL
    source: str = ""
    # Per pattern, what its every match contains (None: unknown); `()` knows nothing.
    literals: tuple[Literals | None, ...] = ()

    def first_match(self, text: str, screened: str | None = None) -> PatternMatch | None:
        """The earliest match of any of this rule's patterns in `text`. `screened`, the text
        as `required_literals.screen` gave it, skips patterns that cannot match."""
        # A rule built without literals (`()`) searches every pattern.
        paired = zip_longest(self.patterns, self.literals)
        searched = (p for p, literals in paired if may_match(literals, screened))
        matches = (m for m in (p.search(text) for p in searched) if m is not None)
        return min(matches, key=lambda m: m.start(), default=None)


@dataclass(frozen=True, slots=True)
class RuleMatch:
    rule: Rule
    line: str


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Rules in priority order: higher confidence first, then file order (user file first)."""

    rules: tuple[Rule, ...]
    sources: tuple[str, ...] = ()

    @classmethod
    def from_rules(cls, rules: Iterable[Rule], sources: Sequence[str] = ()) -> KnowledgeBase:
        listed = list(rules)
        # sorted() is stable, so equal confidence keeps file order.
        ordered = sorted(listed, key=lambda rule: -rule.confidence)
        return cls(rules=tuple(ordered), sources=tuple(sources))

    def match(self, text: str) -> RuleMatch | None:
        """The first rule, in priority order, that matches `text`."""
        return next(iter(self.matches(text)), None)

    def matches(self, text: str) -> list[RuleMatch]:
        """Every rule that matches `text`, in priority order, each with its first line."""
        # Output of a `docker build` step arrives prefixed with BuildKit's step number and
        # timestamp ("#14 1.20 "); the rules see the tool's own line, as without Docker.
        text = _BUILDKIT_PREFIX.sub("", text)
        screened = screen(text)
        found = []
        for rule in self.rules:
            match = rule.first_match(text, screened)
            if match is not None:
                found.append(RuleMatch(rule=rule, line=_line_around(text, match)))
        return found


_BUILDKIT_PREFIX = re.compile(r"(?m)^#\d{1,4} \d{1,6}\.\d{1,3} ")


def _line_around(text: str, match: PatternMatch) -> str:
    """The full line holding the start of `match`, trimmed."""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.start())
    line = text[start : end if end != -1 else len(text)].strip()
    if len(line) > MAX_ROOT_CAUSE_CHARS:
        line = line[: MAX_ROOT_CAUSE_CHARS - 3] + "..."
    return line


# ------------------------------------------------------------------------------- loading ----


def _fail(source: str, rule_id: str, field: str, problem: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(f"{source}: rule {rule_id!r}: field {field!r}: {problem}")


def _enum_field(raw: Mapping[str, Any], field: str, enum: type[E], source: str, rule_id: str) -> E:
    value = raw[field]
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise _fail(
            source, rule_id, field, f"unknown value {value!r} (allowed: {allowed})"
        ) from None


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the error is raised (and named) here, not printed by RE2
    return options


_RE2_OPTIONS = _re2_options()


def _compile_re2(pattern: str) -> Pattern:
    try:
        compiled: Pattern = re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"not supported by RE2 ({reason}); user rules run on RE2 so that no pattern can "
            "backtrack: no look-arounds or back-references, write \\x{2716} for \\u2716"
        ) from None
    return compiled


def _compile_re(pattern: str) -> Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(str(exc)) from None


def _patterns(
    raw: Mapping[str, Any], source: str, rule_id: str, *, trusted: bool
) -> tuple[Pattern, ...]:
    value = raw["patterns"]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
        raise _fail(source, rule_id, "patterns", "must be a non-empty list of strings")
    compile_pattern = _compile_re if trusted else _compile_re2
    compiled = []
    for pattern in value:
        try:
            compiled.append(compile_pattern(pattern))
        except ValueError as exc:
            raise _fail(source, rule_id, "patterns", f"invalid regex {pattern!r}: {exc}") from None
    return tuple(compiled)


def _base_risk(raw: Mapping[str, Any], source: str, rule_id: str) -> int:
    value = raw["base_risk"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise _fail(source, rule_id, "base_risk", f"must be an integer 0..10, got {value!r}")
    return value


def _confidence(raw: Mapping[str, Any], source: str, rule_id: str) -> float:
    value = raw["confidence"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _fail(source, rule_id, "confidence", f"must be a number 0..1, got {value!r}")
    return float(value)


def _parse_rule(raw: object, index: int, source: str, *, trusted: bool) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(source, f"#{index + 1}", "rules", "each rule must be a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise _fail(source, f"#{index + 1}", "id", "must be a non-empty string")
    for field in _REQUIRED_FIELDS:
        if field not in raw:
            raise _fail(source, rule_id, field, "is required")
    unknown = sorted(set(raw) - set(_REQUIRED_FIELDS) - set(_OPTIONAL_FIELDS))
    if unknown:
        raise _fail(source, rule_id, unknown[0], "unknown field")
    if not isinstance(raw["flaky"], bool):
        raise _fail(source, rule_id, "flaky", f"must be true or false, got {raw['flaky']!r}")
    summary = raw.get("summary", "")
    if not isinstance(summary, str):
        raise _fail(source, rule_id, "summary", "must be a string")
    patterns = _patterns(raw, source, rule_id, trusted=trusted)
    return Rule(
        id=rule_id,
        patterns=patterns,
        category=_enum_field(raw, "category", Category, source, rule_id),
        base_risk=_base_risk(raw, source, rule_id),
        confidence=_confidence(raw, source, rule_id),
        flaky=raw["flaky"],
        action=_enum_field(raw, "action", ActionKind, source, rule_id),
        summary=summary.strip() or rule_id,
        effort=_enum_field(raw, "effort", Effort, source, rule_id)
        if "effort" in raw
        else Effort.SMALL,
        source=source,
        # RE2's syntax is not Python's (`[[:alpha:]]`): a user pattern is always searched.
        literals=tuple(
            required_literals(p) if isinstance(p, re.Pattern) else None for p in patterns
        ),
    )


def parse_rules(text: str, source: str, *, trusted: bool = False) -> list[Rule]:
    """Rules of one YAML document; `source` names it in error messages.

    Patterns are compiled with RE2 unless the document is `trusted` (the shipped file), whose
    patterns are Python regexes.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{source}: invalid YAML: {exc}") from None
    if document is None:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise KnowledgeBaseError(f"{source}: expected a mapping with a 'rules' list")
    rules = [
        _parse_rule(raw, index, source, trusted=trusted)
        for index, raw in enumerate(document["rules"])
    ]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise _fail(source, rule.id, "id", "duplicate rule id")
        seen.add(rule.id)
    return rules


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{path}: cannot read knowledge base: {exc}") from None


def load_knowledge_base(extra_file: Path | None = None) -> KnowledgeBase:
    """The shipped rules plus, listed first (winning ties), the rules of `extra_file`.

    A user rule with the id of a shipped rule replaces it.
    """
    shipped_source = f"ci_remediator/analysis/{SHIPPED_KNOWLEDGE_BASE}"
    shipped_text = resources.files("ci_remediator.analysis").joinpath(SHIPPED_KNOWLEDGE_BASE)
    shipped = parse_rules(shipped_text.read_text(encoding="utf-8"), shipped_source, trusted=True)
    if extra_file is None:
        return KnowledgeBase.from_rules(shipped, [shipped_source])
    user = parse_rules(_read(Path(extra_file)), str(extra_file))
    overridden = {rule.id for rule in user}
    kept = [rule for rule in shipped if rule.id not in overridden]
    return KnowledgeBase.from_rules([*user, *kept], [str(extra_file), shipped_source])


# ------------------------------------------------------------------------------ analysis ----


# What a step's name says it runs, checked in this order ("Run npm run lint" is lint, not a
# build; "Build docs" is a build).
_STEP_KINDS: tuple[tuple[Category, re.Pattern[str]], ...] = (
    (Category.TYPE_CHECK, re.compile(r"(?i)\b(?:mypy|pyright|tsc|type-?check\w*|typecheck)\b")),
    (
        Category.LINT,
        re.compile(
            r"(?i)\b(?:lint\w*|eslint|ruff|flake8|pylint|prettier|black|isort|gofmt|fmt|format"
            r"|clippy|golangci\S*|rubocop|stylelint|shellcheck|pre-commit|vet|rustfmt|phpcs"
            r"|checkstyle|hadolint|yamllint|markdownlint)\b"
        ),
    ),
    (
        Category.TEST_FAILURE,
        re.compile(
            r"(?i)\b(?:tests?|pytest|tox|nox|jest|vitest|mocha|karma|playwright|cypress|e2e"
            r"|rspec|phpunit|ctest|spec)\b"
        ),
    ),
    (
        Category.DEPENDENCY,
        re.compile(
            r"(?i)\b(?:install\w*|npm ci|restore|dependencies|deps|bundle|poetry lock|uv sync)\b"
        ),
    ),
    (
        Category.COMPILE_ERROR,
        re.compile(r"(?i)\b(?:build|compile|make|cmake|mvn|gradle\w*|webpack|bazel|docker)\b"),
    ),
)
_STEP_HEADER = re.compile(r"(?m)^== step: (.{1,300}) ==$")
# The command a CI system echoes before running it: GitLab, Buildkite and a pasted terminal
# ("$ cmd"), Jenkins and `set -x` ("+ cmd").
_ECHOED_COMMAND = re.compile(r"(?m)^[$+] (\S.{0,300})$")


def category_from_step_names(excerpt: str) -> Category:
    """The kind of work the excerpt's failing steps run, judged by their names (and by the
    commands the CI system echoed, for logs without step headers) alone."""
    names = [name for name in _STEP_HEADER.findall(excerpt) if name != "Set up job"]
    names += _ECHOED_COMMAND.findall(excerpt)
    for category, pattern in _STEP_KINDS:
        if any(pattern.search(name) for name in names):
            return category
    return Category.UNKNOWN


# A test blocked on the network when it ran out of time: the environment, not the code.
_WAITING_ON_NETWORK = re.compile(
    r"(?i)\bsock(?:et)?\.(?:recv|recv_into|connect|read|send)\b|socket\.create_connection"
    r"|\burlopen\b|http\.client|\brequests\.(?:get|post|put|request)\b|net/http"
    r"|\bdial tcp\b|SocketInputStream|\bawait fetch\("
)
_TEST_REPORT_RULES = frozenset({"test-assertion"})


@dataclass(frozen=True, slots=True)
class _Verdict:
    category: Category
    flaky: bool
    action: ActionKind
    summary: str


def _verdict(matches: Sequence[RuleMatch], excerpt: str) -> _Verdict:
    """The first match's category and verdict, refined by what else the excerpt shows.

    - A transient network failure inside a failing test is a flaky test (the README's
      labelling rule 10), not an outage: the test report says what failed.
    - A test timeout while the test waited on the network is transient.
    - A compiler-shaped error from a step that runs a linter or a type checker is that
      step's kind (`go vet`, `cargo clippy` and `tsc --noEmit` print compiler diagnostics).
    """
    rule = matches[0].rule
    verdict = _Verdict(rule.category, rule.flaky, rule.action, rule.summary)
    others = {found.rule.id for found in matches[1:]}
    if rule.category is Category.INFRASTRUCTURE and rule.flaky and others & _TEST_REPORT_RULES:
        return _Verdict(
            Category.FLAKY_TEST,
            True,
            rule.action,
            "A test failed on a transient network error; a rerun usually passes.",
        )
    if rule.category is Category.TIMEOUT and not rule.flaky and _WAITING_ON_NETWORK.search(excerpt):
        return _Verdict(
            Category.TIMEOUT,
            True,
            ActionKind.RERUN_FAILED_JOBS,
            rule.summary.rstrip(".") + ", waiting on the network; transient.",
        )
    if rule.category is Category.COMPILE_ERROR:
        kind = category_from_step_names(excerpt)
        if kind in {Category.LINT, Category.TYPE_CHECK}:
            return _Verdict(kind, False, rule.action, rule.summary)
    return verdict


def _fallback_root_cause(excerpt: str) -> str:
    for pattern in (_ERROR_LINE, _EXIT_LINE):
        found = pattern.search(excerpt)
        if found:
            return _line_around(excerpt, found)
    return ""


def _where(job_name: str, workflow_name: str) -> str:
    parts = [
        f"workflow '{workflow_name}'" if workflow_name else "",
        f"job '{job_name}'" if job_name else "",
    ]
    located = ", ".join(part for part in parts if part)
    return f" ({located})" if located else ""


def analyze_with_rules(
    log_text: str,
    *,
    kb: KnowledgeBase,
    job_name: str = "",
    workflow_name: str = "",
    failed_step_names: Sequence[str] = (),
    budget_chars: int = 12_000,
    baseline_log: str | None = None,
) -> AnalysisResult:
    """Classify a failed job's log with the knowledge base. Text fields come out redacted.

    `baseline_log` is the same job's log from the last successful run: lines it shares with
    the failed log are not evidence of the failure and are left out of the excerpt.
    """
    excerpt = build_excerpt(
        log_text,
        budget_chars=budget_chars,
        failed_step_names=failed_step_names,
        baseline_lines=baseline_log.split("\n") if baseline_log else None,
    )
    return classify_excerpt(excerpt, kb=kb, job_name=job_name, workflow_name=workflow_name)


def classify_excerpt(
    excerpt: str, *, kb: KnowledgeBase, job_name: str = "", workflow_name: str = ""
) -> AnalysisResult:
    """Classify an excerpt already cut from a log (by `build_excerpt` or `excerpt_file`)."""
    # Names come from the repository's workflow file: untrusted, and a NUL in one could not
    # be stored.
    job_name, workflow_name = strip_controls(job_name), strip_controls(workflow_name)
    where = _where(job_name, workflow_name)
    components = (job_name,) if job_name else ()
    matches = kb.matches(excerpt)
    found = matches[0] if matches else None
    if found is None:
        # No rule knows the output; what the failing step runs is a weaker clue to its kind.
        guessed = category_from_step_names(excerpt)
        summary = UNKNOWN_SUMMARY
        if guessed is not Category.UNKNOWN:
            kind = guessed.value.replace("_", " ")
            summary = f"No known failure pattern matched; the failing step looks like a {kind}."
        return AnalysisResult(
            category=guessed,
            risk_score=UNKNOWN_RISK,
            confidence=UNKNOWN_CONFIDENCE,
            flaky=False,
            summary=redact(summary + where),
            root_cause=redact(_fallback_root_cause(excerpt)),
            proposed_action=ActionKind.NONE,
            analyzer=ANALYZER_NAME,
            rule_id=None,
            affected_components=tuple(redact(c) for c in components),
            effort=Effort.MEDIUM,
            excerpt=excerpt,
        )
    rule = found.rule
    verdict = _verdict(matches, excerpt)
    return AnalysisResult(
        category=verdict.category,
        risk_score=rule.base_risk,
        confidence=rule.confidence,
        flaky=verdict.flaky,
        summary=redact(verdict.summary + where),
        root_cause=redact(found.line),
        proposed_action=verdict.action,
        analyzer=ANALYZER_NAME,
        rule_id=rule.id,
        affected_components=tuple(redact(c) for c in components),
        effort=rule.effort,
        excerpt=excerpt,
    )
