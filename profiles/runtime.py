"""Background work that runs beside the API: projections, clock, Kafka consumer, relay.

Started and stopped as one unit by ``profiles serve``; each part is added by the
composition root only when its configuration is present.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from profiles.bootstrap import Container

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.workers: list[Any] = []  # objects with start() and stop()
        self._stopping = threading.Event()

    def add(self, worker: Any) -> None:
        self.workers.append(worker)

    def __enter__(self) -> Runtime:
        for worker in self.workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        for worker in reversed(self.workers):
            try:
                worker.stop()
            except Exception:  # stopping must go on for the others
                log.exception("worker failed to stop worker=%s", type(worker).__name__)
