"""One hand-written mutant: a plain text substitution (`old` must occur exactly once in `path`),
so it stays readable and breaks loudly when the code it targets moves. `tests` are the test
files that must fail while it is applied."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
