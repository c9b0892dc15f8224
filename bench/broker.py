"""A Kafka-compatible broker for the Kafka benchmarks, and a fast way to fill a topic.

``KAFKA_BOOTSTRAP_SERVERS`` when set, else the tests' throwaway Tansu broker (memory
storage) on a free loopback port, stopped afterwards.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import common, workload


@contextmanager
def broker() -> Iterator[str]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    from tests.integration.kafka_broker import TansuBroker

    log = Path(tempfile.mkdtemp(prefix="bench-tansu-")) / "broker.log"
    running = TansuBroker(log).start()
    try:
        yield running.bootstrap
    finally:
        running.stop()


def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    from tests.integration.kafka_broker import create_topics as create

    create(bootstrap, names, partitions)


def produce(bootstrap: str, topic: str, envelopes: Iterable[dict[str, Any]], total: int,
            quiet: bool) -> dict[int, int]:
    """Send every envelope; returns each partition's end offset as the broker acknowledged
    it (Tansu's ListOffsets was seen to answer a stale high watermark, so the producer's
    own acknowledgements are the count)."""
    import orjson
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=20, batch_size=512 * 1024,
                             max_request_size=8 * 1024 * 1024)
    bar = common.progress(total, f"producing to {topic}", quiet=quiet, unit="msg")
    ends: dict[int, int] = {}

    def acked(meta: Any) -> None:
        ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)

    futures = []
    key_of = workload.ContactKeys()
    try:
        for n, envelope in enumerate(envelopes, 1):
            futures.append(producer.send(topic, key=key_of(envelope).encode(), value=orjson.dumps(envelope))
                           .add_callback(acked))
            if n % 5000 == 0:
                bar.update(5000)
        producer.flush()
        bar.update(total - bar.n)
    finally:
        bar.close()
        producer.close(timeout=10)
    failed = [f for f in futures if f.failed()]
    if failed:
        raise RuntimeError(f"{len(failed)} messages were not acknowledged: {failed[0].exception!r}")
    return ends
