"""Turn a raw GitHub Actions job log into a short excerpt that explains the failure.

The raw log is untrusted data: it is only cleaned, classified with regexes and cut down, never
interpreted. The excerpt keeps, within a character budget and in original order:

1. `##[error]` annotations and the lines just before them (usually the tail of the failing
   command's output), and `Process completed with exit code N`;
2. test-runner and compiler summaries (pytest `FAILED ...`, jest `Tests: 1 failed`, cargo
   `test result: FAILED`, mypy `Found N errors`, pre-commit `....Failed`);
3. diagnostics with a few lines of context: tracebacks, assertion blocks, `error[E..]`,
   `file:line:col: error`, jest `●` blocks, go `--- FAIL`, `fatal:` ...

Lines are chosen greedily by that priority (earlier lines first within a tier, because the
first diagnostic is usually the root cause and later ones its echoes), then rendered in log
order with `[... N lines omitted ...]` markers. The result is redacted.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ci_remediator.analysis.redaction import redact

_BOM = "\ufeff"
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})\s?"
)
# CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles), two-byte escapes.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_STEP_START = re.compile(r"^##\[group\]Run (?P<name>.+)$")
_POST_JOB = re.compile(r"^(?:Post job cleanup\.|Cleaning up orphan processes)$")
_GROUP_MARKER = re.compile(r"^##\[(?:group|endgroup)\]")
_ERROR_ANNOTATION = re.compile(r"^##\[error\]")
_EXIT_CODE = re.compile(r"Process completed with exit code \d+")

MAX_LINE_CHARS = 400
# (tier, round, is_context, order): see `_line_priorities`.
Priority = tuple[float, int, int, int]
_GAP_MARKER_MAX = 40  # upper bound of len("[... 12345 lines omitted ...]\n")

# Tier 1: summaries. One line each says what failed; they are cheap and dense.
_SUMMARY = re.compile(
    r"short test summary info"
    r"|^(?:FAILED|ERROR) \S"
    r"|^=+ .*\b\d+ (?:failed|errors?)\b.*=+$"
    r"|test result: FAILED"
    r"|^(?:--- )?FAIL\b"
    r"|^(?:Tests|Test Suites):\s+\d+ failed"
    r"|^Found \d+ errors? in \d+ files?"
    r"|^Found \d+ errors?\.?$"
    r"|\b\d+ files? would be reformatted"
    r"|^would reformat "
    r"|\u2716 \d+ problems?"
    r"|\.{3,}\s*Failed$"
    r"|^\s*Summary .* failed"
    r"|error: (?:could not compile|test run failed)"
    r"|^Error: Process completed with exit code"
    r"|\bexceeded the maximum execution time\b"
    r"|The operation was canceled"
    r"|The runner has received a shutdown signal"
    r"|lost communication with the server"
)

# Tier 2: diagnostics worth keeping with context. (pattern, lines after to keep)
_DIAGNOSTICS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^\s*Traceback \(most recent call last\)"), 40),
    (re.compile(r"^=+ (?:FAILURES|ERRORS) =+$"), 3),
    (re.compile(r"^_{3,} .+ _{3,}$"), 4),
    (re.compile(r"^\s*\u25cf (?!Console\b)"), 20),  # jest "● test name" block; not console.log
    (re.compile(r"panicked at"), 4),
    (re.compile(r"error\[E\d{4}\]"), 8),
    (re.compile(r"^\s*(?:\S+?:\d+:(?:\d+:)? )?(?:fatal )?error(?:\[\w+\])?:", re.IGNORECASE), 2),
    (re.compile(r"\berror TS\d+:"), 2),
    (re.compile(r"^\s*E\s{2,}\S"), 1),  # pytest assertion/exception detail
    (re.compile(r"^\s*(?:Expected|Received)(?: value)?:"), 2),
    (
        re.compile(
            r"\b(?:Assertion|Type|Value|Key|Attribute|Import|ModuleNotFound|Runtime|OS)Error\b"
        ),
        2,
    ),
    (re.compile(r"^\s*[\w.]+(?:Error|Exception)(?::|$)"), 2),
    (re.compile(r"^\s*(?:fatal|FATAL):"), 3),
    (re.compile(r"^npm ERR!|^\s*ERR_PNPM_|^\[ERR_PNPM_|^\s*error\s+\S", re.IGNORECASE), 2),
    (re.compile(r"^(?:#\d+ )?ERROR:?\s"), 3),
    (re.compile(r"\b(?:ETIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN)\b"), 2),
    (re.compile(r"(?i)connection (?:reset|refused)|could not resolve host|name resolution"), 2),
    (re.compile(r"\b(?:50[234]) (?:Bad Gateway|Service Unavailable|Gateway Time-?out)\b"), 2),
    (re.compile(r"(?i)no space left on device|out of memory|killed|exit code 137"), 2),
    (re.compile(r"\bFAIL:? "), 3),
    (re.compile(r"\bError: "), 6),  # node errors are followed by their stack
    (re.compile(r"No tests found"), 2),
    (re.compile(r"(?i)^\s*(?:warning: )?\S+: \d+ (?:errors?|problems?)"), 1),
)
# Tier 3: words that often, not always, mean trouble. They fill whatever budget is left.
_WEAK_SIGNAL = re.compile(
    r"(?i)\b(?:error|errors|failed|failure|fatal|exception|denied|forbidden|unauthorized"
    r"|not found|cannot|can't|unable to|timed? ?out|refused|abort(?:ed|ing)?|killed|panic)\b"
    r"|^\s+at \S.*:\d+:\d+\)?$"  # JavaScript stack frame
)
_WEAK_CONTEXT_AFTER = 1
# Beyond a dozen summary lines the rest are usually echoes of the same cause; they then compete
# with diagnostics, in rounds of a few occurrences of each kind.
_PROMOTED_SUMMARIES = 12
_ROUND_SIZE = 3
_CONTEXT_BEFORE_DIAGNOSTIC = 2
_CONTEXT_BEFORE_ERROR = 8

# Context lines that carry no information: progress bars, install chatter, passing tests.
_NOISE = re.compile(
    r"^\s*$"
    r"|^[.sSxXfFE]{10,}(?:\s*\[\s*\d+%\])?$"
    r"|\[\s*\d+%\]\s*$"
    r"|^\s*\d+(?:\.\d+)?%"
    r"|\bPASSED\b|^\s*PASS\b|^\s*ok\b|\.\.\. ok$"
    r"|^(?:Downloading|Collecting|Requirement already satisfied|Using cached|Installing"
    r"|Building wheel|Created wheel|Stored in directory|Resolving|Receiving objects"
    r"|Resolving deltas|remote:|Progress|Fetching|Unpacking|Preparing|Get:\d|Hit:\d)"
    r"|^\s*(?:Compiling|Downloaded|Checking|Fresh|Updating|Locking|Adding) \S+ v?\d"
    r"|^#\d+ (?:sha256:|extracting|DONE|CACHED|\[internal\])"
    r"|^npm (?:WARN|notice)|^(?:shell|env): |^\[command\]"
)


@dataclass(slots=True)
class _Step:
    name: str
    lines: list[str] = field(default_factory=list)

    def has_error_annotation(self) -> bool:
        return any(_ERROR_ANNOTATION.match(line) for line in self.lines)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One line that may go into the excerpt; lower `priority` is chosen first."""

    position: int  # order in the rendered output
    text: str
    priority: Priority


def clean_line(raw: str) -> str:
    """Strip the timestamp prefix, ANSI escapes, control characters and progress overwrites."""
    line = _TIMESTAMP.sub("", raw, count=1)
    line = _ANSI.sub("", line)
    if "\r" in line:  # a progress bar rewrites the line; only the last state matters
        line = next((part for part in reversed(line.split("\r")) if part.strip()), "")
    line = _CONTROL.sub("", line).rstrip()
    if len(line) > MAX_LINE_CHARS:
        line = line[: MAX_LINE_CHARS - 60] + " [...] " + line[-53:]
    return line


def clean_log(log_text: str) -> list[str]:
    """The log's lines without BOM, timestamps, ANSI codes and consecutive duplicates."""
    lines: list[str] = []
    for raw in log_text.removeprefix(_BOM).split("\n"):
        line = clean_line(raw)
        if lines and line == lines[-1] and line:
            continue
        lines.append(line)
    return lines


def split_steps(lines: Sequence[str]) -> list[_Step]:
    """Split cleaned lines at `##[group]Run ...` (step start) and post-job cleanup markers.

    Actions also open nested `##[group]` blocks of their own; only `Run ` groups start a step.
    """
    steps = [_Step(name="Set up job")]
    for line in lines:
        start = _STEP_START.match(line)
        if start:
            steps.append(_Step(name=start.group("name").strip()))
        elif _POST_JOB.match(line) and steps[-1].name != "Post job cleanup":
            steps.append(_Step(name="Post job cleanup"))
        steps[-1].lines.append(line)
    return [step for step in steps if step.lines]


def _normalise_step_name(name: str) -> str:
    name = name.strip().lower()
    return name.removeprefix("run ").strip()


def _matches_failed_name(step: _Step, failed_step_names: Sequence[str]) -> bool:
    step_name = _normalise_step_name(step.name)
    for failed in failed_step_names:
        wanted = _normalise_step_name(failed)
        # The log shows only the first line of a multi-line `run:` (sometimes truncated).
        if wanted and (step_name == wanted or step_name.startswith(wanted)):
            return True
    return False


def _has_diagnostic(step: _Step) -> bool:
    return any(_SUMMARY.search(line) or _diagnostic_after(line) is not None for line in step.lines)


def select_failing_steps(steps: Sequence[_Step], failed_step_names: Sequence[str]) -> list[_Step]:
    if failed_step_names:
        named = [step for step in steps if _matches_failed_name(step, failed_step_names)]
        if named:
            return named
    with_errors = [step for step in steps if step.has_error_annotation()]
    if with_errors:
        return with_errors
    with_diagnostics = [step for step in steps if _has_diagnostic(step)]
    if with_diagnostics:
        return with_diagnostics[-1:]
    working = [step for step in steps if step.name not in {"Set up job", "Post job cleanup"}]
    return (working or list(steps))[-1:]


def _diagnostic_after(line: str) -> int | None:
    """How many following lines a diagnostic on `line` deserves, or None if it is none."""
    found = _diagnostic(line)
    return None if found is None else found[1]


def _diagnostic(line: str) -> tuple[int, int] | None:
    """(which diagnostic pattern, lines after to keep) for a diagnostic line, else None."""
    for kind, (pattern, after) in enumerate(_DIAGNOSTICS):
        if pattern.search(line):
            return kind, after
    return None


def _step_preamble_end(lines: Sequence[str]) -> int:
    """Index after the step's own `##[group]Run ... ##[endgroup]` header (command echo, env)."""
    if not lines or not _STEP_START.match(lines[0]):
        return 0
    for index, line in enumerate(lines[:200]):
        if line.startswith("##[endgroup]"):
            return index + 1
    return 1


def _line_priorities(lines: Sequence[str]) -> dict[int, Priority]:
    """Priority of each line of one step worth keeping (lower first); absent lines are dropped.

    A priority is (tier, round, is_context, order). Diagnostics are taken in rounds: the first
    few occurrences of every kind before further occurrences of any kind, so 200 identical
    mypy errors cannot crowd out the one panic message after them.
    """
    best: dict[int, Priority] = {}

    def offer(index: int, priority: Priority) -> None:
        if 0 <= index < len(lines) and not _GROUP_MARKER.match(lines[index]):
            current = best.get(index)
            if current is None or priority < current:
                best[index] = priority

    def offer_context(start: int, stop: int, priority: Priority) -> None:
        for index in range(max(start, preamble), min(stop, len(lines))):
            if not _NOISE.search(lines[index]):
                offer(index, priority)

    preamble = _step_preamble_end(lines)
    summaries_seen = 0
    seen_by_kind: dict[int, int] = {}
    for index, line in enumerate(lines):
        if index < preamble:
            continue
        if _ERROR_ANNOTATION.match(line) or _EXIT_CODE.search(line):
            # Later annotations first: the last one is what ended the job.
            offer(index, (0, 0, 0, -index))
            offer_context(index - _CONTEXT_BEFORE_ERROR, index, (0, 0, 1, -index))
        elif _SUMMARY.search(line):
            summaries_seen += 1
            tier = 1 if summaries_seen <= _PROMOTED_SUMMARIES else 2
            offer(index, (tier, summaries_seen // _ROUND_SIZE, 0, index))
        elif (diagnostic := _diagnostic(line)) is not None:
            kind, after = diagnostic
            seen_by_kind[kind] = seen_by_kind.get(kind, 0) + 1
            round_number = (seen_by_kind[kind] - 1) // _ROUND_SIZE
            offer(index, (2, round_number, 0, index))
            context: Priority = (2, round_number, 1, index)
            offer_context(index - _CONTEXT_BEFORE_DIAGNOSTIC, index, context)
            offer_context(index + 1, index + 1 + after, context)
        elif _WEAK_SIGNAL.search(line) and not _NOISE.search(line):
            offer(index, (3, 0, 0, index))
            offer_context(index + 1, index + 1 + _WEAK_CONTEXT_AFTER, (3, 0, 1, index))
    return best


def _candidates(steps: Sequence[_Step]) -> list[_Candidate]:
    candidates: list[_Candidate] = []
    position = 0
    for step_number, step in enumerate(steps):
        lines = redact("\n".join(step.lines)).split("\n")
        header = f"== step: {step.name} =="
        # The header of a step is as important as its best line, so it is never orphaned.
        candidates.append(_Candidate(position, redact(header), (-1, 0, 0, step_number)))
        position += 1
        for index, priority in sorted(_line_priorities(lines).items()):
            candidates.append(_Candidate(position + index, lines[index], priority))
        position += len(lines)
    return candidates


class _Selection:
    """Chosen output positions and the exact upper bound of the text they render to."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.chars = 0

    def cost_of_adding(self, position: int, text: str, first_position: int) -> int:
        at = bisect.bisect_left(self.positions, position)
        before = self.positions[at - 1] if at > 0 else first_position - 1
        after = self.positions[at] if at < len(self.positions) else None
        gaps_added = int(position - before > 1)
        if after is not None:
            gaps_added += int(after - position > 1) - int(after - before > 1)
        return len(text) + 1 + gaps_added * _GAP_MARKER_MAX

    def add(self, position: int, cost: int) -> None:
        bisect.insort(self.positions, position)
        self.chars += cost


def _render(chosen: Sequence[_Candidate], first_position: int) -> str:
    out: list[str] = []
    previous = first_position - 1
    for candidate in chosen:
        skipped = candidate.position - previous - 1
        if skipped > 0:
            out.append(f"[... {skipped} lines omitted ...]")
        if not out or candidate.text != out[-1]:
            out.append(candidate.text)
        previous = candidate.position
    return "\n".join(out)


def _choose(candidates: Sequence[_Candidate], budget_chars: int) -> list[_Candidate]:
    if not candidates:
        return []
    first_position = candidates[0].position
    selection = _Selection()
    chosen: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.priority, c.position)):
        cost = selection.cost_of_adding(candidate.position, candidate.text, first_position)
        if selection.chars + cost > budget_chars:
            continue  # a shorter, less important line may still fit
        selection.add(candidate.position, cost)
        chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.position)


def _tail(lines: Sequence[str], budget_chars: int) -> str:
    kept: list[str] = []
    used = 0
    for line in reversed([line for line in lines if line.strip()]):
        if used + len(line) + 1 > budget_chars:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(reversed(kept))


def build_excerpt(
    log_text: str,
    *,
    budget_chars: int = 12_000,
    failed_step_names: Sequence[str] = (),
) -> str:
    """The redacted lines of `log_text` that explain why the job failed, within the budget."""
    if budget_chars <= 0:
        return ""
    lines = clean_log(log_text)
    steps = select_failing_steps(split_steps(lines), failed_step_names)
    candidates = _candidates(steps)
    chosen = _choose(candidates, budget_chars)
    if len(chosen) <= len(steps):  # headers only: nothing recognisable, show the end instead
        excerpt = _tail(redact("\n".join(lines)).split("\n"), budget_chars)
    else:
        excerpt = _render(chosen, candidates[0].position)
    excerpt = redact(excerpt)
    return excerpt if len(excerpt) <= budget_chars else excerpt[:budget_chars]
