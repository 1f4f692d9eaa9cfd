"""The embedded broker: kombu's filesystem transport, with messages that appear whole.

kombu's filesystem `_put` creates the message file under its final name and only then writes
the payload, while `_get` claims a file by moving it away and deletes it once read. A consumer
polling the folder (every 0.1 s here) can claim the file in between and read zero bytes: the
JSON decode error stops the worker's consumer, and the message, already deleted, is lost.

Here a message is written under a name no reader matches (`<name>.msg.partial`) and renamed
to its final name once complete. A rename within one folder is atomic, so a reader sees the
whole message or no file at all. Celery loads this through the `broker_transport` setting.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL_SUFFIX = ".partial"


class Channel(filesystem.Channel):
    # kombu's own filesystem `_put` renames the base class's `message` parameter to `payload`.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # The same name kombu gives a message (time-ordered, so `_get` keeps FIFO order).
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # `_get`, `_size` and `_purge` take only names whose part after the first dot is
        # exactly "<queue>.msg", so no reader sees this file until it is renamed.
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
