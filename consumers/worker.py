"""Run a loop on a background thread with ``start()``/``stop()``, as ``profiles serve`` expects."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from consumers.metrics import kafka_metrics

log = logging.getLogger(__name__)


# After a failure the loop starts again after a pause that doubles up to the longest,
# and starts short again once a run has lasted a while.
FIRST_PAUSE, LONGEST_PAUSE, HEALTHY_RUN = 1.0, 30.0, 60.0


class ThreadWorker:
    """Runs ``loop(stop)`` on a daemon thread until ``stop()``. A loop that fails (the
    database restarted, the broker went away) is started again: the consumer then seeks
    to the store's positions and the relay to its own, so nothing is lost or repeated,
    and ``profiles serve`` goes on ingesting without a restart."""

    def __init__(self, name: str, loop: Callable[[threading.Event], None],
                 on_stopped: Callable[[], None] | None = None) -> None:
        self.name = name
        self._loop = loop
        self._on_stopped = on_stopped
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None  # the last failure, kept for tests and health
        self.restarts = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pause = FIRST_PAUSE
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._loop(self._stop)
                return
            except Exception as e:  # the loop already logged why, without payloads
                self.error = e
            pause = FIRST_PAUSE if time.monotonic() - started > HEALTHY_RUN else pause
            log.error("worker failed; starting it again worker=%s error=%s in_seconds=%.0f", self.name,
                      type(self.error).__name__, pause, exc_info=self.error)
            if self._stop.wait(pause):
                return
            self.restarts += 1
            kafka_metrics().restarts.labels(self.name).inc()
            pause = min(pause * 2, LONGEST_PAUSE)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._on_stopped is not None and not self.alive:
            self._on_stopped()
