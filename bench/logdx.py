"""Excerpt quality: evidence kept, category and transient verdicts, next to baselines.

Usage: python bench/logdx.py [--budget 12000] [SET=DIR ...]

Each SET=DIR names a set of cases (directories holding raw.log, tags.json and
ground_truth.json, searched recursively); by default `dev` is the LogDx-CI dev split in
../shared/fixtures/logdx-ci and `corpus` is tests/corpus/cases. Every set is reported apart,
each next to a character tail and a grep at the same budget. A per-case table goes to stderr;
the last stdout line is one JSON object. See bench/README.md.
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
GREP_CONTEXT = 2
DEFAULT_SETS = {
    # ../shared beside the checkout (or beside the copy mutmut runs from, one level deeper).
    "dev": next(
        (
            d / "shared" / "fixtures" / "logdx-ci"
            for d in REPO_ROOT.parents
            if (d / "shared").is_dir()
        ),
        REPO_ROOT.parent / "shared" / "fixtures" / "logdx-ci",
    ),
    "corpus": REPO_ROOT / "tests" / "corpus" / "cases",
}

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})\s?"
)
# Escapes in both forms: the ESC byte, and "^[" as logs copied from some web views hold it.
_ANSI = re.compile(
    r"(?:\x1b|\^\[)(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\|\^\[\\)?|[@-Z\\-_])"
)
_GREP = re.compile(r"error|fail|fatal|exception", re.IGNORECASE)

# Our categories -> the LogDx-CI categories they count as correct for (the dev split carries
# only those; the corpus carries our own category too, compared exactly).
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
    """BOM, timestamp, escape codes and outer whitespace removed (no cut)."""
    line = line.removeprefix("\ufeff")
    line = _TIMESTAMP.sub("", line, count=1)
    return _ANSI.sub("", line).strip()


def normalise_text(text: str) -> str:
    return "\n".join(normalise(line) for line in text.split("\n"))


def find_cases(path: Path) -> list[Path]:
    if (path / "ground_truth.json").is_file() and (path / "raw.log").is_file():
        return [path]
    return sorted(
        truth.parent
        for truth in path.rglob("ground_truth.json")
        if (truth.parent / "raw.log").is_file() and (truth.parent / "tags.json").is_file()
    )


def critical_signals(signals: list[dict]) -> list[list[int]]:
    """The 1-based line numbers of each critical signal."""
    return [
        [n for start, end in s.get("evidence_lines", []) for n in range(start, end + 1)]
        for s in signals
        if s.get("importance") == "critical"
    ]


def kept_lines(raw_lines: list[str], numbers: list[int], text: str) -> set[int]:
    """Which of the numbered lines survive in `text` (normalised, cut to CUT characters)."""
    haystack = normalise_text(text)
    kept = set()
    for number in numbers:
        if 1 <= number <= len(raw_lines):
            needle = normalise(raw_lines[number - 1])[:CUT]
            if needle in haystack:
                kept.add(number)
    return kept


def signal_recall(critical: list[list[int]], kept: set[int]) -> float:
    if not critical:
        return 1.0
    return sum(all(n in kept for n in lines) for lines in critical) / len(critical)


def tail_baseline(raw: str, budget: int) -> str:
    """The last `budget` characters of the raw log, from the first whole line."""
    if len(raw) <= budget:
        return raw
    cut = raw[-budget:]
    return cut[cut.find("\n") + 1 :]


def grep_baseline(raw_lines: list[str], budget: int) -> str:
    keep: set[int] = set()
    for index, line in enumerate(raw_lines):
        if _GREP.search(line):
            keep.update(range(index - GREP_CONTEXT, index + GREP_CONTEXT + 1))
    chosen = [raw_lines[i] for i in sorted(keep) if 0 <= i < len(raw_lines)]
    kept: list[str] = []
    used = 0
    for line in reversed(chosen):  # keep the last ones within the budget
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(reversed(kept))


def measure(case: Path, kb: object, budget: int) -> dict:
    # Bytes, not read_text: universal newlines would split the "\r" inside GitLab lines.
    raw = (case / "raw.log").read_bytes().decode("utf-8", errors="replace")
    raw_lines = raw.split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    tags = json.loads((case / "tags.json").read_text(encoding="utf-8"))
    truth = json.loads((case / "ground_truth.json").read_text(encoding="utf-8"))
    critical = critical_signals(truth.get("required_signals", []))
    numbers = sorted({n for lines in critical for n in lines})
    excerpt = build_excerpt(raw, budget_chars=budget)
    result = analyze_with_rules(raw, kb=kb, budget_chars=budget)  # type: ignore[arg-type]
    ours = kept_lines(raw_lines, numbers, excerpt)
    tail = kept_lines(raw_lines, numbers, tail_baseline(raw, budget))
    grep = kept_lines(raw_lines, numbers, grep_baseline(raw_lines, budget))
    category = str(getattr(result.category, "value", result.category))
    if "category" in tags:
        expected = tags["category"]
        category_ok = category == expected
    else:
        expected = tags.get("failure_category", "")
        category_ok = expected in CATEGORY_MAP.get(category, set())
    return {
        "case": case.name,
        "recall": signal_recall(critical, ours),
        "tail": signal_recall(critical, tail),
        "grep": signal_recall(critical, grep),
        "lines": len(numbers),
        "lines_kept": len(ours),
        "lost_to_tail": len(tail - ours),
        "category": category,
        "expected": expected,
        "category_ok": category_ok,
        "flaky": bool(result.flaky),
        "flaky_ok": bool(result.flaky) == bool(tags.get("flaky_or_transient", False)),
        "chars": len(excerpt),
        "rule": result.rule_id or "-",
    }


def summarise(rows: list[dict]) -> dict:
    n = len(rows)
    lines = sum(r["lines"] for r in rows)
    return {
        "cases": n,
        "crit_recall": round(sum(r["recall"] for r in rows) / n, 4),
        "evidence_line_recall": round(sum(r["lines_kept"] for r in rows) / max(lines, 1), 4),
        "worse_than_tail": sum(r["lost_to_tail"] > 0 for r in rows),
        "category_acc": round(sum(r["category_ok"] for r in rows) / n, 4),
        "flaky_acc": round(sum(r["flaky_ok"] for r in rows) / n, 4),
        "tail_crit_recall": round(sum(r["tail"] for r in rows) / n, 4),
        "grep_crit_recall": round(sum(r["grep"] for r in rows) / n, 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", metavar="SET=DIR")
    parser.add_argument("--budget", type=int, default=BUDGET)
    args = parser.parse_args(argv)
    sets = dict(DEFAULT_SETS)
    if args.sets:
        sets = {}
        for item in args.sets:
            name, _, directory = item.rpartition("=")
            sets[name or Path(directory).name] = Path(directory)
    kb = load_knowledge_base()
    summary: dict[str, object] = {"bench": "logdx", "budget": args.budget}
    header = f"{'case':40} {'recall':>6} {'tail':>5} {'grep':>5} {'chars':>6}  category"
    for name, directory in sets.items():
        cases = find_cases(directory)
        if not cases:
            print(f"{name}: no cases under {directory}", file=sys.stderr)
            return 2
        rows = [measure(case, kb, args.budget) for case in cases]
        print(f"== {name} ({directory})", file=sys.stderr)
        print(header, file=sys.stderr)
        for r in rows:
            mark = "ok" if r["category_ok"] else "XX"
            flaky = "ok" if r["flaky_ok"] else "XX"
            lost = f" LOST {r['lost_to_tail']} line(s) the tail kept" if r["lost_to_tail"] else ""
            print(
                f"{r['case'][:40]:40} {r['recall']:6.2f} {r['tail']:5.2f} {r['grep']:5.2f} "
                f"{r['chars']:6d}  {r['category']} -> {r['expected']} [{mark}] "
                f"flaky={r['flaky']} [{flaky}] rule={r['rule']}{lost}",
                file=sys.stderr,
            )
        summary[name] = summarise(rows)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
