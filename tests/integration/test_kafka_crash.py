"""Crash safety: the consumer process is SIGKILLed at random points of a 10 000-event
stream across 3 partitions and restarted; the store ends with every event applied
exactly once, checked by count and by content."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter

import orjson
import pytest
from psycopg.sql import SQL, Identifier

from consumers.consumer import tracking_name
from tests.integration.conftest import envelope, publish, wait_applied, wait_for

pytestmark = pytest.mark.kafka

CONTACTS = 1000
EVENTS = 10_000


def _stream() -> list[tuple[bytes, dict]]:
    messages = [(f"u-{k}".encode(), envelope("shop", "contact.upserted", {"userId": f"u-{k}"}, {"firstName": "N"}))
                for k in range(CONTACTS)]
    for i in range(EVENTS - CONTACTS):
        k = i % CONTACTS
        contact = {"userId": f"u-{k}"}
        if i % 2:
            messages.append((f"u-{k}".encode(), envelope("shop", "contact.variables_set", contact,
                                                         {"variables": {"last": i}})))
        else:
            messages.append((f"u-{k}".encode(), envelope("shop", "activity", contact,
                                                         {"name": "orderPlaced", "properties": {"seq": i}})))
    return messages


def _consumer(settings, log_path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PROFILES_DB_SCHEMA": settings.db_schema,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "PROFILES_EVENTS_TOPIC": settings.events_topic,
           "PROFILES_DLQ_TOPIC": settings.dlq_topic, "PROFILES_CONSUMER_GROUP": settings.consumer_group}
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "profiles.cli", "consume", "--max-records", "300"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)


def _log_tail(log_path, lines: int = 40) -> str:
    """The consumer's own lines (no client chatter), shown by pytest when the test fails."""
    if not log_path.exists():
        return ""
    own = [line for line in log_path.read_text(errors="replace").splitlines()
           if " consumers." in line or " profiles." in line or "Error" in line]
    return "\n".join(own[-lines:])


def _progress(app, topic: str) -> int:
    return sum((app.recorder.max_tracking_id(tracking_name(topic, p)) or -1) + 1 for p in range(3))


def test_sigkill_at_random_points_applies_every_event_exactly_once(kafka_container, kafka_producer, tmp_path):
    app, settings = kafka_container.app, kafka_container.settings
    topic = settings.events_topic
    rng = random.Random(5)
    last = publish(kafka_producer, topic, _stream())
    assert len(last) == 3

    kills: list[int] = []
    log_path = tmp_path / "consumer.log"
    try:
        _kill_restart_and_check(app, settings, topic, last, kills, rng, log_path)
    finally:
        print(f"progress at each SIGKILL: {kills}")
        print(_log_tail(log_path))


def _kill_restart_and_check(app, settings, topic, last, kills, rng, log_path) -> None:
    # Kill after a random stretch of progress: the consumer is mid-stream (mid-batch,
    # mid-transaction or mid-dead-letter) whenever the signal lands, whatever its speed.
    while len(kills) < 5 and _progress(app, topic) < EVENTS - 1000:
        target = _progress(app, topic) + rng.randint(200, 1500)
        process = _consumer(settings, log_path)
        try:
            wait_for(lambda target=target: _progress(app, topic) >= target, timeout=60, interval=0.005,
                     message="progress")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        kills.append(_progress(app, topic))
    assert sum(1 for k in kills if 0 < k < EVENTS) >= 3, kills

    process = _consumer(settings, log_path)
    try:
        wait_applied(app, topic, last, timeout=120)
        # SIGTERM only once it runs (a signal during interpreter start-up just kills it).
        wait_for(lambda: log_path.read_text(errors="replace").count("consumer starting") == len(kills) + 1,
                 message="consumer started")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    schema = Identifier(settings.db_schema)
    with app.recorder.datastore.transaction(commit=False) as curs:
        curs.execute(SQL("SELECT topic, state FROM {}.profiles_events").format(schema))
        rows = curs.fetchall()
        curs.execute(SQL("SELECT count(*) AS n FROM {}.profiles_receipts").format(schema))
        receipts = curs.fetchone()["n"]
    by_topic = Counter(row["topic"] for row in rows)
    assert receipts == EVENTS
    assert by_topic["domain.contact:Contact.Created"] == CONTACTS
    assert by_topic["domain.activity:Activity.Recorded"] == (EVENTS - CONTACTS) // 2
    assert by_topic["domain.contact:Contact.VariablesChanged"] == (EVENTS - CONTACTS) // 2
    seqs = sorted(orjson.loads(bytes(r["state"]))["properties"]["seq"] for r in rows
                  if r["topic"] == "domain.activity:Activity.Recorded")
    assert seqs == list(range(0, EVENTS - CONTACTS, 2))
    changes = sorted(orjson.loads(bytes(r["state"]))["variables"]["last"] for r in rows
                     if r["topic"] == "domain.contact:Contact.VariablesChanged")
    assert changes == list(range(1, EVENTS - CONTACTS, 2))
