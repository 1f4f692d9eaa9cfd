"""The config file watch: a valid change is reloaded, an invalid or removed one refused,
each version acted on once, and the file looked at no more often than asked."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ci_remediator.config_reload import ConfigFileWatch, Refused, Reloaded


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _write(path: Path, content: str, *, bump_ns: int) -> None:
    path.write_text(content, encoding="utf-8")
    # Filesystems stamp in coarse steps: move the mtime on so that a change is always seen.
    stamp = path.stat().st_mtime_ns + bump_ns
    os.utime(path, ns=(stamp, stamp))


def test_changes_are_seen_once_each_and_bad_ones_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    _write(path, json.dumps({"risk_threshold": 5}), bump_ns=0)
    clock = _Clock()
    watch = ConfigFileWatch(path, check_every_s=5.0, clock=clock)

    assert watch.poll() is None  # not due yet
    clock.now = 10.0
    assert watch.poll() is None  # due, nothing changed

    _write(path, json.dumps({"risk_threshold": 3}), bump_ns=1_000_000)
    clock.now = 12.0
    assert watch.poll() is None  # changed, but looked at 2 s ago
    clock.now = 15.0
    change = watch.poll()
    assert isinstance(change, Reloaded)
    assert change.file.risk_threshold == 3

    _write(path, json.dumps({"risk_threshold": "high"}), bump_ns=2_000_000)
    clock.now = 20.0
    refused = watch.poll()
    assert isinstance(refused, Refused)
    assert "risk_threshold" in str(refused.error)
    clock.now = 25.0
    assert watch.poll() is None  # the same bad version is not refused twice

    _write(path, json.dumps({"risk_threshold": "high"}), bump_ns=3_000_000)  # touched only
    clock.now = 30.0
    assert watch.poll() is None

    _write(path, "{not json", bump_ns=4_000_000)
    clock.now = 35.0
    second = watch.poll()
    assert isinstance(second, Refused)
    assert second.digest != refused.digest

    path.unlink()
    clock.now = 40.0
    removed = watch.poll()
    assert isinstance(removed, Refused)
    assert "was removed" in str(removed.error)

    _write(path, json.dumps({"risk_threshold": 7}), bump_ns=5_000_000)
    clock.now = 45.0
    back = watch.poll()
    assert isinstance(back, Reloaded)
    assert back.file.risk_threshold == 7
