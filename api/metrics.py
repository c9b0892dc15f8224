"""Prometheus metrics on the default registry (so the consumer's and relay's appear too).

Request latency is observed per route template, never per raw path (ids would explode
the label set). Events appended and projection lag are read from the store when scraped,
so they count every writer — API, Kafka consumer, demo loader — not only this process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

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


def middleware(latency: Histogram) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            latency.labels(request.method, template, str(status)).observe(elapsed)
            # The route template, never the raw URL: a search URL carries an email or phone.
            access.info("request method=%s route=%s status=%d ms=%.1f", request.method, template, status,
                        elapsed * 1000)

    return observe
