"""Records the passing of time as ``Clock.Ticked`` events, so time-relative segments are
re-evaluated by the projections from the log (a rebuild replays the same ticks)."""

from __future__ import annotations

import logging
from typing import Any

from domain.meta import Meta
from projections.worker import ThreadWorker

log = logging.getLogger(__name__)


class ClockWorker(ThreadWorker):
    thread_name = "clock"

    def __init__(self, app: Any, interval: float) -> None:
        super().__init__()
        self.app = app
        self.interval = interval

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                position = self.app.tick(Meta(method="api", actor="clock"))
                log.info("clock ticked position=%d", position)
            except Exception:  # the next tick will try again
                log.exception("clock tick failed")
            self._stopping.wait(self.interval)
