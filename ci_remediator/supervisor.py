"""`ci-remediator run`'s supervision of its one worker process: restart it when it dies, and stop
everything it started when asked to (SIGTERM, Ctrl-C).

A stop asks the worker for Celery's warm shutdown (SIGTERM), waits up to STOP_GRACE_S for it,
then kills what is left of its process group: the pool children included. Late acknowledgement
means a task cut short is delivered again; nothing is lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType

STOP_GRACE_S = 5.0
# A worker that dies within this long of starting, with this code, is misconfigured: no retry.
FAST_DEATH_S = 2.0


def run_supervised(
    command: Sequence[str],
    *,
    restart_delay_s: float,
    config_error_code: int,
    on_restart: Callable[[int], None] = lambda code: None,
) -> int:
    """Run `command` until it exits 0, is stopped, or fails the same way at once; its code."""
    stopping = threading.Event()
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, frame: FrameType | None) -> None:
        del frame
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            started = time.monotonic()
            # Its own process group: a terminal's Ctrl-C reaches us only, and we stop it in
            # order; killpg then reaches every process the worker forked.
            child = subprocess.Popen(list(command), start_new_session=True)  # noqa: S603
            code = _wait(child, stopping)
            if stopping.is_set():
                return 0
            if code == 0 or (
                code == config_error_code and time.monotonic() - started < FAST_DEATH_S
            ):
                return code
            on_restart(code)
            if stopping.wait(restart_delay_s):
                return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child is not None:
            _reap(child)


def _wait(child: subprocess.Popen[bytes], stopping: threading.Event) -> int:
    """The child's exit code; once a stop is asked, at most STOP_GRACE_S more."""
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if stopping.is_set():
                try:
                    return child.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    _kill_group(child)
                    return child.wait()


def _reap(child: subprocess.Popen[bytes]) -> None:
    """Whatever the worker left running in its group (pool children outliving it) goes too."""
    if child.poll() is None:
        _kill_group(child)
        child.wait()
    else:
        _kill_group(child)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
