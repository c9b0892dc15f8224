"""A background thread with the ``start()`` / ``stop()`` of a Runtime worker."""

from __future__ import annotations

import threading


class ThreadWorker:
    """Runs ``_loop`` in a daemon thread until ``stop()``; the loop watches ``_stopping``."""

    thread_name = "worker"

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        raise NotImplementedError
