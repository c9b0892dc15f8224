"""Integration fixtures: a projection runner over a test's schema; one Kafka-compatible
broker per test session.

``KAFKA_BOOTSTRAP_SERVERS`` points the tests at an existing broker; otherwise Tansu is
started on a free loopback port and stopped when the session ends. Every test gets its
own topics and consumer group, so tests never see each other's messages.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from projections.runner import ProjectionRunner
from tests.integration.kafka_broker import TansuBroker, create_topics, wait_until_answers


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        wait_until_answers(given, 30.0)
        yield given
        return
    broker = TansuBroker(tmp_path_factory.mktemp("tansu") / "broker.log").start()
    yield broker.bootstrap
    broker.stop()


@pytest.fixture(scope="session")
def kafka_producer(kafka_bootstrap: str) -> Iterator[object]:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=5)
    yield producer
    producer.close()


@pytest.fixture
def kafka_settings(settings, kafka_bootstrap: str):
    """Settings with this test's own topics (3 partitions each) and consumer group."""
    tag = uuid.uuid4().hex[:10]
    topics = {"events_topic": f"contact-events-{tag}", "dlq_topic": f"contact-events-{tag}.dlq",
              "outbound_topic": f"outbound-messages-{tag}"}
    create_topics(kafka_bootstrap, list(topics.values()), partitions=3)
    return settings.model_copy(update={**topics, "kafka_bootstrap_servers": kafka_bootstrap,
                                       "consumer_group": f"profiles-{tag}"})


@pytest.fixture
def kafka_container(kafka_settings):
    from profiles.bootstrap import build

    built = build(kafka_settings)
    yield built
    built.close()


# -- helpers shared by the Kafka tests ------------------------------------------------


def envelope(domain: str, type_: str, contact: dict, data: dict | None = None, *, event_id: str | None = None,
             occurred_at: str = "2026-11-28T10:00:00Z") -> dict:
    return {"eventId": event_id or str(uuid.uuid4()), "domain": domain, "type": type_, "occurredAt": occurred_at,
            "contact": contact, "data": data or {}}


def publish(producer, topic: str, messages: list[tuple[bytes | None, bytes | dict]]) -> dict[int, int]:
    """Publish (key, value) pairs; dict values are JSON-encoded. Returns {partition: last offset}."""
    import orjson

    futures = [producer.send(topic, key=key, value=value if isinstance(value, bytes) else orjson.dumps(value))
               for key, value in messages]
    producer.flush()
    last: dict[int, int] = {}
    for future in futures:
        meta = future.get(timeout=10)
        last[meta.partition] = max(last.get(meta.partition, -1), meta.offset)
    return last


def wait_for(condition, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"):
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


def wait_applied(app, topic: str, last_offsets: dict[int, int], timeout: float = 60.0) -> None:
    """Wait until the store's tracking records cover every published offset."""
    from consumers.consumer import tracking_name

    def covered() -> bool:
        stored = {p: app.recorder.max_tracking_id(tracking_name(topic, p)) for p in last_offsets}
        return all(stored[p] is not None and stored[p] >= o for p, o in last_offsets.items())  # offset 0 counts

    wait_for(covered, timeout, message=f"tracking to reach {last_offsets}")


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 20.0) -> list:
    """All records of ``topic`` (at least ``expected`` of them), read without a group."""
    import time

    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            ends = consumer.end_offsets(partitions)
            if len(records) >= expected and all(consumer.position(tp) >= ends[tp] for tp in partitions):
                return records
        raise AssertionError(f"read {len(records)} of {expected} records from {topic}")
    finally:
        consumer.close()


@pytest.fixture
def run_consumer(kafka_container):
    """Start consumers (threads) against the test's container; all stopped at the end."""
    from consumers.consumer import ContactEventConsumer
    from consumers.worker import ThreadWorker

    workers: list[ThreadWorker] = []

    def start(app=None, **kwargs) -> ThreadWorker:
        consumer = ContactEventConsumer(app or kafka_container.app, kafka_container.settings, **kwargs)
        worker = ThreadWorker(f"consumer-{len(workers)}", consumer.run)
        worker.consumer = consumer  # type: ignore[attr-defined]
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    for worker in workers:
        assert worker.error is None, f"consumer failed: {worker.error!r}"


@pytest.fixture
def runner(container) -> ProjectionRunner:
    """The projections over the test's schema, driven by the test (``runner.catch_up()``)."""
    runner = ProjectionRunner(container.database_url, container.settings.db_schema)
    runner.ensure_tables()
    return runner
