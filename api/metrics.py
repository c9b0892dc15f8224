"""Prometheus metrics on the default registry (so the consumer's and relay's appear too).

Request latency is observed per route template, never per raw path (ids would explode
the label set). Events appended and projection lag are read from the store when scraped,
so they count every writer — API, Kafka consumer, demo loader — not only this process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
access = logging.getLogger("api.access")
_lock = threading.Lock()
_state: dict[str, Any] = {}


class StoreCollector(Collector):
    def __init__(self, container: Any) -> None:
        self._container = container

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, GaugeMetricFamily]:
        return (
            CounterMetricFamily("profiles_events_appended", "Events appended to the event store (log head)"),
            GaugeMetricFamily("profiles_projection_lag_events", "Events the projection is behind the log head",
                              labels=["projection"]),
        )

    def describe(self) -> Iterator[Any]:
        # Registration asks for names only: no database query at app construction.
        yield from self._families()

    def collect(self) -> Iterator[Any]:
        appended, lag = self._families()
        try:
            head = self._container.app.recorder.max_notification_id() or 0
            appended.add_metric([], head)
            read_model = getattr(self._container, "read_model", None)
            for name, position in (read_model.positions() if read_model else {}).items():
                lag.add_metric([name], max(head - position, 0))
        except Exception:  # a scrape must not fail because the database is down
            log.warning("metrics: store not reachable")
        yield appended
        yield lag


def install(container: Any) -> Histogram:
    """Register the metrics once per process; a new app replaces the store collector."""
    with _lock:
        if "latency" not in _state:
            _state["latency"] = Histogram(
                "profiles_http_request_duration_seconds", "HTTP request latency",
                ["method", "route", "status"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            )
        previous = _state.get("collector")
        if previous is not None:
            REGISTRY.unregister(previous)
        _state["collector"] = StoreCollector(container)
        REGISTRY.register(_state["collector"])
        return _state["latency"]


class Observe:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a body copy per
    request, a sixth of a profile read in bench B4) timing each request by route template."""

    def __init__(self, app: Any, latency: Histogram) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.latency.labels(scope["method"], template, str(status)).observe(elapsed)
            # The route template, never the raw URL: a search URL carries an email or phone.
            access.info("request method=%s route=%s status=%d ms=%.1f", scope["method"], template, status,
                        elapsed * 1000)
