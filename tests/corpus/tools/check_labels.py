"""Validate every case under tests/corpus/cases against the README's schema and rule.

Usage:
    python tests/corpus/tools/check_labels.py [CASE_DIR ...]

With no arguments every directory in tests/corpus/cases is checked. Exits 1 when any case has
a problem, printing one `case-id: problem` line per problem. Stdlib only.

Line numbers are 1-based and counted on "\\n" only (as `grep -n` counts them), so a lone "\\r"
inside a line (GitLab's `section_start:...\\r`) does not start a new line.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent
CASES = CORPUS / "cases"

CATEGORIES = {
    "test_failure",
    "flaky_test",
    "infrastructure",
    "dependency",
    "compile_error",
    "type_check",
    "lint",
    "configuration",
    "permissions",
    "timeout",
    "resource_exhaustion",
    "unknown",
}
FAILURE_CATEGORIES = {
    "test_assertion",
    "permission_or_secret",
    "compile_error",
    "lint_error",
    "timeout_or_oom",
    "github_actions_config",
    "type_error",
    "dependency_install",
    "network_or_flaky",
    "docker_build",
    "snapshot_or_golden_diff",
    "formatting_failure",
}
SHAPES = {
    "github_actions",
    "github_actions_plain",
    "gitlab",
    "jenkins",
    "buildkite",
    "circleci",
    "plain",
}
IMPORTANCE = {"critical", "important"}
ALWAYS_TRANSIENT = {"infrastructure", "flaky_test"}
MAYBE_TRANSIENT = {"timeout", "resource_exhaustion"}
TAG_KEYS = {
    "case_id": str,
    "ecosystem": str,
    "tool": str,
    "shape": str,
    "category": str,
    "failure_category": str,
    "flaky_or_transient": bool,
    "made_by": str,
}
MAX_SIGNAL_LINES = 6
MAX_LOG_BYTES = 400 * 1024
CASE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-\d{3}$")
TIMESTAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?")
ESCAPE = re.compile(r"(?:\x1b|\^\[)(?:\[[0-9;?]*[A-Za-z]|[()][AB0-2])")


def visible(line: str) -> str:
    """The line without BOM, GitHub timestamp, ANSI escapes, carriage returns and blanks."""
    line = TIMESTAMP.sub("", line.lstrip("\ufeff"))
    return ESCAPE.sub("", line).replace("\r", "").strip()


def load_json(path: Path, problems: list[str]) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"missing {path.name}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        problems.append(f"{path.name} is not valid JSON: {error}")
    return None


def check_transient(tags: dict[str, object], problems: list[str]) -> None:
    """The README's transient clause: always for infrastructure/flaky_test, never outside
    those and timeout/resource_exhaustion."""
    category = tags.get("category")
    transient = tags.get("flaky_or_transient")
    if not isinstance(transient, bool) or category not in CATEGORIES:
        return
    if category in ALWAYS_TRANSIENT and not transient:
        problems.append(f"tags.json: category {category} must be flaky_or_transient")
    if category not in ALWAYS_TRANSIENT | MAYBE_TRANSIENT and transient:
        problems.append(f"tags.json: category {category} cannot be flaky_or_transient")


def check_tags(case_id: str, tags: object, problems: list[str]) -> dict[str, object]:
    if not isinstance(tags, dict):
        problems.append("tags.json is not an object")
        return {}
    for key, kind in TAG_KEYS.items():
        if key not in tags:
            problems.append(f"tags.json: missing {key!r}")
        elif not isinstance(tags[key], kind):
            problems.append(f"tags.json: {key!r} is not {kind.__name__}")
    if tags.get("case_id") != case_id:
        problems.append(f"tags.json: case_id {tags.get('case_id')!r} != directory {case_id!r}")
    if not CASE_ID.match(case_id):
        problems.append("case id is not <ecosystem>-<what>-<nnn>")
    if "shape" in tags and tags["shape"] not in SHAPES:
        problems.append(f"tags.json: shape {tags['shape']!r} is not one of {sorted(SHAPES)}")
    category = tags.get("category")
    if category is not None and category not in CATEGORIES:
        problems.append(f"tags.json: category {category!r} is not a Category value")
    failure = tags.get("failure_category")
    if failure is not None and failure not in FAILURE_CATEGORIES:
        problems.append(f"tags.json: failure_category {failure!r} is not a LogDx-CI category")
    check_transient(tags, problems)
    made_by = tags.get("made_by")
    if isinstance(made_by, str) and not (CORPUS / made_by).is_file():
        problems.append(f"tags.json: made_by {made_by!r} does not exist under tests/corpus")
    return tags


def check_range(where: str, span: object, lines: list[str], problems: list[str]) -> int:
    """Check one [start, end] range; return how many lines it covers (0 when invalid)."""
    if (
        not isinstance(span, list)
        or len(span) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in span)
    ):
        problems.append(f"{where}: range {span!r} is not [start, end]")
        return 0
    start, end = span
    if not 1 <= start <= end <= len(lines):
        problems.append(f"{where}: range {span} is out of bounds (log has {len(lines)} lines)")
        return 0
    for number in range(start, end + 1):
        if not visible(lines[number - 1]):
            problems.append(f"{where}: line {number} is empty")
    return end - start + 1


def check_signal(index: int, signal: object, lines: list[str], problems: list[str]) -> bool:
    """Check one required signal; return whether it is critical."""
    where = f"ground_truth.json: required_signals[{index}]"
    if not isinstance(signal, dict):
        problems.append(f"{where} is not an object")
        return False
    if not isinstance(signal.get("type"), str) or not signal["type"]:
        problems.append(f"{where}: missing 'type'")
    if not isinstance(signal.get("value"), str) and not isinstance(signal.get("file"), str):
        problems.append(f"{where}: needs a string 'value' (or 'file')")
    importance = signal.get("importance")
    if importance not in IMPORTANCE:
        problems.append(f"{where}: importance {importance!r} is not one of {sorted(IMPORTANCE)}")
    spans = signal.get("evidence_lines")
    if not isinstance(spans, list) or not spans:
        problems.append(f"{where}: evidence_lines is missing or empty")
        return importance == "critical"
    covered = sum(check_range(where, span, lines, problems) for span in spans)
    if covered > MAX_SIGNAL_LINES:
        problems.append(f"{where}: covers {covered} lines, more than {MAX_SIGNAL_LINES}")
    return importance == "critical"


def check_truth(
    truth: object, tags: dict[str, object], lines: list[str], problems: list[str]
) -> None:
    if not isinstance(truth, dict):
        problems.append("ground_truth.json is not an object")
        return
    root = truth.get("root_cause")
    if not isinstance(root, dict):
        problems.append("ground_truth.json: missing root_cause object")
    else:
        summary = root.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            problems.append("ground_truth.json: root_cause.summary is missing or empty")
        category = root.get("category")
        allowed = {tags.get("category"), tags.get("failure_category")} - {None}
        if category not in CATEGORIES | FAILURE_CATEGORIES:
            problems.append(f"ground_truth.json: root_cause.category {category!r} is invalid")
        elif allowed and category not in allowed:
            problems.append(
                f"ground_truth.json: root_cause.category {category!r} disagrees with tags.json"
            )
    signals = truth.get("required_signals")
    if not isinstance(signals, list) or not signals:
        problems.append("ground_truth.json: required_signals is missing or empty")
        return
    critical = [check_signal(i, signal, lines, problems) for i, signal in enumerate(signals)]
    if not any(critical):
        problems.append("ground_truth.json: no critical signal")


def check_case(case_dir: Path) -> list[str]:
    problems: list[str] = []
    raw = case_dir / "raw.log"
    if not raw.is_file():
        return ["missing raw.log"]
    data = raw.read_bytes()
    if len(data) > MAX_LOG_BYTES:
        problems.append(f"raw.log is {len(data)} bytes, more than {MAX_LOG_BYTES}")
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tags = check_tags(case_dir.name, load_json(case_dir / "tags.json", problems), problems)
    truth = load_json(case_dir / "ground_truth.json", problems)
    if truth is not None:
        check_truth(truth, tags, lines, problems)
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    dirs = [Path(a) for a in args] if args else sorted(p for p in CASES.iterdir() if p.is_dir())
    failed = 0
    for case_dir in dirs:
        problems = check_case(case_dir)
        for problem in problems:
            print(f"{case_dir.name}: {problem}")
        failed += bool(problems)
    print(f"{len(dirs)} cases checked, {failed} with problems", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
