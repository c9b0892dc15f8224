"""The Kafka consumer of contact events: exactly once into the event store.

Per partition, each poll's records are one batch: decoded, validated, applied in one
transaction together with the tracking record ``kafka:{topic}:{partition}`` = the last
offset. Refused messages are confirmed on the dead-letter topic *before* that
transaction, so a crash anywhere either repeats the whole batch (events, receipts and
tracking were not stored) or none of it. On every assignment the consumer seeks to the
stored offset + 1; offsets committed to Kafka are only a hint for other tools.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from consumers.dead_letters import DeadLetter, DeadLetterFailed, DeadLetterPublisher
from consumers.metrics import kafka_metrics
from consumers.records import Refusal, decode, kafka_meta
from domain import ingest
from domain.errors import DomainError

log = logging.getLogger(__name__)

# Short group timeouts: with the defaults a first join took ~23 s against Tansu (§8).
GROUP_TIMEOUTS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000, "max_poll_interval_ms": 10000}
# How long the broker may hold a fetch that finds no new records. Against Tansu, under a
# steady trickle, records that arrived while such a fetch waited were often handed over
# only when the wait ended: kafka-python alone, 1 000 messages/s over 3 partitions, was
# 140 ms late at the median with the client's default 500 ms and 20 ms with 50 ms. In
# bench B5 (publish → visible, p99) 290 → 58-68 ms at 1 000 events/s and 350-400 →
# 119 ms at 5 000/s (fourteenth session). An idle consumer asks 20 times a second.
FETCH_MAX_WAIT_MS = 50
# Failures of the machinery, not of a message: they stop the consumer (restart resumes
# from the store's tracking) and never send a message to the dead-letter topic.
_INFRASTRUCTURE = (PersistenceError, psycopg.Error, DeadLetterFailed, KafkaError, OSError)


def tracking_name(topic: str, partition: int) -> str:
    return f"kafka:{topic}:{partition}"


class ContactEventConsumer:
    def __init__(self, app: Any, settings: Any, *, max_records: int = 3000, poll_timeout_ms: int = 200,
                 client_id: str = "profiles-consumer") -> None:
        self.app = app
        self.bootstrap = settings.kafka_bootstrap_servers
        self.topic = settings.events_topic
        self.dlq_topic = settings.dlq_topic
        self.group = settings.consumer_group
        self.max_records = max_records
        self.poll_timeout_ms = poll_timeout_ms
        self.client_id = client_id
        self.metrics = kafka_metrics()
        self.assigned: set[TopicPartition] = set()
        self._next_offset: dict[TopicPartition, int] = {}
        # Partitions stopped because the store is ahead of their log (see ``_stall``).
        self.stalled: set[TopicPartition] = set()

    # -- the loop -------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, client_id=self.client_id,
            enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            **GROUP_TIMEOUTS,
        )
        try:
            producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=2,
                                     client_id=f"{self.client_id}-dlq")
        except Exception:
            consumer.close(autocommit=False)
            raise
        dead_letters = DeadLetterPublisher(producer, self.dlq_topic)
        log.info("consumer starting topic=%s group=%s", self.topic, self.group)
        try:
            consumer.subscribe([self.topic], listener=_SeekToTracking(self, consumer))
            budget = self.max_records
            while not stop.is_set():
                polled = consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=budget)
                done: dict[TopicPartition, OffsetAndMetadata] = {}
                started, count = time.monotonic(), 0
                for tp, records in polled.items():
                    if records and self.process(consumer, tp, records, dead_letters):
                        done[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
                    count += len(records)
                budget = self._next_budget(count, time.monotonic() - started)
                if done:
                    consumer.commit_async(done)  # a hint only: the store's tracking is the truth
                self._verify_positions(consumer)
                self._observe_lag(consumer)
        except Exception as e:
            log.error("consumer stopping on error topic=%s error=%s", self.topic, type(e).__name__)
            raise
        finally:
            try:
                consumer.close(autocommit=False)
            finally:
                producer.close(timeout=5)
            log.info("consumer stopped topic=%s group=%s", self.topic, self.group)

    def _next_budget(self, count: int, seconds: float) -> int:
        """Records to take next: as many as fit in a third of max_poll_interval at the
        rate just seen, so a slow store never gets this member evicted from the group."""
        if count < 100 or seconds <= 0:
            return self.max_records
        fits = int(count / seconds * GROUP_TIMEOUTS["max_poll_interval_ms"] / 3000)
        return max(100, min(self.max_records, fits))

    def seek_to_tracking(self, consumer: KafkaConsumer, tp: TopicPartition) -> None:
        stored = self.app.recorder.max_tracking_id(tracking_name(tp.topic, tp.partition))
        if stored is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, stored + 1)
        self._next_offset[tp] = 0 if stored is None else stored + 1
        log.info("partition assigned topic=%s partition=%s next_offset=%s", tp.topic, tp.partition,
                 "beginning" if stored is None else stored + 1)

    # -- a partition whose log is behind the store ---------------------------------

    def _verify_positions(self, consumer: KafkaConsumer) -> None:
        """Stop the partitions whose log ends before the store's position. A fetch at our
        position reports the log's end (high watermark); a low one is confirmed by asking
        the broker afresh, since a watermark seen before a re-seek can be stale."""
        suspects = [tp for tp in self.assigned - self.stalled
                    if (highwater := consumer.highwater(tp)) is not None and highwater < self._next_offset.get(tp, 0)]
        if suspects:
            for tp, end in consumer.end_offsets(suspects).items():
                if end is not None and end < self._next_offset.get(tp, 0):
                    self._stall(consumer, tp, end)

    def _stall(self, consumer: KafkaConsumer, tp: TopicPartition, topic_offset: int) -> None:
        """The store applied offsets this partition's log does not have (any more): the
        topic was deleted and recreated, or truncated. Its offsets now name other
        messages, so neither skipping to the stored position (messages up to it would be
        lost) nor reading from the start under the old positions is right: the partition
        stops, loudly, until an operator forgets its position (``profiles consume
        --forget-partition``). The other partitions go on."""
        consumer.pause(tp)
        self.stalled.add(tp)
        self.metrics.stalled.labels(tp.topic, str(tp.partition)).set(1)
        log.error("partition stopped: the store is ahead of the topic topic=%s partition=%s store_next_offset=%s "
                  "topic_offset=%s; the topic was recreated or truncated. Stop the consumers, run "
                  "`profiles consume --forget-partition %s:%s` and start them again: the partition is then read "
                  "from its first message, and eventIds applied before are skipped", tp.topic, tp.partition,
                  self._next_offset.get(tp), topic_offset, tp.topic, tp.partition)

    def _check_retention(self, consumer: KafkaConsumer, tp: TopicPartition, expected: int) -> None:
        """Records that start past our position. Offsets may have gaps (compaction,
        transaction markers), but a log that now begins past our position deleted
        messages the store never applied (retention ran while the consumers were down or
        far behind; the client then resets to the log's first offset). Nothing brings
        them back, so the partition goes on — but never silently."""
        start = consumer.beginning_offsets([tp]).get(tp)
        if start is None or start <= expected:
            return
        self.metrics.lost.labels(tp.topic, str(tp.partition)).inc(start - expected)
        log.error("messages lost to retention topic=%s partition=%s offsets=%s..%s count=%s: the topic deleted "
                  "them before the store applied them; replay them from their source, or raise the topic's "
                  "retention above the consumers' longest outage", tp.topic, tp.partition, expected, start - 1,
                  start - expected)

    def revoked(self, tp: TopicPartition) -> None:
        """Revoked: whatever this member reported about the partition is stale now."""
        self.stalled.discard(tp)
        for gauge in (self.metrics.lag, self.metrics.stalled):
            try:
                gauge.remove(tp.topic, str(tp.partition))
            except KeyError:
                pass

    # -- one partition's batch ------------------------------------------------------

    def process(self, consumer: KafkaConsumer, tp: TopicPartition, records: list[Any],
                dead_letters: DeadLetterPublisher) -> bool:
        """Apply one partition's records; False when another consumer had stored them or
        when they lie behind the store's position (the log was recreated under us)."""
        if tp in self.stalled:
            return False
        expected = self._next_offset.get(tp)
        if expected and records[0].offset < expected:
            # Only a log that restarted behind us hands out an offset below the position
            # we sought to (the client resets an out-of-range position to the beginning).
            self._stall(consumer, tp, records[0].offset)
            return False
        if expected is not None and records[0].offset > expected:
            self._check_retention(consumer, tp, expected)
        letters: list[DeadLetter] = []
        envelopes: list[ingest.Envelope] = []
        origins: list[Any] = []
        for record in records:
            outcome = decode(record.value)
            if isinstance(outcome, Refusal):
                letters.append(DeadLetter.of(record, outcome.code, outcome.message))
            else:
                envelopes.append(outcome)
                origins.append(record)
        tracking = Tracking(tracking_name(tp.topic, tp.partition), records[-1].offset)
        confirmed: set[int] = set()

        def before_save(refusals: list[tuple[int, DomainError]]) -> None:
            batch = letters + [DeadLetter.of(origins[i], error.code, error.detail) for i, error in refusals]
            fresh = [letter for letter in batch if letter.offset not in confirmed]
            dead_letters.publish(fresh)
            confirmed.update(letter.offset for letter in fresh)
            for letter in fresh:
                self.metrics.dead_letters.labels(tp.topic, letter.code).inc()
                log.info("dead letter topic=%s partition=%s offset=%s code=%s", letter.topic, letter.partition,
                         letter.offset, letter.code)

        try:
            result = self._ingest(envelopes, tracking, before_save)
        except IntegrityError:
            if not self.app.recorder.has_tracking_id(tracking.application_name, tracking.notification_id):
                raise
            # Another member of the group stored this batch after a rebalance: start
            # again from what the store says, never from what this consumer believed.
            log.warning("batch already stored elsewhere topic=%s partition=%s offset=%s", tp.topic, tp.partition,
                        tracking.notification_id)
            if tp in consumer.assignment():
                self.seek_to_tracking(consumer, tp)
            return False
        except _INFRASTRUCTURE:
            raise
        except Exception as e:
            return self._isolate(consumer, tp, records, dead_letters, e)
        self._count(tp, result.results)
        self._next_offset[tp] = records[-1].offset + 1
        return True

    def _isolate(self, consumer: KafkaConsumer, tp: TopicPartition, records: list[Any],
                 dead_letters: DeadLetterPublisher, error: Exception) -> bool:
        """A batch broke the processing itself (not a domain refusal, not the machinery):
        apply its records one by one; a single record that breaks it twice is parked in
        the dead-letter topic as ``processing_error`` so the partition keeps moving."""
        if len(records) > 1:
            log.warning("batch failed, retrying one by one topic=%s partition=%s error=%s", tp.topic,
                        tp.partition, type(error).__name__)
            return all(self.process(consumer, tp, [record], dead_letters) for record in records)
        (record,) = records
        outcome = decode(record.value)
        tracking = Tracking(tracking_name(tp.topic, tp.partition), record.offset)

        def park(letters: list[DeadLetter]) -> None:
            dead_letters.publish(letters)
            for letter in letters:
                self.metrics.dead_letters.labels(tp.topic, letter.code).inc()

        if isinstance(outcome, ingest.Envelope):
            try:  # once more, alone: it may not have been this message's fault
                result = self._ingest([outcome], tracking, lambda refusals: park(
                    [DeadLetter.of(record, e.code, e.detail) for _, e in refusals]))
            except _INFRASTRUCTURE:
                raise
            except Exception:
                pass
            else:
                self._count(tp, result.results)
                self._next_offset[tp] = record.offset + 1
                return True
        log.error("message breaks processing topic=%s partition=%s offset=%s error=%s", tp.topic, tp.partition,
                  record.offset, type(error).__name__)
        self._ingest([], tracking, lambda _: park([DeadLetter.of(record, "processing_error", type(error).__name__)]))
        self._next_offset[tp] = record.offset + 1
        return True

    def _ingest(self, envelopes: list[ingest.Envelope], tracking: Tracking, before_save: Any) -> Any:
        for attempt in range(3):
            try:
                return self.app.ingest(envelopes, kafka_meta, tracking=tracking, before_save=before_save)
            except IntegrityError:
                # Receipts written concurrently by another member: a fresh call re-reads them.
                if attempt == 2 or self.app.recorder.has_tracking_id(tracking.application_name,
                                                                     tracking.notification_id):
                    raise
        raise AssertionError("unreachable")

    def _count(self, tp: TopicPartition, results: list[Any]) -> None:
        applied = sum(1 for r in results if not isinstance(r, (DomainError, ingest.Duplicate)))
        duplicates = sum(1 for r in results if isinstance(r, ingest.Duplicate))
        if applied:
            self.metrics.ingested.labels(tp.topic).inc(applied)
        if duplicates:
            self.metrics.duplicates.labels(tp.topic).inc(duplicates)

    def _observe_lag(self, consumer: KafkaConsumer) -> None:
        for tp in self.assigned:
            highwater = consumer.highwater(tp)
            if highwater is not None and tp in self._next_offset:
                self.metrics.lag.labels(tp.topic, str(tp.partition)).set(max(0, highwater - self._next_offset[tp]))


class _SeekToTracking(ConsumerRebalanceListener):
    def __init__(self, owner: ContactEventConsumer, consumer: KafkaConsumer) -> None:
        self._owner = owner
        self._consumer = consumer

    def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self._owner.assigned.discard(tp)
            self._owner.revoked(tp)
            log.info("partition revoked topic=%s partition=%s", tp.topic, tp.partition)

    def on_partitions_assigned(self, assigned: Any) -> None:
        for tp in assigned:
            self._owner.assigned.add(tp)
            self._owner.seek_to_tracking(self._consumer, tp)
