"""A partition whose log is behind the store's position (the topic was deleted and
recreated, or truncated): the consumer stops that partition loudly instead of waiting
silently for offsets that name other messages, the others go on, and
``profiles consume --forget-partition`` starts it again from its first message."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from eventsourcing.persistence import Tracking
from kafka import TopicPartition
from prometheus_client import REGISTRY

from consumers.consumer import tracking_name
from consumers.records import kafka_meta
from domain import handlers
from domain.unit_of_work import UnitOfWork
from tests.integration.conftest import envelope, publish, wait_applied, wait_for

pytestmark = pytest.mark.kafka


def known(app, n: int) -> set[int]:
    return {i for i in range(n) if handlers.resolve(UnitOfWork(app), "shop", {"userId": f"u{i}"}) is not None}


def test_a_partition_behind_the_store_stops_loudly_and_forgetting_it_reads_it_again(
        kafka_container, kafka_producer, run_consumer, caplog):
    caplog.set_level(logging.INFO, logger="consumers.consumer")
    app, settings = kafka_container.app, kafka_container.settings
    topic = settings.events_topic
    # The store applied offsets up to 1000 of partition 0 of an earlier topic of this name.
    app.ingest([], kafka_meta, tracking=Tracking(tracking_name(topic, 0), 1000))
    last = publish(kafka_producer, topic, [(f"k{i}".encode(), envelope("shop", "contact.upserted", {"userId": f"u{i}"}))
                                           for i in range(30)])
    assert set(last) == {0, 1, 2}

    worker = run_consumer()
    wait_applied(app, topic, {p: o for p, o in last.items() if p != 0})
    stalled = TopicPartition(topic, 0)
    wait_for(lambda: stalled in worker.consumer.stalled, message="partition 0 to stop")
    on_partition_0 = 30 - sum(o + 1 for p, o in last.items() if p != 0)
    assert len(known(app, 30)) == 30 - on_partition_0  # nothing of partition 0 was applied
    assert REGISTRY.get_sample_value("profiles_consumer_stalled", {"topic": topic, "partition": "0"}) == 1
    message = next(r.getMessage() for r in caplog.records if "store is ahead of the topic" in r.getMessage())
    assert f"--forget-partition {topic}:0" in message and "store_next_offset=1001" in message
    worker.stop()

    env = {**os.environ, "DATABASE_URL": settings.database_url, "PROFILES_DB_SCHEMA": settings.db_schema,
           "PROFILES_DATA_DIR": str(settings.data_dir)}
    bad = subprocess.run([sys.executable, "-m", "profiles.cli", "consume", "--forget-partition", topic],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "TOPIC:PARTITION" in bad.stderr
    done = subprocess.run([sys.executable, "-m", "profiles.cli", "consume", "--forget-partition", f"{topic}:0"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{tracking_name(topic, 0)}: forgot 1 stored positions" in done.stdout
    assert app.recorder.max_tracking_id(tracking_name(topic, 0)) is None

    run_consumer()
    wait_applied(app, topic, last)
    assert known(app, 30) == set(range(30))


def test_a_topic_recreated_under_a_running_consumer_stops_its_partition(
        kafka_container, kafka_producer, kafka_bootstrap, run_consumer):
    from kafka import KafkaAdminClient

    from tests.integration.kafka_broker import create_topics

    app, topic = kafka_container.app, kafka_container.settings.events_topic
    worker = run_consumer()
    first = publish(kafka_producer, topic, [(b"k", envelope("shop", "contact.upserted", {"userId": f"u{i}"}))
                                            for i in range(20)])
    wait_applied(app, topic, first)
    (partition, _), = first.items()

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.delete_topics([topic])
        wait_for(lambda: topic not in admin.list_topics(), message="the topic to go")
    finally:
        admin.close()
    create_topics(kafka_bootstrap, [topic], partitions=3)
    publish(kafka_producer, topic, [(b"k", envelope("shop", "contact.upserted", {"userId": "new"}))])

    wait_for(lambda: TopicPartition(topic, partition) in worker.consumer.stalled, message="the partition to stop")
    assert handlers.resolve(UnitOfWork(app), "shop", {"userId": "new"}) is None
