"""The hand-written mutants still apply: code they target that moved fails here, in the suite,
not only when someone runs scripts/check-mutants."""

from __future__ import annotations

from pathlib import Path

from tests.mutants.catalog import MUTANTS

ROOT = Path(__file__).resolve().parents[3]


def test_every_mutant_targets_text_found_exactly_once_in_its_file() -> None:
    stale = [
        f"{m.name}: {m.old!r} in {m.path}"
        for m in MUTANTS
        if (ROOT / m.path).read_text(encoding="utf-8").count(m.old) != 1
    ]
    assert stale == []


def test_every_mutant_changes_its_code_and_names_test_files_that_exist() -> None:
    for mutant in MUTANTS:
        assert mutant.old != mutant.new, mutant.name
        assert mutant.tests, mutant.name
        for test in mutant.tests:
            assert (ROOT / test.split("::")[0]).is_file(), f"{mutant.name}: {test}"


def test_mutant_names_are_unique() -> None:
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names))
