"""Run a loop on a background thread with ``start()``/``stop()``, as ``profiles serve`` expects."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class ThreadWorker:
    def __init__(self, name: str, loop: Callable[[threading.Event], None],
                 on_stopped: Callable[[], None] | None = None) -> None:
        self.name = name
        self._loop = loop
        self._on_stopped = on_stopped
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._loop(self._stop)
        except BaseException as e:  # kept for stop()/health; the loop already logged why
            self.error = e
            log.critical("worker stopped on error worker=%s error=%s", self.name, type(e).__name__, exc_info=True)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._on_stopped is not None and not self.alive:
            self._on_stopped()
