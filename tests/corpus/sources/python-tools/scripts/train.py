"""Stand-in for a memory-hungry build step; the kernel's OOM kill is simulated by SIGKILL."""

from __future__ import annotations

import os
import signal
import time


def main() -> int:
    blocks = []
    for epoch in range(1, 9):
        blocks.append(bytearray(8 * 1024 * 1024))
        print(f"epoch {epoch}/40: loaded shard {epoch:03d} ({8 * epoch} MiB resident)", flush=True)
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
