"""Turn a raw CI job log into a short excerpt that explains the failure.

The raw log is untrusted data: it is only cleaned, classified with regexes and cut down, never
interpreted. The excerpt is chosen, within a character budget, in this order:

1. what locates the failure: the job name, the failing step's display name and the first
   lines of its script, `##[error]` annotations with the lines just before them, and the exit
   line (`Process completed with exit code N`, `ERROR: Job failed: exit code 1`, ...);
2. the end of the failing step, up to half the budget: on every log the excerpt holds every
   line a character tail of half the budget would hold (the tail of the failing step, or of
   the log when it has no step markers), so it is never worse than `tail` at that budget;
3. the lines that explain a failure by their structure, which holds across ecosystems: test
   and compiler summaries, failure heads (`FAILED`, `FAIL`, `not ok`, numbered failure lists,
   `Error:`/`error:`, `file:line:` diagnostics), tracebacks with their first and last frames,
   expected/actual blocks, each with a few lines of context, earlier ones first;
4. more of the failing step's end, then the lines before the step;
5. lines holding words that often, not always, mean trouble.

Lines are rendered in log order with `[... N lines omitted ...]` markers. Escape codes (the
ESC byte and the literal `^[[31m` form), timestamps, and bidirectional and zero-width control
characters are removed from every line. The result is redacted.
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
from ci_remediator.text import strip_controls

_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode()
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})\s?"
)
# CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles), two-byte escapes.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# The same escapes as logs copied out of some web views print them: "^[" for ESC.
_LITERAL_ANSI = re.compile(r"\^\[(?:\[[0-?]*[ -/]*[@-~]|\][^\x07]*?(?:\x07|\^\[\\)|[@-Z\\-_])")
# Bidirectional overrides and isolates, zero-width characters and the BOM: they can make a line
# shown to people read differently from what it holds ("Trojan Source").
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

_STEP_START = re.compile(r"^##\[group\]Run (?P<name>.+)$")
_POST_JOB = re.compile(r"^(?:Post job cleanup\.|Cleaning up orphan processes)$")
_GROUP_MARKER = re.compile(r"^##\[(?:group|endgroup)\]")
_ERROR_ANNOTATION = re.compile(r"^##\[error\]")
# How CI systems report the job's end: GitHub, GitLab, Jenkins, Buildkite, CircleCI.
_CI_EXIT = re.compile(
    r"Process completed with exit code \d+"
    r"|^(?:\S+ )?ERROR: Job failed: "
    r"|^ERROR: script returned exit code \d+"
    r"|^\W{0,4}Error: The command exited with status \d+"
    r"|^Exited with code (?:exit status )?\d+"
)

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
    r"|^not ok \d+"  # TAP
    # A test's own result line ending in its verdict: pytest -v, libtest, unittest, ctest.
    r"|\S\s+(?:\.{3} )?(?:FAILED|FAIL|ERROR)(?:\s+\[\s*\d+%\])?\s*$"
    r"|(?i:\berrors? occurred\b)"
    r"|^FAILED \((?:failures|errors)=\d+"  # unittest
    r"|^FAILURES!$|^Tests: \d+, Assertions: \d+, (?:Errors|Failures)"  # PHPUnit
    r"|(?i:\b[1-9]\d* (?:failed|failures?|failing|errors?)\b.{0,80}\b\d+ (?:passed|passing|ok)\b)"
    r"|(?i:\b\d+ (?:tests?|examples?|specs?|assertions?),.{0,40}"
    r"\b[1-9]\d* (?:failures?|failed|errors?)\b)"
    r"|(?i:\b(?:failures|failed|errors): [1-9])"
    r"|^Failed \d+/\d+ test"  # prove
    r"|\bexit(?:ed)?(?: with)? (?:code|status) [1-9]\d*"
    r"|^\S*make(?:\[\d+\])?: \*\*\* .{1,200} Error \d+"
    r"|The operation was canceled"
    r"|The runner has received a shutdown signal"
    r"|lost communication with the server"
)

# A location in a test source file (`_test.go:`, `FooTest.java:`, `a.test.ts:`, `spec/x_spec.rb:`,
# `tests/test_x.py"`) or a frame of a test function (Rust `  4: crate::tests::name`). The
# classifier anchors the Rust frame at its line start; the keyword scan cannot, and need not.
_TEST_FILE_LOCATION = (
    r"(?:_test\.go|_spec\.rb|[Tt]ests?\.(?:java|kt|cs|php)|\.(?:test|spec)\.[cm]?[jt]sx?"
    r"|/test_[A-Za-z0-9_]{1,100}\.py\"?|/tests?/[^\s:\"]{1,200}\.[A-Za-z]{1,5}\"?)"
    r"(?::|, line |\()\d"
)
_RUST_TEST_FRAME = r"\d{1,4}: [\w:<>]{0,200}::tests?::\w"
_TEST_FRAME = _TEST_FILE_LOCATION + r"|^\s*" + _RUST_TEST_FRAME

# Tier 2: diagnostics worth keeping with context. (pattern, lines after to keep)
_DIAGNOSTICS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^\s*Traceback \(most recent call last\)"), 40),
    (re.compile(r"^=+ (?:FAILURES|ERRORS) =+$"), 3),
    (re.compile(r"^_{3,} .+ _{3,}$"), 4),
    (re.compile(r"^\s*\u25cf (?!Console\b)"), 20),  # jest "● test name" block; not console.log
    (re.compile(r"panicked at"), 4),
    (re.compile(r"error\[E\d{4}\]"), 8),
    # An error head, then its source line, caret and notes (javac's symbol/location).
    (re.compile(r"^\s*(?:\S+?:\d+:(?:\d+:)? )?(?:fatal )?error(?:\[\w+\])?:", re.IGNORECASE), 5),
    # "CMake Error at x:57 (message):", "Error in ...", "ERROR at": a tool naming its error.
    (re.compile(r"^\s*(?:[A-Z][\w.+-]{0,30} )?(?:Error|ERROR) (?:at|in|while) \S"), 4),
    (re.compile(r"\berror TS\d+:"), 2),
    (re.compile(r"^\S{1,300}\.[A-Za-z]{1,5}:\d+:\d+: \S"), 1),  # file:line:col: message
    (re.compile(r"^\s*E\s{2,}\S"), 1),  # pytest assertion/exception detail
    (re.compile(r"(?i)^\s*(?:expected|actual|received|got|want(?:ed)?)\b[^:=]{0,20}[:=]"), 2),
    (re.compile(r"^\s*not ok\b"), 6),  # TAP, with its YAML diagnostics
    (re.compile(r"^\s*\d{1,4}\) \S"), 6),  # numbered failure lists: rspec, PHPUnit, mocha
    (re.compile(r"Failure/Error:"), 6),
    (re.compile(r"^panic: "), 8),  # go: the message, then the goroutine's first frames
    (re.compile(r"^Caused by: "), 2),  # the bottom of a Java trace names the root cause
    (re.compile(r"(?i)segmentation fault|core dumped|^Killed$|^Aborted"), 2),
    (re.compile(r"^\S{1,300}\.[A-Za-z]{1,5}:\d+:(?: \S|\s*$)"), 1),  # file:line: message
    # A stack frame in a test file or a test function: the frame that names the test.
    (re.compile(_TEST_FRAME), 1),
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
    r"|\bPASSED\b|^\s*PASS\b|^\s*ok\b|\.\.\. ok$|^\s*[\u2713\u2714\u221a] "
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

    position: int  # the line's index in the log; a step header shares its opening line's
    text: str
    priority: Priority
    order: int = 1  # 0 renders before a line at the same position: headers


def clean_line(raw: str) -> str:
    """Strip the timestamp prefix, ANSI escapes, control characters and progress overwrites."""
    line = raw.lstrip(_BOM)
    if line[:1].isdigit():
        line = _TIMESTAMP.sub("", line, count=1)
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "^[" in line:
        line = _LITERAL_ANSI.sub("", line)
    if "\r" in line:  # a progress bar rewrites the line; only the last state matters
        line = next((part for part in reversed(line.split("\r")) if part.strip()), "")
    if not line.isascii():
        line = _INVISIBLE.sub("", line)
    line = strip_controls(line)
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
    "not ok",
    "xited with",
    "exit status",
    "complete job name",
    "segmentation",
    "core dumped",
)
_CASED_KEYWORDS = ("##[", "E  ", "\u25cf", "\u2716")  # `E  `: pytest detail; jest/eslint marks
# `path/file.ext:12:5: message`: compilers and linters (go, gcc, ruff, eslint's unix format)
# that print no "error" word.
_FILE_LINE_COL = r"\.[A-Za-z]{1,5}:\d+:(?:\d+:)? "
# A numbered failure list ("  1) Calculator adds", "1) FooTest::testBar") names no keyword.
_NUMBERED_ITEM = r"(?m:^[ \t]{0,8}\d{1,4}\) \S)"
# Test-file frames name no keyword either ("\t/src/app/soak_test.go:23 +0x12f").
_TEST_LOCATION = _TEST_FILE_LOCATION + "|" + _RUST_TEST_FRAME
_KEYWORD_SCAN = re2.compile(
    (
        "(?i:"
        + "|".join(re2.escape(word) for word in _KEYWORDS)
        + ")|"
        + "|".join(re2.escape(word) for word in _CASED_KEYWORDS)
        + "|"
        + _FILE_LINE_COL
        + "|"
        + _NUMBERED_ITEM
        + "|"
        + _TEST_LOCATION
    ).encode()
)
_CONTEXT_LOOKBACK = max(_CONTEXT_BEFORE_ERROR, _CONTEXT_BEFORE_DIAGNOSTIC)
_MAX_KEPT_STEPS = 16
# Raw bytes kept of a step's end (and of what came before it): timestamps and colour codes
# roughly double a line, so three budgets of raw text clean down to more than one budget.
_RAW_TAIL_FACTOR = 3
_PREAMBLE_MAX_LINES = 200
_SCRIPT_LINES = 5  # of the failing step's `run:` script, shown under its name
BLOCK_BYTES = 1 << 20

_JOB_NAME = "Complete job name: "
_SCRIPT_END = re.compile(r"^(?:shell|env|with): ?")


class _StepState:
    """What is kept of one step: flags, a bounded map of candidate lines, the raw bytes of its
    end and of what came just before it."""

    __slots__ = (
        "body_start",
        "candidate_chars",
        "candidates",
        "end_position",
        "has_diagnostic",
        "has_error",
        "has_error_line",
        "header_position",
        "name",
        "preamble_deadline",
        "raw_tail",
        "script",
        "script_open",
        "seen_by_kind",
        "summaries_seen",
        "tail_before",
    )

    def __init__(self, name: str, header_position: int, tail_before: bytes) -> None:
        self.name = name
        # The header renders at the position of the line that opened the step (`##[group]Run`
        # or, in a `gh` export, the step's first line), before that line.
        self.header_position = header_position
        self.body_start = header_position + 1
        self.end_position = header_position + 1
        self.preamble_deadline = -1  # position until which an open `##[group]Run` header runs
        self.has_error = False
        self.has_error_line = False
        self.has_diagnostic = False
        self.candidates: dict[int, tuple[Priority, str]] = {}
        self.candidate_chars = 0
        self.summaries_seen = 0
        self.seen_by_kind: dict[int, int] = {}
        self.script: list[tuple[int, str]] = []
        self.script_open = False
        self.raw_tail = b""  # the step's own last bytes, from its opening line on
        self.tail_before = tail_before  # the log's last bytes before the step opened


def _keep_last(data: bytes, keep: int) -> bytes:
    return data if len(data) <= keep else data[-keep:]


class _Builder:
    """Streams lines into per-step candidate sets; memory is bounded by the budget.

    A line's position is its index in the log (0-based, counting every line), so that lines
    read again from a step's raw tail land where the streamed ones did.
    """

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
        self.tail_keep = _RAW_TAIL_FACTOR * budget_chars
        self.next_position = 0
        self.previous_line: str | None = None
        self.recent: deque[tuple[int, str]] = deque(maxlen=_CONTEXT_LOOKBACK)
        self.pending_after: list[tuple[int, Priority]] = []  # (last position, priority)
        self.pending_until = -1
        self.raw_tail = b""  # the log's last bytes up to the end of the previous block
        self.block = b""  # the block being read, and where in it the current step's bytes start
        self.segment_start = 0
        self.line_offset = 0  # where in `block` the line being read starts
        self.gh_mode: bool | None = None
        self.gh_step = ""
        self.gh_job = ""
        self.job_line: tuple[int, str] | None = None
        self.steps_done_named: deque[_StepState] = deque(maxlen=_MAX_KEPT_STEPS)
        self.steps_done_errors: deque[_StepState] = deque(maxlen=_MAX_KEPT_STEPS)
        self.last_diagnostic_step: _StepState | None = None
        self.last_working_step: _StepState | None = None
        self.last_any_step: _StepState | None = None
        self.step = _StepState("Set up job", -1, b"")

    # ---------------------------------------------------------------- steps ----

    def _close_segment(self, until: int) -> None:
        """The current block's bytes up to `until` belong to the current step's tail."""
        if until > self.segment_start:
            segment = self.block[self.segment_start : until]
            tail = segment if len(segment) >= self.tail_keep else self.step.raw_tail + segment
            self.step.raw_tail = _keep_last(tail, self.tail_keep)
        self.segment_start = until

    def _finish_step(self) -> None:
        step = self.step
        step.end_position = self.next_position
        self.last_any_step = step
        if self.failed_step_names and _matches_failed_name(step.name, self.failed_step_names):
            self.steps_done_named.append(step)
        if step.has_error:
            self.steps_done_errors.append(step)
        elif step.has_diagnostic:
            self.last_diagnostic_step = step
        if step.name not in {"Set up job", "Post job cleanup"}:
            self.last_working_step = step

    def _start_step(self, name: str, position: int, *, with_preamble: bool) -> None:
        """A step opens at the line at `position`, which starts at `line_offset` in the block."""
        self._close_segment(self.line_offset)
        self.next_position = position  # the opening line belongs to the new step
        self._finish_step()
        before = self.block[: self.line_offset]
        tail_before = _keep_last(
            before if len(before) >= self.tail_keep else self.raw_tail + before, self.tail_keep
        )
        self.step = _StepState(name, position, tail_before)
        self.recent.clear()
        self.pending_after.clear()
        if with_preamble:
            self.step.preamble_deadline = position + _PREAMBLE_MAX_LINES
            self.step.script_open = True
            # Decode the script lines even where they hold no keyword.
            self.pending_until = max(self.pending_until, position + _SCRIPT_LINES + 1)

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
        self.block = block
        self.segment_start = 0
        if self.gh_mode is None:
            first = _decode(block.split(b"\n", 1)[0]).lstrip(_BOM)
            self.gh_mode = bool(_GH_PREFIX.match(first))
        if self.gh_mode:
            # Not `split` on the whole block: the final newline would add an empty line.
            offset = 0
            for raw in block[:-1].split(b"\n"):
                self.line_offset = offset
                self._feed_gh_line(_decode(raw))
                offset += len(raw) + 1
        else:
            self._feed_plain_block(block)
        self._close_segment(len(block))
        self.raw_tail = _keep_last(
            block if len(block) >= self.tail_keep else self.raw_tail + block, self.tail_keep
        )
        self.block = b""

    def _feed_gh_line(self, raw: str) -> None:
        found = _GH_PREFIX.match(raw) if "\t" in raw else None
        if found:
            self.gh_job = self.gh_job or found.group(1).strip()
            step_name = found.group(2).strip()
            if step_name != self.gh_step:
                self.gh_step = step_name
                if self.next_position > 0 or self.step.candidates:
                    self._start_step(step_name, self.next_position, with_preamble=False)
                else:
                    self.step.name = step_name
                    self.step.header_position = 0
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
            self.line_offset = line_start
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

    def _line(self, line: str) -> None:
        position = self.next_position
        self.next_position += 1
        if line and line == self.previous_line:
            return  # consecutive duplicate
        self.previous_line = line
        if line.startswith("##[group]Run ") and not self.gh_mode:
            self._start_step(line[len("##[group]Run ") :].strip(), position, with_preamble=True)
            self.next_position = position + 1
            return
        if line.startswith(_JOB_NAME) and self.job_line is None:
            self.job_line = (position, line)
        if (
            line.startswith("##[group]")
            and self.gh_mode
            and position == self.step.header_position + 1
        ):
            self.step.preamble_deadline = position + _PREAMBLE_MAX_LINES
        if line in {"Post job cleanup.", "Cleaning up orphan processes"} and (
            self.step.name != "Post job cleanup" and not self.gh_mode
        ):
            self._start_step("Post job cleanup", position, with_preamble=False)
            self.next_position = position + 1
        step = self.step
        if step.preamble_deadline >= 0:
            if line.startswith("##[endgroup]") or position > step.preamble_deadline:
                step.preamble_deadline = -1
                step.body_start = position + 1
            elif step.script_open:
                if _SCRIPT_END.match(line) or len(step.script) >= _SCRIPT_LINES:
                    step.script_open = False
                elif line.strip():
                    step.script.append((position, line))
            self.recent.clear()
            return
        if line.startswith("##[error]"):
            step.has_error = True
        self._classify(step, position, line)
        self.recent.append((position, line))

    def _classify(self, step: _StepState, position: int, line: str) -> None:
        if self.pending_after:
            # Context after earlier diagnostics: the best of the windows still open. Expired
            # windows go at once (a diagnostic on every other line must not pile them up).
            live = [entry for entry in self.pending_after if entry[0] >= position]
            self.pending_after = [entry for entry in live if entry[0] > position]
            if live and not _NOISE.search(line):
                self._offer(step, position, line, min(priority for _, priority in live))
        if line.startswith("##[error]") or ("xit" in line and _CI_EXIT.search(line)):
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

    def _essentials(self, steps: Sequence[_StepState], failing: _StepState) -> list[_Candidate]:
        essentials = [
            # A step's header is as important as its best line, so it is never orphaned.
            _Candidate(step.header_position, f"== step: {step.name} ==", (-1, 0, 0, n), 0)
            for n, step in enumerate(steps)
        ]
        if self.job_line is not None:
            essentials.append(_Candidate(*self.job_line, (-1, 0, 0, -1), 0))
        elif self.gh_job:
            # Before the first step's header, which may stand at -1 too.
            essentials.append(_Candidate(-1, f"== job: {self.gh_job} ==", (-1, 0, 0, -1), -1))
        essentials.extend(
            _Candidate(position, text, (-1, 1, 0, position)) for position, text in failing.script
        )
        return essentials

    def result(self) -> str:
        if self.budget <= 0:
            return ""
        steps = self._selected_steps()
        if not steps:
            return ""
        failing = next((step for step in reversed(steps) if step.has_error), steps[-1])
        candidates = self._essentials(steps, failing)
        for step in steps:
            for position in sorted(step.candidates):
                priority, text = step.candidates[position]
                candidates.append(_Candidate(position, text, priority))
        headers = {step.header_position for step in steps}
        own_end, before_step = _tail_of(failing, headers, self.tail_keep, self.baseline)
        chosen = _choose(candidates, own_end, before_step, self.budget)
        if all(candidate.order == 0 for candidate in chosen):
            return ""  # headers of steps that printed nothing
        excerpt = redact(_render(chosen))
        return _fit(excerpt, self.budget)


def _tail_of(
    step: _StepState, headers: set[int], keep: int, baseline: frozenset[int] | None
) -> tuple[list[_Candidate], list[_Candidate]]:
    """The step's last lines and the lines before it, each list newest first. A step-opening
    `##[group]Run` line reads as the header it stands for (and is left out where that header
    is shown already). A line the green run printed too is counted where it stands but not
    shown (`_SHARED`), except the failure's own annotations."""

    def lines(raw: bytes, end: int, *, whole: bool) -> list[_Candidate]:
        texts = _decode(raw).split("\n")
        texts.pop()  # what follows the last newline: nothing
        if not whole:
            texts = texts[1:]  # the first one was cut mid-line
        first = end - len(texts)
        tail = []
        for index in range(len(texts) - 1, -1, -1):
            text = clean_line(_strip_gh_prefix(texts[index]))
            if text.startswith("##[endgroup]"):
                text = ""  # as the web view shows a group: its title, then its lines
            elif text.startswith("##[group]") and not text.startswith("##[group]Run "):
                text = text[len("##[group]") :]
            elif text.startswith("##[group]Run "):
                if first + index in headers:
                    continue
                # A step that is not among the failing ones: marked apart from those, so
                # that what it printed is not read as the failure's own output.
                text = f"-- step: {text[len('##[group]Run ') :].strip()} --"
            shared = (
                baseline is not None
                and not text.startswith("##[error]")
                and not _CI_EXIT.search(text)
                and hash(normalise_for_baseline(text)) in baseline
            )
            tail.append(_Candidate(first + index, text, _SHARED if shared else _TAIL_PRIORITY))
        return tail

    own = lines(step.raw_tail, step.end_position, whole=len(step.raw_tail) < keep)
    before = lines(step.tail_before, step.header_position, whole=len(step.tail_before) < keep)
    return own, before


_TAIL_PRIORITY: Priority = (2.5, 0, 0, 0)
_SHARED: Priority = (9, 0, 0, 0)  # a tail line the baseline run printed too: never shown


def _fit(excerpt: str, budget_chars: int) -> str:
    """Redaction can lengthen a line (a short known secret becomes a longer marker): drop
    whole lines from the top, never the end, which holds the failing step's last lines."""
    if len(excerpt) <= budget_chars:
        return excerpt
    cut = excerpt[len(excerpt) - budget_chars :]
    newline = cut.find("\n")
    return cut[newline + 1 :] if newline != -1 else cut


class _Selection:
    """Chosen output positions and the exact upper bound of the text they render to."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.taken: set[tuple[int, int]] = set()
        self.chars = 0

    def cost_of_adding(self, candidate: _Candidate) -> int:
        position = candidate.position
        at = bisect.bisect_left(self.positions, position)
        before = self.positions[at - 1] if at > 0 else None
        after = self.positions[at] if at < len(self.positions) else None
        # Markers stand between chosen lines only: none before the first or after the last.
        gaps_added = int(before is not None and position - before > 1)
        gaps_added += int(after is not None and after - position > 1)
        gaps_added -= int(before is not None and after is not None and after - before > 1)
        return len(candidate.text) + 1 + gaps_added * _GAP_MARKER_MAX

    def try_add(self, candidate: _Candidate, limit: int) -> bool | None:
        """Add `candidate` if the text stays within `limit`; None when it is already in."""
        key = (candidate.position, candidate.order)
        if key in self.taken:
            return None
        cost = self.cost_of_adding(candidate)
        if self.chars + cost > limit:
            return False
        bisect.insort(self.positions, candidate.position)
        self.taken.add(key)
        self.chars += cost
        return True


def _render(chosen: Sequence[_Candidate]) -> str:
    out: list[str] = []
    previous: int | None = None
    for candidate in chosen:
        if previous is not None and candidate.position - previous > 1:
            out.append(f"[... {candidate.position - previous - 1} lines omitted ...]")
        if not out or candidate.text != out[-1]:
            out.append(candidate.text)
        previous = candidate.position
    return "\n".join(out)


def _choose(
    candidates: Sequence[_Candidate],
    own_end: Sequence[_Candidate],
    before_step: Sequence[_Candidate],
    budget_chars: int,
) -> list[_Candidate]:
    """Spend the budget in the order the module docstring gives."""
    selection = _Selection()
    chosen: list[_Candidate] = []

    def take(candidate: _Candidate, limit: int) -> bool:
        added = selection.try_add(candidate, limit)
        if added:
            chosen.append(candidate)
        return added is not False

    ranked = sorted(candidates, key=lambda c: (c.priority, c.position))
    tail_share = budget_chars // 2
    # 1. What locates the failure, within the other half (less room for one gap marker).
    for candidate in ranked:
        if candidate.priority[0] <= 0:
            take(candidate, budget_chars - tail_share - _GAP_MARKER_MAX)
    # 2. The end of the failing step, as a character tail of half the budget would keep it.
    tail_chars = 0
    for candidate in own_end:
        tail_chars += len(candidate.text) + 1
        if tail_chars > tail_share:
            break
        if candidate.priority != _SHARED:
            take(candidate, budget_chars)
    # 3. Lines that explain the failure (and essentials that did not fit above).
    for candidate in ranked:
        if candidate.priority < _TAIL_PRIORITY:
            take(candidate, budget_chars)
    # 4. More of the step's end, then the lines before it, while they fit.
    for candidate in [*own_end, *before_step]:
        if candidate.priority != _SHARED and not take(candidate, budget_chars):
            break
    # 5. Weak signals.
    for candidate in ranked:
        if _TAIL_PRIORITY < candidate.priority < _SHARED:
            take(candidate, budget_chars)
    return sorted(chosen, key=lambda c: (c.position, c.order))


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
    baseline: frozenset[int] | None = None,
) -> str:
    if budget_chars <= 0:
        return ""
    if baseline is None and baseline_lines is not None:
        baseline = baseline_hashes(baseline_lines)
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


def whole_line_blocks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Chunks of a byte stream (a file, an HTTP body) regrouped into blocks of whole lines,
    each line with its newline (the stream's last line may lack one). A block never splits a
    line, so neither a "\\r\\n", a BOM nor a multi-byte UTF-8 character straddles two blocks."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        carry = data[cut:]
        yield data[:cut]
    if carry:
        yield carry


def iter_file_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """Raw blocks of whole lines of `path` (see `whole_line_blocks`)."""

    def chunks() -> Iterator[bytes]:
        with Path(path).open("rb") as handle:
            while block := handle.read(block_bytes):
                yield block

    return whole_line_blocks(chunks())


def lines_of_blocks(blocks: Iterable[bytes]) -> Iterator[str]:
    """The decoded lines of blocks of whole lines (UTF-8, BOM dropped, bad bytes replaced)."""
    first = True
    for block in blocks:
        text = _decode(block.removesuffix(b"\n"))
        if first:
            text = text.removeprefix(_BOM)
            first = False
        yield from text.split("\n")


def excerpt_stream(
    chunks: Iterable[bytes],
    *,
    budget_chars: int = 12_000,
    failed_step_names: Sequence[str] = (),
    baseline: frozenset[int] | None = None,
) -> str:
    """`build_excerpt` of a log read as a byte stream (an HTTP body, in chunks of any size):
    memory stays bounded whatever its length. `baseline` is `baseline_hashes` of the last
    successful run's log."""
    return _excerpt_from_blocks(
        whole_line_blocks(chunks),
        budget_chars=budget_chars,
        failed_step_names=failed_step_names,
        baseline_lines=None,
        baseline=baseline,
    )


def baseline_of_stream(chunks: Iterable[bytes]) -> frozenset[int]:
    """`baseline_hashes` of a successful run's log read as a byte stream."""
    return baseline_hashes(lines_of_blocks(whole_line_blocks(chunks)))


def iter_file_lines(path: Path) -> Iterator[str]:
    """The decoded lines of `path` (UTF-8, BOM dropped, bad bytes replaced), for baselines."""
    return lines_of_blocks(iter_file_blocks(path))


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
