"""The table of correctness properties, read from the property tests' own docstrings.

A property test's docstring begins `Property N (Group): one sentence.`; numbers 1-59 are the
product README's named properties in its order (PRODUCT_PROPERTIES below), 60 and up are ours.
`python -m tests.properties.table` prints docs/PROPERTIES.md; tests/unit/test_properties_table.py
fails when the file is stale, a named property has no test, or the table holds fewer than 66.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROPERTY_DIR = ROOT / "tests" / "properties"
TABLE_PATH = ROOT / "docs" / "PROPERTIES.md"
# The mutation-testing section, kept by hand (survivor triage), appended to the table.
MUTANTS_SECTION = ROOT / "tests" / "mutants" / "survivors.md"
MINIMUM_PROPERTIES = 66

# The product README's "Correctness Properties", group by group, in its order: numbers 1-59.
PRODUCT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Monitoring",
        (
            "Polling consistency",
            "Failure details retrieval",
            "Failure reason extraction",
            "Idempotent processing",
            "Rate limit handling",
        ),
    ),
    (
        "Analysis",
        (
            "Analysis trigger",
            "Category assignment",
            "Risk score validity",
            "Remediation proposal completeness",
            "Effort/confidence validity",
            "Component identification",
            "Analysis persistence",
        ),
    ),
    (
        "Configuration",
        (
            "Environment variable loading",
            "Configuration file loading",
            "Configuration reload",
            "Per-repository overrides",
            "Validation",
        ),
    ),
    (
        "Safety Gate",
        (
            "Risk threshold configuration",
            "Safe/high-risk classification",
            "Risk score validation",
            "Safe remediation execution",
            "Failed gate escalation",
        ),
    ),
    (
        "Approval Workflow",
        (
            "Approval request notification",
            "Interactive buttons",
            "Approval execution",
            "Rejection handling",
            "Timeout escalation",
            "Audit trail",
        ),
    ),
    (
        "Notification",
        (
            "Initial alert",
            "Analysis notification",
            "Approval request",
            "Remediation result",
            "Critical alert",
            "Timeout escalation",
            "Channel configuration",
        ),
    ),
    (
        "Audit & Metrics",
        (
            "Comprehensive action logging",
            "Timing metrics",
            "Remediation result recording",
            "Metrics aggregation",
            "Audit log persistence",
            "Audit log filtering",
        ),
    ),
    (
        "Error Handling",
        (
            "Error catching and logging",
            "Critical error alerting",
            "Service recovery",
            "API retry logic",
            "Remediation rollback",
        ),
    ),
    (
        "GitHub Integration",
        (
            "Authentication",
            "Failed workflow filtering",
            "Complete workflow details",
            "Rate limit handling",
            "Error reporting",
        ),
    ),
    (
        "Data Persistence",
        (
            "Failure record round trip",
            "Audit trail round trip",
            "Metrics round trip",
            "Query filtering/aggregation",
            "Data retention policy",
        ),
    ),
    (
        "Remediation Execution",
        ("Remediation execution", "Execution output capture", "Success verification"),
    ),
)


def product_properties() -> dict[int, tuple[str, str]]:
    """Number -> (group, name) of the product README's named properties."""
    numbered: dict[int, tuple[str, str]] = {}
    for group, names in PRODUCT_GROUPS:
        for name in names:
            numbered[len(numbered) + 1] = (group, name)
    return numbered


_HEAD = re.compile(r"Property (?P<number>\d+) \((?P<group>[^)]+)\): (?P<statement>.+)", re.S)


@dataclass(frozen=True)
class PropertyTest:
    number: int
    group: str
    statement: str
    test: str  # path::name (path::Class for a state machine)


def _docstring_head(node: ast.AST) -> str:
    doc = ast.get_docstring(node)  # type: ignore[arg-type]
    if not doc:
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def collect(directory: Path = PROPERTY_DIR) -> list[PropertyTest]:
    found: list[PropertyTest] = []
    for path in sorted(directory.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            is_test = isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
            if not (is_test or isinstance(node, ast.ClassDef)):
                continue
            match = _HEAD.match(_docstring_head(node))
            if match:
                found.append(
                    PropertyTest(
                        int(match["number"]),
                        match["group"],
                        match["statement"].strip(),
                        f"{path.relative_to(ROOT)}::{node.name}",  # type: ignore[attr-defined]
                    )
                )
    return sorted(found, key=lambda p: (p.number, p.test))


def problems(found: list[PropertyTest]) -> list[str]:
    named = product_properties()
    numbers = {p.number for p in found}
    issues = [
        f"Property {n} ({group}: {name}) has no test"
        for n, (group, name) in named.items()
        if n not in numbers
    ]
    for p in found:
        if p.number in named and named[p.number][0] != p.group:
            issues.append(
                f"{p.test}: property {p.number} is in {named[p.number][0]}, not {p.group}"
            )
    if len(numbers) < MINIMUM_PROPERTIES:
        issues.append(f"{len(numbers)} properties, fewer than {MINIMUM_PROPERTIES}")
    return issues


def render(found: list[PropertyTest]) -> str:
    named = product_properties()
    lines = [
        "# Correctness properties",
        "",
        "Generated by `python -m tests.properties.table > docs/PROPERTIES.md` from the property",
        "tests' docstrings; `tests/unit/test_properties_table.py` fails when this file is stale.",
        "Numbers 1-59 are the product README's named properties in its order; 60 and up are ours.",
        "Run them with `scripts/test tests/properties` (profile `ci`; `HYPOTHESIS_PROFILE=dev` for",
        "a quick loop). `scripts/check-mutants` proves they bite (see the end of this file).",
        "",
        "| # | Group | Property | Statement | Test |",
        "|---|---|---|---|---|",
    ]
    for p in found:
        name = named[p.number][1] if p.number in named else "(ours)"
        statement = p.statement.replace("|", "\\|")
        lines.append(f"| {p.number} | {p.group} | {name} | {statement} | `{p.test}` |")
    lines.append("")
    lines.append(f"{len({p.number for p in found})} properties, {len(found)} tests.")
    lines.append("")
    return "\n".join(lines) + "\n" + MUTANTS_SECTION.read_text(encoding="utf-8")


def main() -> int:
    found = collect()
    sys.stdout.write(render(found))
    for issue in problems(found):
        sys.stderr.write(f"properties table: {issue}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
