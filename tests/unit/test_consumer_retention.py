"""Messages the topic deleted (retention) before the store applied them are reported, and
the partition goes on.

The integration tests' broker (Tansu) cannot delete records: it drops the connection on
DeleteRecords (tried 2026-11-29). So here the broker's side is a stand-in answering the
one question the consumer asks it in this case, where the partition's log now begins;
the records, the consumer and the application are the real ones."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import orjson
import pytest
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import REGISTRY

from consumers.consumer import ContactEventConsumer
from consumers.dead_letters import DeadLetterPublisher

TOPIC = "contact-events-retention"
TP = TopicPartition(TOPIC, 0)


class LogBeginningAt:
    def __init__(self, start: int) -> None:
        self.start = start

    def beginning_offsets(self, partitions):
        return {tp: self.start for tp in partitions}


def record(offset: int) -> ConsumerRecord:
    value = orjson.dumps({"eventId": f"e-{offset}", "domain": "shop", "type": "contact.upserted",
                          "occurredAt": "2026-11-01T10:00:00+00:00", "contact": {"userId": f"u-{offset}"}})
    return ConsumerRecord(TOPIC, 0, -1, offset, 0, 0, b"k", value, [], None, 1, len(value), -1)


def lost() -> float:
    return REGISTRY.get_sample_value("profiles_consumer_lost_to_retention_total",
                                     {"topic": TOPIC, "partition": "0"}) or 0.0


def consumer_lines(caplog) -> list[str]:
    """The consumer's own lines (other threads of the test session log too)."""
    return [r.getMessage() for r in caplog.records if r.name == "consumers.consumer"]


@pytest.fixture
def worker(memory_app) -> ContactEventConsumer:
    settings = SimpleNamespace(kafka_bootstrap_servers="unused:9092", events_topic=TOPIC, dlq_topic=f"{TOPIC}.dlq",
                               consumer_group="profiles")
    return ContactEventConsumer(memory_app, settings)


def apply(worker, broker, offsets) -> bool:
    return worker.process(broker, TP, [record(o) for o in offsets], DeadLetterPublisher(None, f"{TOPIC}.dlq"))


def test_messages_deleted_before_they_were_applied_are_counted_and_logged(worker, memory_app, caplog):
    before = lost()
    assert apply(worker, LogBeginningAt(0), [0, 1, 2])
    # The consumers were down while retention deleted offsets 3..9: the client resets to 10.
    with caplog.at_level(logging.ERROR, logger="consumers.consumer"):
        assert apply(worker, LogBeginningAt(10), [10, 11])
    assert lost() - before == 7
    (line,) = consumer_lines(caplog)
    assert "messages lost to retention" in line and "partition=0 offsets=3..9 count=7" in line
    assert memory_app.receipts_seen(["shop\x1fe-10", "shop\x1fe-11"]) == {"shop\x1fe-10", "shop\x1fe-11"}


def test_a_gap_the_log_still_covers_is_not_a_loss(worker, caplog):
    """Compaction and transaction markers leave gaps in offsets too."""
    before = lost()
    with caplog.at_level(logging.ERROR, logger="consumers.consumer"):
        assert apply(worker, LogBeginningAt(0), [0, 1])
        assert apply(worker, LogBeginningAt(0), [5, 6])
    assert lost() == before
    assert consumer_lines(caplog) == []
