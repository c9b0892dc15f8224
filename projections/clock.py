"""Records the passing of time as ``Clock.Ticked`` events, so time-relative segments are
re-evaluated by the projections from the log (a rebuild replays the same ticks)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from domain.meta import Meta

log = logging.getLogger(__name__)


class ClockWorker:
    def __init__(self, app: Any, interval: float) -> None:
        self.app = app
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                position = self.app.tick(Meta(method="api", actor="clock"))
                log.info("clock ticked position=%d", position)
            except Exception:  # the next tick will try again
                log.exception("clock tick failed")
            self._stopping.wait(self.interval)
