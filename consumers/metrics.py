"""Prometheus metrics of the Kafka side, on the default registry that ``/metrics`` serves.

Created on first use rather than at import, and once per process, so that several
consumers (tests run two in one process) share the same collectors.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import Counter, Gauge

_lock = threading.Lock()
_metrics: KafkaMetrics | None = None


@dataclass(frozen=True)
class KafkaMetrics:
    lag: Gauge
    stalled: Gauge
    lost: Counter
    ingested: Counter
    duplicates: Counter
    dead_letters: Counter
    relay_position: Gauge
    relay_published: Counter
    restarts: Counter


def kafka_metrics() -> KafkaMetrics:
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = KafkaMetrics(
                lag=Gauge("profiles_consumer_lag", "Messages behind the partition's high watermark",
                          ["topic", "partition"]),
                stalled=Gauge("profiles_consumer_stalled",
                              "1 while a partition is stopped because the store is ahead of its log "
                              "(topic recreated or truncated; see `profiles consume --forget-partition`)",
                              ["topic", "partition"]),
                lost=Counter("profiles_consumer_lost_to_retention",
                             "Messages the topic deleted (retention) before the store applied them",
                             ["topic", "partition"]),
                ingested=Counter("profiles_consumer_ingested", "Envelopes applied to the event store", ["topic"]),
                duplicates=Counter("profiles_consumer_duplicates", "Envelopes skipped as already applied (eventId)",
                                   ["topic"]),
                dead_letters=Counter("profiles_consumer_dead_letters", "Messages sent to the dead-letter topic",
                                     ["topic", "code"]),
                relay_position=Gauge("profiles_relay_position", "Event-log position the outbound relay has published"),
                relay_published=Counter("profiles_relay_published", "Message sends published to the outbound topic"),
                restarts=Counter("profiles_worker_restarts",
                                 "Times a background worker (Kafka consumer, relay) failed and was started again",
                                 ["worker"]),
            )
        return _metrics
