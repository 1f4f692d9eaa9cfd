"""LogDx-CI benchmark: critical-signal recall of the excerpt, category and flaky accuracy.

Usage: python bench/logdx.py DIR [DIR ...]

Each DIR is a case directory (raw.log, tags.json, ground_truth.json) or any parent of case
directories (searched recursively). A per-case table goes to stderr; the last stdout line is one
JSON object. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ci_remediator.analysis import analyze_with_rules, load_knowledge_base  # noqa: E402
from ci_remediator.analysis.excerpt import build_excerpt  # noqa: E402

BUDGET = 12_000
CUT = 160
TAIL_LINES = 200
GREP_CONTEXT = 2

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})\s?"
)
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_GREP = re.compile(r"error|fail|fatal|exception", re.IGNORECASE)

# Our categories -> the LogDx-CI categories they count as correct for.
CATEGORY_MAP: dict[str, set[str]] = {
    "test_failure": {"test_assertion", "snapshot_or_golden_diff"},
    "flaky_test": {"test_assertion", "network_or_flaky"},
    "infrastructure": {"network_or_flaky"},
    "dependency": {"dependency_install"},
    "compile_error": {"compile_error", "docker_build", "type_error"},
    "type_check": {"type_error", "compile_error"},
    "lint": {"lint_error", "formatting_failure"},
    "configuration": {"github_actions_config", "matrix_or_monorepo_failure"},
    "permissions": {"permission_or_secret"},
    "timeout": {"timeout_or_oom"},
    "resource_exhaustion": {"timeout_or_oom"},
}


def normalise(line: str) -> str:
    """BOM, timestamp, ANSI codes and outer whitespace removed (no cut)."""
    line = line.removeprefix("\ufeff")
    line = _TIMESTAMP.sub("", line, count=1)
    return _ANSI.sub("", line).strip()


def normalise_text(text: str) -> str:
    return "\n".join(normalise(line) for line in text.split("\n"))


def find_cases(paths: list[Path]) -> list[Path]:
    cases: set[Path] = set()
    for path in paths:
        if (path / "ground_truth.json").is_file() and (path / "raw.log").is_file():
            cases.add(path)
            continue
        for truth in path.rglob("ground_truth.json"):
            if (truth.parent / "raw.log").is_file() and (truth.parent / "tags.json").is_file():
                cases.add(truth.parent)
    return sorted(cases)


def critical_recall(raw_lines: list[str], signals: list[dict], excerpt: str) -> float:
    haystack = normalise_text(excerpt)
    critical = [s for s in signals if s.get("importance") == "critical"]
    if not critical:
        return 1.0
    survived = 0
    for signal in critical:
        ok = True
        for start, end in signal.get("evidence_lines", []):
            for number in range(start, end + 1):
                if not 1 <= number <= len(raw_lines):
                    continue
                needle = normalise(raw_lines[number - 1])[:CUT]
                if needle not in haystack:
                    ok = False
        survived += ok
    return survived / len(critical)


def tail_baseline(raw_lines: list[str]) -> str:
    return "\n".join(raw_lines[-TAIL_LINES:])


def grep_baseline(raw_lines: list[str]) -> str:
    keep: set[int] = set()
    for index, line in enumerate(raw_lines):
        if _GREP.search(line):
            keep.update(range(index - GREP_CONTEXT, index + GREP_CONTEXT + 1))
    chosen = [raw_lines[i] for i in sorted(keep) if 0 <= i < len(raw_lines)]
    kept: list[str] = []
    used = 0
    for line in reversed(chosen):  # keep the last ones within the budget
        if used + len(line) + 1 > BUDGET:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(reversed(kept))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    cases = find_cases(args.dirs)
    if not cases:
        print("no LogDx-CI cases found", file=sys.stderr)
        return 2
    kb = load_knowledge_base()
    rows = []
    for case in cases:
        raw = (case / "raw.log").read_text(encoding="utf-8", errors="replace")
        raw_lines = raw.split("\n")
        if raw_lines and raw_lines[-1] == "":
            raw_lines.pop()
        tags = json.loads((case / "tags.json").read_text(encoding="utf-8"))
        truth = json.loads((case / "ground_truth.json").read_text(encoding="utf-8"))
        signals = truth.get("required_signals", [])
        excerpt = build_excerpt(raw, budget_chars=BUDGET)
        result = analyze_with_rules(raw, kb=kb, budget_chars=BUDGET)
        category = str(getattr(result.category, "value", result.category))
        expected = tags.get("failure_category", "")
        rows.append(
            {
                "case": case.name,
                "recall": critical_recall(raw_lines, signals, excerpt),
                "tail": critical_recall(raw_lines, signals, tail_baseline(raw_lines)),
                "grep": critical_recall(raw_lines, signals, grep_baseline(raw_lines)),
                "category": category,
                "expected": expected,
                "category_ok": expected in CATEGORY_MAP.get(category, set()),
                "flaky": bool(result.flaky),
                "flaky_ok": bool(result.flaky) == bool(tags.get("flaky_or_transient", False)),
                "chars": len(excerpt),
                "rule": result.rule_id or "-",
            }
        )
    header = f"{'case':40} {'recall':>6} {'tail':>5} {'grep':>5} {'chars':>6}  category"
    print(header, file=sys.stderr)
    for r in rows:
        mark = "ok" if r["category_ok"] else "XX"
        flaky = "ok" if r["flaky_ok"] else "XX"
        print(
            f"{r['case'][:40]:40} {r['recall']:6.2f} {r['tail']:5.2f} {r['grep']:5.2f} "
            f"{r['chars']:6d}  {r['category']} -> {r['expected']} [{mark}] "
            f"flaky={r['flaky']} [{flaky}] rule={r['rule']}",
            file=sys.stderr,
        )
    n = len(rows)
    summary = {
        "bench": "logdx",
        "cases": n,
        "crit_recall": round(sum(r["recall"] for r in rows) / n, 4),
        "category_acc": round(sum(r["category_ok"] for r in rows) / n, 4),
        "flaky_acc": round(sum(r["flaky_ok"] for r in rows) / n, 4),
        "tail200_crit_recall": round(sum(r["tail"] for r in rows) / n, 4),
        "grep_crit_recall": round(sum(r["grep"] for r in rows) / n, 4),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
