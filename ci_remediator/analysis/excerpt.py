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
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import re2

from ci_remediator.analysis.redaction import redact

_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode()
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
    (re.compile(r"^\S{1,300}\.[A-Za-z]{1,5}:\d+:\d+: \S"), 1),  # file:line:col: message
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
_CONTEXT_BEFORE_GO_FAIL = 4

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
    r"|^go: (?:downloading|finding|extracting) "
    r"|^\s*--- (?:PASS|SKIP): |^=== (?:PAUSE|CONT) "
)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One line that may go into the excerpt; lower `priority` is chosen first."""

    position: int  # order in the rendered output
    text: str
    priority: Priority


def clean_line(raw: str) -> str:
    """Strip the timestamp prefix, ANSI escapes, control characters and progress overwrites."""
    line = raw.lstrip(_BOM)
    if line[:1].isdigit():
        line = _TIMESTAMP.sub("", line, count=1)
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "\r" in line:  # a progress bar rewrites the line; only the last state matters
        line = next((part for part in reversed(line.split("\r")) if part.strip()), "")
    if not line.isprintable():
        line = _CONTROL.sub("", line)
    line = line.rstrip()
    if len(line) > MAX_LINE_CHARS:
        line = line[: MAX_LINE_CHARS - 60] + " [...] " + line[-53:]
    return line


def clean_log(log_text: str) -> list[str]:
    """The log's lines without BOM, timestamps, ANSI codes and consecutive duplicates."""
    lines: list[str] = []
    for raw in log_text.removeprefix(_BOM).split("\n"):
        line = clean_line(_strip_gh_prefix(raw))
        if lines and line == lines[-1] and line:
            continue
        lines.append(line)
    return lines


# `gh run view --log` prefixes every line with "job<TAB>step<TAB>" before the timestamp.
_GH_PREFIX = re.compile(r"^([^\t\n]{0,300})\t([^\t\n]{0,300})\t(?=\ufeff?\d{4}-\d{2}-\d{2}T\d)")


def _strip_gh_prefix(raw: str) -> str:
    if "\t" in raw:
        found = _GH_PREFIX.match(raw)
        if found:
            return raw[found.end() :]
    return raw


def _normalise_step_name(name: str) -> str:
    name = name.strip().lower()
    return name.removeprefix("run ").strip()


def _matches_failed_name(step_name: str, failed_step_names: Sequence[str]) -> bool:
    step_name = _normalise_step_name(step_name)
    for failed in failed_step_names:
        wanted = _normalise_step_name(failed)
        # The log shows only the first line of a multi-line `run:` (sometimes truncated).
        if wanted and (step_name == wanted or step_name.startswith(wanted)):
            return True
    return False


def _diagnostic(line: str) -> tuple[int, int] | None:
    """(which diagnostic pattern, lines after to keep) for a diagnostic line, else None."""
    for kind, (pattern, after) in enumerate(_DIAGNOSTICS):
        if pattern.search(line):
            return kind, after
    return None


# ------------------------------------------------------------------- baseline dedupe ----

# What differs between two runs of the same job even when nothing changed.
_BASELINE_NOISE = re.compile(
    r"(?i)\b[0-9a-f]{7,64}\b"  # commit shas, container and cache ids
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|(?:/tmp|/var/folders|/private/var|[A-Z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)[^\s'\":]*"
    r"|\b\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds|m|min|h)\b"
    r"|\d+"
)
MAX_BASELINE_LINES = 200_000


def normalise_for_baseline(line: str) -> str:
    """A cleaned line with run-specific details (ids, durations, temp paths, numbers) masked."""
    return _BASELINE_NOISE.sub("#", line).strip()


def baseline_hashes(lines: Iterable[str], limit: int = MAX_BASELINE_LINES) -> frozenset[int]:
    """Hashes of the normalised non-empty lines of a successful run's log (at most `limit`)."""
    hashes: set[int] = set()
    for raw in lines:
        for part in raw.split("\n"):
            line = normalise_for_baseline(clean_line(_strip_gh_prefix(part)))
            if line:
                hashes.add(hash(line))
        if len(hashes) >= limit:
            break
    return frozenset(hashes)


# ----------------------------------------------------------------------- streaming ----

# One case-insensitive RE2 scan over each raw UTF-8 block finds the lines worth looking at;
# the others are counted, never decoded. Every tier-1/2 pattern and most weak signals hold one
# of these words (runner messages about timeouts, cancellation and lost runners come as `##[`
# annotations; network and disk errors say "error"). RE2 runs a DFA in one pass, where a
# `str.find` per keyword cost a pass each and dominated the streaming time.
_KEYWORDS = (
    "err",  # error, ERROR, npm ERR!, ERR_PNPM_, XxxError, error[E0308], error TS2322, OSError
    "fail",
    "fatal",
    "exception",
    "panic",
    "traceback",
    "exit code",
    "denied",
    "expected",
    "received",
    "reformat",
    "no tests found",
    "post job cleanup.",
    # The weak signals too: a line only they mark would otherwise never be looked at.
    "forbidden",
    "unauthorized",
    "not found",
    "cannot",
    "can't",
    "unable to",
    "timed out",
    "timeout",
    "refused",
    "abort",
    "killed",
    "undefined",
    "assert",
)
_CASED_KEYWORDS = ("##[", "E  ", "\u25cf", "\u2716")  # `E  `: pytest detail; jest/eslint marks
# `path/file.ext:12:5: message`: compilers and linters (go, gcc, ruff, eslint's unix format)
# that print no "error" word.
_FILE_LINE_COL = r"\.[A-Za-z]{1,5}:\d+:(?:\d+:)? "
_KEYWORD_SCAN = re2.compile(
    (
        "(?i:"
        + "|".join(re2.escape(word) for word in _KEYWORDS)
        + ")|"
        + "|".join(re2.escape(word) for word in _CASED_KEYWORDS)
        + "|"
        + _FILE_LINE_COL
    ).encode()
)
_CONTEXT_LOOKBACK = max(_CONTEXT_BEFORE_ERROR, _CONTEXT_BEFORE_DIAGNOSTIC)
_MAX_KEPT_STEPS = 16
# Raw characters kept for the tail fallback: timestamps and colour codes roughly double a line.
_RAW_TAIL_FACTOR = 3
_PREAMBLE_MAX_LINES = 200
BLOCK_BYTES = 1 << 20


class _StepState:
    """What is kept of one step: flags and a bounded map of candidate lines."""

    __slots__ = (
        "body_start",
        "candidate_chars",
        "candidates",
        "has_diagnostic",
        "has_error",
        "has_error_line",
        "header_position",
        "name",
        "preamble_deadline",
        "seen_by_kind",
        "summaries_seen",
    )

    def __init__(self, name: str, header_position: int) -> None:
        self.name = name
        self.header_position = header_position
        self.body_start = header_position + 1
        self.preamble_deadline = -1  # position until which an open `##[group]Run` header runs
        self.has_error = False
        self.has_error_line = False
        self.has_diagnostic = False
        self.candidates: dict[int, tuple[Priority, str]] = {}
        self.candidate_chars = 0
        self.summaries_seen = 0
        self.seen_by_kind: dict[int, int] = {}


class _Builder:
    """Streams cleaned lines into per-step candidate sets; memory is bounded by the budget."""

    def __init__(
        self,
        budget_chars: int,
        failed_step_names: Sequence[str],
        baseline: frozenset[int] | None,
    ) -> None:
        self.budget = budget_chars
        self.failed_step_names = tuple(failed_step_names)
        self.baseline = baseline
        # Candidates beyond a few budgets' worth can never be chosen; prune to this.
        self.candidate_cap = 4 * budget_chars + 4 * MAX_LINE_CHARS
        self.next_position = 0
        self.previous_line: str | None = None
        self.recent: deque[tuple[int, str]] = deque(maxlen=_CONTEXT_LOOKBACK)
        self.pending_after: list[tuple[int, Priority]] = []  # (last position, priority)
        self.pending_until = -1
        self.raw_tail = b""
        self.gh_mode: bool | None = None
        self.gh_step = ""
        self.steps_done_named: deque[_StepState] = deque(maxlen=_MAX_KEPT_STEPS)
        self.steps_done_errors: deque[_StepState] = deque(maxlen=_MAX_KEPT_STEPS)
        self.last_diagnostic_step: _StepState | None = None
        self.last_working_step: _StepState | None = None
        self.last_any_step: _StepState | None = None
        self.step = self._new_step("Set up job")

    # ---------------------------------------------------------------- steps ----

    def _new_step(self, name: str) -> _StepState:
        step = _StepState(name, self.next_position)
        self.next_position += 1  # the header's own slot
        return step

    def _finish_step(self) -> None:
        step = self.step
        self.last_any_step = step
        if self.failed_step_names and _matches_failed_name(step.name, self.failed_step_names):
            self.steps_done_named.append(step)
        if step.has_error:
            self.steps_done_errors.append(step)
        elif step.has_diagnostic:
            self.last_diagnostic_step = step
        if step.name not in {"Set up job", "Post job cleanup"}:
            self.last_working_step = step

    def _start_step(self, name: str, *, with_preamble: bool) -> None:
        self._finish_step()
        self.step = self._new_step(name)
        self.recent.clear()
        self.pending_after.clear()
        if with_preamble:
            self.step.preamble_deadline = self.next_position + _PREAMBLE_MAX_LINES

    # ---------------------------------------------------------------- lines ----

    def feed_block(self, block: bytes) -> None:
        """Feed complete UTF-8 lines, each ending with "\\n"; only the stream's last block may
        lack its final newline. An empty block holds no line, and b"\\n" is one empty line.

        Every line must carry its terminator: with lines merely joined by "\\n", a block ending
        with an empty line would look the same as one whose trailing newline is optional, and
        that line would be lost (shifting every later position) whenever a block ended there.
        """
        if not block:
            return
        if not block.endswith(b"\n"):
            block += b"\n"
        if self.gh_mode is None:
            first = _decode(block.split(b"\n", 1)[0]).lstrip(_BOM)
            self.gh_mode = bool(_GH_PREFIX.match(first))
        if self.gh_mode:
            # Not `split` on the whole block: the final newline would add an empty line.
            for raw in _decode(block[:-1]).split("\n"):
                self._feed_gh_line(raw)
        else:
            self._feed_plain_block(block)
        self._update_tail(block)

    def _feed_gh_line(self, raw: str) -> None:
        found = _GH_PREFIX.match(raw) if "\t" in raw else None
        if found:
            step_name = found.group(2).strip()
            if step_name != self.gh_step:
                self.gh_step = step_name
                if self.next_position > 1 or self.step.candidates:
                    self._start_step(step_name, with_preamble=False)
                else:
                    self.step.name = step_name
            raw = raw[found.end() :]
        self._line(clean_line(raw))

    def _feed_plain_block(self, block: bytes) -> None:
        """The fast path: only lines holding a keyword are decoded, cleaned and classified."""
        starts = {block.rfind(b"\n", 0, hit.start()) + 1 for hit in _KEYWORD_SCAN.finditer(block)}
        hits = sorted(starts)
        next_hit = 0
        cursor = 0
        while cursor < len(block):
            if self.pending_until >= self.next_position:
                line_start = cursor  # context after a diagnostic, whatever it holds
            else:
                while next_hit < len(hits) and hits[next_hit] < cursor:
                    next_hit += 1
                if next_hit == len(hits):
                    break
                line_start = hits[next_hit]
            skipped = block.count(b"\n", cursor, line_start)
            if skipped:
                self._skip_lines(block, line_start, skipped)
            line_end = block.find(b"\n", line_start)
            self._line(clean_line(_decode(block[line_start:line_end])))
            cursor = line_end + 1
        remaining = block.count(b"\n", cursor)
        if remaining:
            self._skip_lines(block, len(block), remaining)

    def _skip_lines(self, block: bytes, before: int, count: int) -> None:
        """Account for `count` uninteresting lines ending just before offset `before`."""
        self.next_position += count
        self.previous_line = None
        self.pending_after.clear()
        # Keep the last few of them as possible context before the next error. They are the
        # newest lines, so they go to the right end of `recent` in log order: the deque then
        # always holds the last lines seen, whether a run of skipped lines spans blocks or not.
        end = before - 1  # the newline ending the last skipped line
        keep: list[bytes] = []
        for _ in range(min(count, _CONTEXT_LOOKBACK)):
            start = block.rfind(b"\n", 0, end) + 1
            keep.append(block[start:end])
            end = start - 1
        position = self.next_position - len(keep)
        for raw in reversed(keep):
            self.recent.append((position, clean_line(_decode(raw))))
            position += 1

    def _update_tail(self, block: bytes) -> None:
        # Raw bytes are kept and decoded only if the tail is ever needed (rarely): cleaning it
        # for every block cost a tenth of the streaming time.
        keep = _RAW_TAIL_FACTOR * self.budget
        self.raw_tail = block[-keep:] if len(block) >= keep else (self.raw_tail + block)[-keep:]

    def _tail_lines(self) -> list[str]:
        lines = _decode(self.raw_tail).split("\n")
        if len(self.raw_tail) >= _RAW_TAIL_FACTOR * self.budget:
            lines = lines[1:]  # the first one was cut mid-line
        return [clean_line(_strip_gh_prefix(raw)) for raw in lines]

    def _line(self, line: str) -> None:
        if line and line == self.previous_line:
            return  # consecutive duplicate
        self.previous_line = line
        if line.startswith("##[group]Run ") and not self.gh_mode:
            self._start_step(line[len("##[group]Run ") :].strip(), with_preamble=True)
            self.next_position += 1
            return
        if (
            line.startswith("##[group]")
            and self.gh_mode
            and self.next_position == (self.step.header_position + 1)
        ):
            self.step.preamble_deadline = self.next_position + _PREAMBLE_MAX_LINES
        if line in {"Post job cleanup.", "Cleaning up orphan processes"} and (
            self.step.name != "Post job cleanup" and not self.gh_mode
        ):
            self._start_step("Post job cleanup", with_preamble=False)
        position = self.next_position
        self.next_position += 1
        step = self.step
        if step.preamble_deadline >= 0:
            if line.startswith("##[endgroup]") or position > step.preamble_deadline:
                step.preamble_deadline = -1
                step.body_start = position + 1
            self.recent.clear()
            return
        if line.startswith("##[error]"):
            step.has_error = True
        self._classify(step, position, line)
        self.recent.append((position, line))

    def _classify(self, step: _StepState, position: int, line: str) -> None:
        if self.pending_after:
            for stop, priority in self.pending_after:
                if position <= stop and not _NOISE.search(line):
                    self._offer(step, position, line, priority)
            if self.pending_after[-1][0] <= position:
                self.pending_after = [p for p in self.pending_after if p[0] > position]
        if line.startswith("##[error]") or ("exit code" in line and _EXIT_CODE.search(line)):
            # The step's first annotation, then later ones first: the last ended the job.
            first = line.startswith("##[error]") and not step.has_error_line
            step.has_error_line = step.has_error_line or line.startswith("##[error]")
            rank = -1 if first else 0
            self._offer(step, position, line, (0, rank, 0, -position), keep_always=True)
            self._offer_before(step, position, _CONTEXT_BEFORE_ERROR, (0, 0, 1, -position))
        elif _SUMMARY.search(line):
            step.has_diagnostic = True
            step.summaries_seen += 1
            tier = 1 if step.summaries_seen <= _PROMOTED_SUMMARIES else 2
            round_number = step.summaries_seen // _ROUND_SIZE
            self._offer(step, position, line, (tier, round_number, 0, position))
            if line.lstrip().startswith("--- FAIL"):
                # go test prints a failing test's messages before its `--- FAIL:` line.
                self._offer_before(
                    step, position, _CONTEXT_BEFORE_GO_FAIL, (2, round_number, 1, position)
                )
        elif (diagnostic := _diagnostic(line)) is not None:
            step.has_diagnostic = True
            kind, after = diagnostic
            seen = step.seen_by_kind.get(kind, 0) + 1
            step.seen_by_kind[kind] = seen
            round_number = (seen - 1) // _ROUND_SIZE
            self._offer(step, position, line, (2, round_number, 0, position))
            context: Priority = (2, round_number, 1, position)
            self._offer_before(step, position, _CONTEXT_BEFORE_DIAGNOSTIC, context)
            self._pend(position + after, context)
        elif _WEAK_SIGNAL.search(line) and not _NOISE.search(line):
            self._offer(step, position, line, (3, 0, 0, position))
            self._pend(position + _WEAK_CONTEXT_AFTER, (3, 0, 1, position))

    def _pend(self, stop: int, priority: Priority) -> None:
        self.pending_after.append((stop, priority))
        self.pending_until = max(self.pending_until, stop)

    def _offer_before(
        self, step: _StepState, position: int, count: int, priority: Priority
    ) -> None:
        first = max(position - count, step.body_start)
        for earlier, text in self.recent:
            if first <= earlier < position and not _NOISE.search(text):
                self._offer(step, earlier, text, priority)

    def _offer(
        self,
        step: _StepState,
        position: int,
        line: str,
        priority: Priority,
        *,
        keep_always: bool = False,
    ) -> None:
        if _GROUP_MARKER.match(line):
            return
        if (
            self.baseline is not None
            and not keep_always
            and not line.startswith("##[error]")
            and hash(normalise_for_baseline(line)) in self.baseline
        ):
            return
        current = step.candidates.get(position)
        if current is None:
            step.candidates[position] = (priority, line)
            step.candidate_chars += len(line) + 1
            if step.candidate_chars > self.candidate_cap:
                self._prune(step)
        elif priority < current[0]:
            step.candidates[position] = (priority, line)

    def _prune(self, step: _StepState) -> None:
        """Keep the best candidates worth about two budgets; the rest could never be chosen."""
        ranked = sorted(step.candidates.items(), key=lambda item: (item[1][0], item[0]))
        kept: dict[int, tuple[Priority, str]] = {}
        used = 0
        limit = 2 * self.budget + 2 * MAX_LINE_CHARS
        for position, (priority, text) in ranked:
            if used >= limit and priority[0] > 0:
                continue
            kept[position] = (priority, text)
            used += len(text) + 1
        step.candidates = kept
        step.candidate_chars = used

    # --------------------------------------------------------------- result ----

    def _selected_steps(self) -> list[_StepState]:
        self._finish_step()
        if self.steps_done_named:
            return list(self.steps_done_named)
        if self.steps_done_errors:
            return list(self.steps_done_errors)
        if self.last_diagnostic_step is not None:
            return [self.last_diagnostic_step]
        if self.last_working_step is not None:
            return [self.last_working_step]
        return [self.last_any_step] if self.last_any_step is not None else []

    def result(self) -> str:
        if self.budget <= 0:
            return ""
        steps = self._selected_steps()
        candidates: list[_Candidate] = []
        for step_number, step in enumerate(steps):
            header = f"== step: {step.name} =="
            # A step's header is as important as its best line, so it is never orphaned.
            candidates.append(_Candidate(step.header_position, header, (-1, 0, 0, step_number)))
            for position in sorted(step.candidates):
                priority, text = step.candidates[position]
                candidates.append(_Candidate(position, text, priority))
        chosen = _choose(candidates, self.budget)
        if len(chosen) <= len(steps):  # headers only: nothing recognisable, show the end instead
            excerpt = _tail_text(self._tail_lines(), self.budget)
        else:
            excerpt = _render(chosen, candidates[0].position)
        excerpt = redact(excerpt)
        return excerpt if len(excerpt) <= self.budget else excerpt[: self.budget]


def _tail_text(lines: Iterable[str], budget_chars: int) -> str:
    kept: list[str] = []
    used = 0
    for line in reversed([redact(line) for line in lines if line.strip()]):
        if used + len(line) + 1 > budget_chars:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(reversed(kept))


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


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


# Block producers for `_Builder.feed_block`: whole lines, each with its "\n".


def _blocks_of_lines(lines: Iterable[str]) -> Iterator[bytes]:
    batch: list[str] = []
    size = 0
    for line in lines:
        part = line if line.endswith("\n") else line + "\n"
        batch.append(part)
        size += len(part)
        if size >= BLOCK_BYTES:
            yield "".join(batch).encode("utf-8", errors="replace")
            batch = []
            size = 0
    if batch:
        yield "".join(batch).encode("utf-8", errors="replace")


def _blocks_of_text(text: str) -> Iterator[bytes]:
    start = 0
    while start < len(text):
        end = text.find("\n", min(start + BLOCK_BYTES, len(text)) - 1)
        end = len(text) if end == -1 else end + 1  # just past the newline
        yield text[start:end].encode("utf-8", errors="replace")
        start = end


def _excerpt_from_blocks(
    blocks: Iterable[bytes],
    *,
    budget_chars: int,
    failed_step_names: Sequence[str],
    baseline_lines: Iterable[str] | None,
) -> str:
    if budget_chars <= 0:
        return ""
    baseline = None if baseline_lines is None else baseline_hashes(baseline_lines)
    builder = _Builder(budget_chars, failed_step_names, baseline)
    first = True
    for block in blocks:
        if not block:
            continue
        # Blocks end just after a newline, so the BOM (at the start of the first line) and
        # every "\r\n" lie whole inside one block.
        data = block.removeprefix(_BOM_BYTES) if first else block
        first = False
        builder.feed_block(data.replace(b"\r\n", b"\n") if b"\r" in data else data)
    return builder.result()


def build_excerpt_from_lines(
    lines: Iterable[str],
    *,
    budget_chars: int = 12_000,
    failed_step_names: Sequence[str] = (),
    baseline_lines: Iterable[str] | None = None,
) -> str:
    """The redacted lines that explain why the job failed, read from an iterable of lines.

    Lines may keep their trailing newline. Memory stays bounded whatever the log's length:
    only candidate lines (pruned to a few budgets per kept step), a few lines of context and
    a budget-sized tail are held. `baseline_lines` is the log of the last successful run of
    the same job: lines that also appear there (after normalisation) are dropped, except
    `##[error]` annotations and the exit line.
    """
    return _excerpt_from_blocks(
        _blocks_of_lines(lines),
        budget_chars=budget_chars,
        failed_step_names=failed_step_names,
        baseline_lines=baseline_lines,
    )


def build_excerpt(
    log_text: str,
    *,
    budget_chars: int = 12_000,
    failed_step_names: Sequence[str] = (),
    baseline_lines: Iterable[str] | None = None,
) -> str:
    """The redacted lines of `log_text` that explain why the job failed, within the budget."""
    return _excerpt_from_blocks(
        _blocks_of_text(log_text),
        budget_chars=budget_chars,
        failed_step_names=failed_step_names,
        baseline_lines=baseline_lines,
    )


def iter_file_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """Raw blocks of whole lines of `path`, each line with its newline (the file's last line
    may lack one). A block never splits a line, so neither a "\\r\\n", a BOM nor a multi-byte
    UTF-8 character straddles two blocks."""
    carry = b""
    with Path(path).open("rb") as handle:
        while block := handle.read(block_bytes):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            carry = data[cut:]
            yield data[:cut]
    if carry:
        yield carry


def iter_file_lines(path: Path) -> Iterator[str]:
    """The decoded lines of `path` (UTF-8, BOM dropped, bad bytes replaced), for baselines."""
    first = True
    for block in iter_file_blocks(path):
        text = _decode(block.removesuffix(b"\n"))
        if first:
            text = text.removeprefix(_BOM)
            first = False
        yield from text.split("\n")


def excerpt_file(
    path: Path,
    *,
    budget_chars: int = 12_000,
    failed_step_names: Sequence[str] = (),
    baseline_path: Path | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> str:
    """`build_excerpt` of a log file, read in blocks of about `block_bytes`: memory does not
    grow with the file, and the result does not depend on where the blocks end."""
    return _excerpt_from_blocks(
        iter_file_blocks(path, block_bytes),
        budget_chars=budget_chars,
        failed_step_names=failed_step_names,
        baseline_lines=None if baseline_path is None else iter_file_lines(baseline_path),
    )
