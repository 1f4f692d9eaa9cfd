"""On every log of our corpus and of the LogDx-CI dev split, the excerpt keeps every evidence
line that a character tail of the same budget keeps, and the labels obey the corpus' rule.
The measurement is the benchmark's own (`bench/logdx.py`), so the two cannot drift apart."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ci_remediator.analysis.excerpt import build_excerpt

REPO_ROOT = Path(__file__).resolve().parents[3]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("logdx", REPO_ROOT / "bench" / "logdx.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


logdx = _bench()
CASES = [case for directory in logdx.DEFAULT_SETS.values() for case in logdx.find_cases(directory)]


def test_the_corpus_labels_obey_the_rule() -> None:
    checker = REPO_ROOT / "tests" / "corpus" / "tools" / "check_labels.py"
    done = subprocess.run(  # noqa: S603 - the repository's own checker
        [sys.executable, str(checker)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list((REPO_ROOT / "tests" / "corpus" / "cases").iterdir())) >= 60


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_excerpt_keeps_what_a_same_budget_tail_keeps(case: Path) -> None:
    raw = (case / "raw.log").read_bytes().decode("utf-8", errors="replace")
    raw_lines = raw.split("\n")
    truth = json.loads((case / "ground_truth.json").read_text(encoding="utf-8"))
    numbers = sorted(
        {n for lines in logdx.critical_signals(truth["required_signals"]) for n in lines}
    )
    excerpt = build_excerpt(raw, budget_chars=logdx.BUDGET)
    ours = logdx.kept_lines(raw_lines, numbers, excerpt)
    tail = logdx.kept_lines(raw_lines, numbers, logdx.tail_baseline(raw, logdx.BUDGET))
    assert tail <= ours, f"lines the tail kept and the excerpt lost: {sorted(tail - ours)}"
