"""The outbound relay: every message send in the event log, published once to Kafka.

It follows the log (``Message.Sent`` notifications, in log order), publishes each send
with ``acks=all``, waits for the broker's acknowledgement, then stores its position in
PostgreSQL. Never skips: the position only moves past sends the broker confirmed.

Never republishes across a restart: with the position the relay also stores, per
partition, the outbound topic's offset after its last confirmed batch. A crash after
the broker confirmed a batch but before the position was stored leaves those sends in
the topic past the stored offsets; on start the relay reads that tail and skips the
``messageId``s already there. The producer is idempotent (kafka-python 3 default), so
its own retries add no copies either. One relay per database publishes at a time: the
others wait on a PostgreSQL advisory lock and take over when it goes away.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
import psycopg
from eventsourcing.utils import get_topic
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from psycopg.sql import SQL, Identifier
from psycopg.types.json import Jsonb

from consumers.metrics import kafka_metrics
from domain.message import Message

log = logging.getLogger(__name__)
SENT_TOPIC = get_topic(Message.Sent)


@dataclass
class Checkpoint:
    position: int = 0
    offsets: dict[int, int] = field(default_factory=dict)  # outbound partition → next offset


_CREATE_LOCK = 0x50524F47  # the relay's checkpoint table, created once per database


class OutboundRelay:
    def __init__(self, app: Any, settings: Any, *, batch_size: int = 500, idle_seconds: float = 0.2) -> None:
        self.app = app
        self.bootstrap = settings.kafka_bootstrap_servers
        self.topic = settings.outbound_topic
        self.name = f"relay:{self.topic}"
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.metrics = kafka_metrics()
        datastore = app.recorder.datastore
        self._datastore = datastore
        self._table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier("profiles_relay_tracking"))
        self.position = 0

    def run(self, stop: threading.Event) -> None:
        # A connection of its own: the lock lives as long as this session, not a pooled one.
        with psycopg.connect(**self._datastore.pool.kwargs, autocommit=True) as lock_conn:
            if self._lock(lock_conn, stop):
                self._relay(stop)

    # -- the loop -------------------------------------------------------------------

    def _relay(self, stop: threading.Event) -> None:
        checkpoint = self.load()
        already = self._published_after(checkpoint)
        self.position = checkpoint.position
        offsets = dict(checkpoint.offsets)
        self.metrics.relay_position.set(self.position)
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, client_id="profiles-relay")
        log.info("relay starting topic=%s position=%s republish_guard=%s", self.topic, self.position, len(already))
        try:
            while not stop.is_set():
                notifications = self.app.recorder.select_notifications(
                    self.position + 1, self.batch_size, topics=[SENT_TOPIC])
                if not notifications:
                    stop.wait(self.idle_seconds)
                    continue
                sent = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
                futures = [(producer.send(self.topic, key=str(event.originator_id).encode(), value=payload(event),
                                          headers=[("profiles-position", str(position).encode())]))
                           for position, event in sent if event.originator_id not in already]
                producer.flush()
                for future in futures:
                    meta = future.get(timeout=30)  # raises: stop, nothing recorded, nothing skipped
                    offsets[meta.partition] = max(offsets.get(meta.partition, 0), meta.offset + 1)
                self.position = notifications[-1].id
                self.store(Checkpoint(self.position, offsets))
                self.metrics.relay_position.set(self.position)
                self.metrics.relay_published.inc(len(futures))
                log.info("relay published count=%s position=%s", len(futures), self.position)
        finally:
            producer.close(timeout=5)

    # -- the checkpoint ---------------------------------------------------------------

    def _create_table(self) -> None:
        # IF NOT EXISTS is not atomic in PostgreSQL: two relays starting together clash
        # ("already exists", duplicate key) unless one waits for the other.
        with self._datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
            curs.execute(SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, position bigint NOT NULL, "
                             "offsets jsonb NOT NULL)").format(self._table))

    def load(self) -> Checkpoint:
        self._create_table()
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT position, offsets FROM {} WHERE name = %s").format(self._table), (self.name,))
            row = curs.fetchone()
        if row is None:
            return Checkpoint()
        return Checkpoint(row["position"], {int(p): o for p, o in row["offsets"].items()})

    def store(self, checkpoint: Checkpoint) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(SQL("INSERT INTO {0} (name, position, offsets) VALUES (%s, %s, %s) "
                             "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, offsets = EXCLUDED.offsets "
                             "WHERE {0}.position < EXCLUDED.position").format(self._table),
                         (self.name, checkpoint.position, Jsonb({str(p): o for p, o in checkpoint.offsets.items()})))

    def _published_after(self, checkpoint: Checkpoint) -> set[UUID]:
        """messageIds in the outbound topic past the stored offsets: confirmed by the
        broker, but the relay died before it could record that."""
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                 client_id="profiles-relay-recovery")
        try:
            partitions = [TopicPartition(self.topic, p) for p in sorted(consumer.partitions_for_topic(self.topic) or [])]
            if not partitions:
                return set()
            consumer.assign(partitions)
            ends = consumer.end_offsets(partitions)
            for tp in partitions:
                consumer.seek(tp, min(checkpoint.offsets.get(tp.partition, 0), ends[tp]))
            found: set[UUID] = set()
            deadline = time.monotonic() + 60
            while any(consumer.position(tp) < ends[tp] for tp in partitions):
                if time.monotonic() > deadline:
                    raise TimeoutError("could not read the outbound topic's tail")
                for records in consumer.poll(timeout_ms=200).values():
                    found.update(UUID(r.key.decode()) for r in records if r.key)
            return found
        finally:
            consumer.close()

    # -- one relay at a time ------------------------------------------------------------

    def _lock_key(self) -> str:
        return f"{self._datastore.schema}.{self.name}"

    def _lock(self, conn: Any, stop: threading.Event) -> bool:
        while not stop.is_set():
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS ok", (self._lock_key(),)).fetchone()
            if row["ok"]:
                return True
            stop.wait(1.0)
        return False


def payload(event: Any) -> bytes:
    return orjson.dumps({
        "messageId": str(event.originator_id),
        "kind": event.kind,
        "resendOf": str(event.resend_of) if event.resend_of else None,
        "domain": event.domain,
        "contactId": str(event.contact_id),
        "channel": event.channel,
        "address": event.address,
        "subject": event.subject,
        "body": event.body,
        "templateId": str(event.template_id),
        "requestedAt": event.timestamp.isoformat().replace("+00:00", "Z"),
    })
