"""Template renders in a process of their own, bounded in time and memory.

The Jinja sandbox (``domain.rendering``) keeps a template away from Python's internals
and counts its steps, but some of what a template may call allocates in C at once —
``'x'.ljust(10**9)``, ``sep.join(…)`` over a long list, a ``%`` width — and no check
inside the service's process can bound every such call. An approved template that tries
one would take the API's memory or a worker thread with it. Here a render runs in a
long-lived child process with an address-space limit, and a render that does not answer
in time kills the child (the next render starts a fresh one): a bad template costs one
refused send, never the service.

    python -m profiles.render_worker FD MEMORY_BYTES   (started by ``RenderWorker``, not by hand)
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from domain.errors import InvalidTemplate

log = logging.getLogger(__name__)

RENDER_SECONDS = 2.0  # a real message renders in milliseconds
START_SECONDS = 30.0  # a new child imports Jinja first; that is not the template's time
MEMORY_BYTES = 1 << 30  # the child's address space; a render's strings are far below it


class RenderWorker:
    """``domain.rendering.render`` with the same arguments and errors, run in a child.

    One child serves the process's renders one at a time (sends are single, interactive
    commands); it starts at the first render and stops with ``close()``."""

    def __init__(self, *, seconds: float = RENDER_SECONDS, memory_bytes: int = MEMORY_BYTES) -> None:
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None

    def __call__(self, source: str, context: dict[str, Any], *, timezone: str | None, now: datetime,
                 html: bool) -> str:
        with self._lock:
            conn = self._started()
            try:
                conn.send((source, context, timezone, now, html))
                answered = conn.poll(self.seconds)
                outcome, value = conn.recv() if answered else ("timeout", None)
            except (EOFError, OSError):
                outcome, value = "died", None
            if outcome in ("timeout", "died"):
                self._stop()
                log.warning("template render stopped outcome=%s", outcome)
                raise InvalidTemplate(f"template took longer than {self.seconds:g} s to render" if outcome == "timeout"
                                      else "template broke the process rendering it")
        if outcome == "refused":
            raise InvalidTemplate(value)
        if outcome == "failed":
            raise RuntimeError(f"template render failed: {value}")
        return value

    def _started(self) -> Connection:
        if self._conn is None or self._process is None or self._process.poll() is not None:
            self._stop()
            ours, theirs = socket.socketpair()
            with theirs:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "profiles.render_worker", str(theirs.fileno()), str(self.memory_bytes)],
                    pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
            self._conn = Connection(ours.detach())
            if not self._conn.poll(START_SECONDS) or self._conn.recv() != ("ready", None):
                self._stop()
                raise RuntimeError("the template render process did not start")
        return self._conn

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        with self._lock:
            self._stop()


def serve(conn: Connection, memory_bytes: int) -> None:
    """The child: render what comes in until the parent hangs up."""
    import resource

    from domain import rendering

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    conn.send(("ready", None))
    while True:
        try:
            source, context, timezone, now, html = conn.recv()
        except EOFError:
            return
        try:
            answer: tuple[str, Any] = ("ok", rendering.render(source, context, timezone=timezone, now=now, html=html))
        except InvalidTemplate as e:
            answer = ("refused", e.detail)
        except MemoryError:  # the address-space limit; render() maps every other template fault
            answer = ("refused", "template needed more memory than a render may use")
        except Exception as e:  # a bug, not the template: the parent raises it
            answer = ("failed", type(e).__name__)
        conn.send(answer)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the service; it closes us
    fd, memory_bytes = int(argv[0]), int(argv[1])
    serve(Connection(fd), memory_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
