"""The processes on this machine, read from /proc: for tests that stop what they started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def _live_processes() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/PID/stat after the command name) of every live process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            yield int(entry.name), fields


def alive(pid: int) -> bool:
    return any(found == pid for found, _ in _live_processes())


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`."""
    children: dict[int, list[int]] = {}
    for child, fields in _live_processes():
        children.setdefault(int(fields[1]), []).append(child)
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.add(child)
            stack.append(child)
    return found


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group."""
    return [pid for pid, fields in _live_processes() if int(fields[2]) == pgid]
