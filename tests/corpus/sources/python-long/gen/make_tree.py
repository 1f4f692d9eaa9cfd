"""Write a large, realistic package tree into a scratch directory.

Usage: python make_tree.py DEST PACKAGE COUNT

Each module holds a small typed dataclass and two functions; the tree is what a mid-sized
service repository looks like to mypy and black (hundreds of ordinary, clean modules).
"""

import sys
from pathlib import Path

TEMPLATE = '''"""{title} records and their totals."""

from __future__ import annotations

from dataclasses import dataclass, field

from {package}.{base} import Base{basenum:03d}


@dataclass
class {cls}(Base{basenum:03d}):
    code: str
    amounts: list[int] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    def total(self) -> int:
        return sum(self.amounts) + self.offset()


def make_{name}(code: str, *amounts: int) -> {cls}:
    return {cls}(code=code, amounts=list(amounts))


def summarize_{name}(items: list[{cls}]) -> dict[str, int]:
    return {{item.code: item.total() for item in items}}
'''

BASE = '''"""Shared base for the {package} records."""

from __future__ import annotations


class Base{num:03d}:
    def offset(self) -> int:
        return {num}
'''


def main() -> None:
    dest, package, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    root = dest / package
    root.mkdir(parents=True, exist_ok=True)
    (root / "__init__.py").write_text(f'"""The {package} package."""\n')
    for num in range(count // 10 + 1):
        (root / f"base_{num:03d}.py").write_text(BASE.format(package=package, num=num))
    for num in range(count):
        name = f"record_{num:04d}"
        text = TEMPLATE.format(
            title=name.replace("_", " ").title(),
            package=package,
            base=f"base_{num // 10:03d}",
            basenum=num // 10,
            cls=f"Record{num:04d}",
            name=name,
        )
        (root / f"{name}.py").write_text(text)


if __name__ == "__main__":
    main()
