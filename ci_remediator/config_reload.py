"""Watching `config.json`: a valid change is taken up, an invalid one is refused loudly.

The file is looked at (one `stat`) at most every `check_every_s`; only when its size or
modification time moved is it read, and only when its content differs from the last version
acted on is it parsed. The environment is not reloaded: secrets and URLs change with a restart.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ci_remediator.config import ConfigError, FileConfig, load_file_config

CHECK_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class Reloaded:
    """The file changed and is valid: the configuration to use from now on."""

    file: FileConfig


@dataclass(frozen=True, slots=True)
class Refused:
    """The file changed and is invalid: the previous configuration stays. `digest` names
    this version of the file (an alert is raised once per version)."""

    error: ConfigError
    digest: str


@dataclass
class ConfigFileWatch:
    path: Path
    check_every_s: float = CHECK_EVERY_S
    clock: Callable[[], float] = time.monotonic
    _stamp: tuple[int, int] | None = field(default=None, init=False)
    _digest: str | None = field(default=None, init=False)
    _next_check: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        # The version the process started with is the one in force.
        self._stamp = self._stat()
        self._digest = self._read_digest()
        self._next_check = self.clock() + self.check_every_s

    def poll(self) -> Reloaded | Refused | None:
        """What changed since the last call that saw a change; None when nothing did."""
        now = self.clock()
        if now < self._next_check:
            return None
        self._next_check = now + self.check_every_s
        stamp = self._stat()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        if stamp is None:
            # Not "back to defaults": that would quietly drop every policy the file held.
            self._digest = None
            return Refused(ConfigError(f"{self.path} was removed"), "removed")
        digest = self._read_digest()
        if digest == self._digest:
            return None  # touched, not changed
        self._digest = digest
        try:
            return Reloaded(load_file_config(self.path))
        except ConfigError as error:
            return Refused(error, digest or "")

    def _stat(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None
