"""Contact events from Kafka into the event store: every type, poison messages, duplicates,
and a consumer group sharing the partitions. Real broker, real PostgreSQL."""

from __future__ import annotations

import base64

import orjson
import pytest
from prometheus_client import REGISTRY
from psycopg.sql import SQL, Identifier

from consumers.consumer import ContactEventConsumer, tracking_name
from consumers.worker import ThreadWorker
from domain import handlers
from domain.meta import Meta
from domain.unit_of_work import UnitOfWork
from projections.runner import ProjectionRunner
from tests.integration.conftest import envelope, publish, read_topic, wait_applied, wait_for

pytestmark = pytest.mark.kafka


def find(app, domain: str, **identifiers):
    return handlers.resolve(UnitOfWork(app), domain, identifiers)


def event_counts(container) -> dict[str, int]:
    with container.app.recorder.datastore.transaction(commit=False) as curs:
        curs.execute(SQL("SELECT topic, count(*) AS n FROM {}.profiles_events GROUP BY topic").format(
            Identifier(container.settings.db_schema)))
        return {row["topic"]: row["n"] for row in curs.fetchall()}


def test_every_envelope_type_is_stored_with_kafka_provenance(kafka_container, kafka_producer, run_consumer):
    app, topic = kafka_container.app, kafka_container.settings.events_topic
    d = "shop"
    ann, bob, cid = {"userId": "u-1"}, {"userId": "u-2"}, {"phoneNumber": "+37255512345"}
    run_consumer()
    last = publish(kafka_producer, topic, [(b"u-1", m) for m in [
        envelope(d, "contact.upserted", {**ann, "email": "Ann@Example.com"},
                 {"firstName": "Ann", "variables": {"city": "Tallinn"}}, occurred_at="2026-11-01T09:00:00Z"),
        envelope(d, "contact.variables_set", ann, {"variables": {"score": 42}}),
        envelope(d, "subscription.changed", ann, {"channel": "email", "status": "subscribed", "reason": "signup"}),
        envelope(d, "subscription.changed", ann, {"channel": "telegram", "status": "subscribed", "address": "9001"}),
        envelope(d, "activity", ann, {"name": "orderPlaced", "properties": {"total": 10}}),
    ]] + [(b"u-2", envelope(d, "contact.upserted", bob, {"lastName": "Lee"})),
          (b"u-2", envelope(d, "contact.removed", bob)),
          (b"c", envelope(d, "contact.upserted", cid, {})),
          (b"c", envelope(d, "blacklist.added", cid, {"channel": "sms", "reason": "manual"})),
          (b"c", envelope(d, "blacklist.removed", cid, {"channel": "sms", "reason": "manual"})),
          (b"c", envelope(d, "blacklist.added", cid, {"channel": "sms", "reason": "listUnsubscribe"}))])
    wait_applied(app, topic, last)

    contact = find(app, d, userId="u-1")
    assert contact.identifiers == {"userId": "u-1", "email": "ann@example.com"}
    assert contact.info["firstName"] == "Ann"
    assert contact.variables == {"city": "Tallinn", "score": 42}
    assert contact.subscriptions["email"]["status"] == "subscribed"
    assert contact.subscriptions["telegram"] == {**contact.subscriptions["telegram"], "status": "subscribed",
                                                 "address": "9001"}
    assert contact.created_method == "kafka" and contact.updated_method == "kafka"
    assert contact.created_on.isoformat() == "2026-11-01T09:00:00+00:00"  # occurredAt, not the wall clock
    assert find(app, d, userId="u-2") is None  # removed: identifiers free again
    phone = find(app, d, phoneNumber="+37255512345")
    assert phone.subscriptions["sms"]["blacklisted"] and phone.subscriptions["sms"]["blacklistReason"] == "listUnsubscribe"
    counts = event_counts(kafka_container)
    assert counts["domain.activity:Activity.Recorded"] == 1
    assert counts["domain.contact:Contact.Removed"] == 1
    assert counts["domain.contact:Contact.Unblacklisted"] == 1

    # Delivery feedback for a message sent from the profile (the API path).
    template, _ = app.create_template(d, "email", "Welcome", "Hi", "Hello {{ firstName }}", {}, Meta())
    app.approve_template(d, template.id, Meta())
    sent, _ = app.send_message(d, contact.id, "email", template.id, Meta())
    last = publish(kafka_producer, topic, [(b"u-1", envelope(d, "message.status", ann, {"messageId": str(sent.id),
                                                                                        "status": status, **extra}))
                                           for status, extra in [("delivered", {}), ("opened", {}),
                                                                 ("bounced", {"hard": True})]])
    wait_applied(app, topic, last)
    contact = find(app, d, userId="u-1")
    assert contact.subscriptions["email"]["blacklisted"] and contact.subscriptions["email"]["blacklistReason"] == "hardBounce"
    assert event_counts(kafka_container)["domain.message:Message.StatusRecorded"] == 3

    last = publish(kafka_producer, topic, [(b"u-1", envelope(d, "message.status", ann,
                                                             {"messageId": str(sent.id), "status": "complained"}))])
    wait_applied(app, topic, last)
    assert find(app, d, userId="u-1").subscriptions["email"]["blacklistReason"] == "complaint"

    # And the read side shows it: profile document and activity feed.
    runner = ProjectionRunner(kafka_container.database_url, kafka_container.settings.db_schema)
    runner.ensure_tables()
    runner.catch_up()
    reads = kafka_container.read_model
    profile = reads.contact(d, contact.id)
    assert profile["email"] == "ann@example.com" and profile["firstName"] == "Ann"
    assert profile["variables"] == {"city": "Tallinn", "score": 42}
    assert profile["createdMethod"] == "kafka" and profile["updatedMethod"] == "kafka"
    assert profile["subscriptions"]["email"]["blacklisted"] is True
    assert profile["subscriptions"]["email"]["blacklistReason"] == "complaint"
    assert reads.contact(d, phone.id)["subscriptions"]["sms"]["blacklistReason"] == "listUnsubscribe"
    assert reads.find_contacts(d, user_id="u-2")[0] == []
    feed = list(reads.export_activity(d, contact.id))
    types = [entry["type"] for entry in feed]
    assert types.count("message.status") == 4 and "activity" in types and "message.sent" in types
    assert "subscription.changed" in types and "blacklist.added" in types


def test_poison_messages_go_to_the_dead_letter_topic_and_the_partition_moves_on(
        kafka_container, kafka_producer, run_consumer):
    app, settings = kafka_container.app, kafka_container.settings
    d = "shop"
    ann = {"userId": "u-1"}
    good = [
        envelope(d, "contact.upserted", {**ann, "email": "ann@example.com"}, {"firstName": "Ann"}),
        envelope(d, "contact.upserted", {"userId": "u-2", "email": "bob@example.com"}, {}),
        envelope(d, "blacklist.added", ann, {"channel": "email", "reason": "complaint"}),
    ]
    missing_event_id = envelope(d, "activity", ann, {"name": "x"})
    del missing_event_id["eventId"]
    poison = {
        "invalid_json": b'{"eventId": "1", "domain": ',
        "validation_error": missing_event_id,
        "unknown_type": envelope(d, "contact.merged", ann, {}),
        "invalid_domain": envelope("Not A Slug!", "activity", ann, {"name": "x"}),
        "identifier_conflict": envelope(d, "contact.upserted", {**ann, "email": "bob@example.com"}, {}),
        "contact_not_found": envelope(d, "contact.variables_set", {"userId": "nobody"}, {"variables": {"a": 1}}),
        "blacklisted": envelope(d, "subscription.changed", ann, {"channel": "email", "status": "subscribed"}),
    }
    after = [envelope(d, "contact.variables_set", ann, {"variables": {"after": True}}),
             envelope(d, "activity", ann, {"name": "orderPlaced"})]
    # One key, so one partition and one order: good, poison interleaved, good.
    messages = [good[0], poison["invalid_json"], good[1], poison["validation_error"], poison["unknown_type"],
                good[2], poison["invalid_domain"], poison["identifier_conflict"], poison["contact_not_found"],
                poison["blacklisted"], *after]
    run_consumer()
    last = publish(kafka_producer, settings.events_topic, [(b"k-1", m) for m in messages])
    wait_applied(app, settings.events_topic, last)

    letters = read_topic(settings.kafka_bootstrap_servers, settings.dlq_topic, expected=len(poison))
    assert len(letters) == len(poison)
    by_code = {orjson.loads(r.value)["code"]: (r, orjson.loads(r.value)) for r in letters}
    assert set(by_code) == set(poison)
    (partition,) = last
    for code, original in poison.items():
        record, letter = by_code[code]
        raw = original if isinstance(original, bytes) else orjson.dumps(original)
        assert record.key == b"k-1"
        assert base64.b64decode(letter["value"]) == raw
        assert letter["topic"] == settings.events_topic and letter["partition"] == partition
        assert letter["offset"] == last[partition] - len(messages) + 1 + messages.index(original)
        assert letter["message"] and letter["receivedAt"].endswith("Z")
        assert "ann@example.com" not in letter["message"] and "bob@example.com" not in letter["message"]

    # /metrics: dead letters by code, ingested count, and the partition's lag back to 0.
    for code in poison:
        assert REGISTRY.get_sample_value("profiles_consumer_dead_letters_total",
                                         {"topic": settings.events_topic, "code": code}) == 1
    assert REGISTRY.get_sample_value("profiles_consumer_ingested_total", {"topic": settings.events_topic}) == 5
    wait_for(lambda: REGISTRY.get_sample_value("profiles_consumer_lag", {"topic": settings.events_topic,
                                                                         "partition": str(partition)}) == 0,
             message="lag 0")

    contact = find(app, d, userId="u-1")
    assert contact.variables == {"after": True}
    assert contact.subscriptions["email"]["status"] == "none"
    assert event_counts(kafka_container)["domain.activity:Activity.Recorded"] == 1


def test_the_same_event_id_is_applied_once(kafka_container, kafka_producer, run_consumer):
    app, topic = kafka_container.app, kafka_container.settings.events_topic
    d = "shop"
    created = envelope(d, "contact.upserted", {"userId": "u-1"}, {})
    counted = envelope(d, "activity", {"userId": "u-1"}, {"name": "orderPlaced"})
    varied = envelope(d, "contact.variables_set", {"userId": "u-1"}, {"variables": {"n": 1}})
    run_consumer()
    last = publish(kafka_producer, topic, [(b"u", m) for m in [created, counted, counted, varied, created, varied]])
    wait_applied(app, topic, last)
    last = publish(kafka_producer, topic, [(b"u", m) for m in [counted, varied, created]])  # a later redelivery
    wait_applied(app, topic, last)

    counts = event_counts(kafka_container)
    assert counts["domain.contact:Contact.Created"] == 1
    assert counts["domain.activity:Activity.Recorded"] == 1
    assert counts["domain.contact:Contact.VariablesChanged"] == 1
    # The same eventId in another domain is another event.
    last = publish(kafka_producer, topic, [(b"u", {**created, "domain": "blog"})])
    wait_applied(app, topic, last)
    assert event_counts(kafka_container)["domain.contact:Contact.Created"] == 2


def test_two_consumers_in_one_group_split_the_partitions_and_apply_everything_once(
        kafka_container, kafka_producer, run_consumer, settings):
    from profiles.bootstrap import build

    topic = kafka_container.settings.events_topic
    other = build(kafka_container.settings)  # a second process's application: its own cache and pool
    try:
        first = run_consumer(client_id="first")
        second = run_consumer(app=other.app, client_id="second")
        n = 3000
        last = publish(kafka_producer, topic, [(f"u-{i}".encode(), envelope(
            "shop", "contact.upserted", {"userId": f"u-{i}"}, {"variables": {"i": i}})) for i in range(n)])
        assert len(last) == 3
        wait_applied(kafka_container.app, topic, last)
        wait_for(lambda: first.consumer.assigned and second.consumer.assigned, message="both consumers assigned")
        assert not (first.consumer.assigned & second.consumer.assigned)
        counts = event_counts(kafka_container)
        assert counts["domain.contact:Contact.Created"] == n
        with kafka_container.app.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT count(*) AS n FROM {}.profiles_receipts").format(
                Identifier(kafka_container.settings.db_schema)))
            assert curs.fetchone()["n"] == n
    finally:
        other.close()


def test_a_dead_letter_the_broker_does_not_take_stops_the_consumer_and_nothing_is_skipped(
        kafka_container, kafka_producer, run_consumer):
    app, settings = kafka_container.app, kafka_container.settings
    good = envelope("shop", "contact.upserted", {"userId": "u-1"}, {})
    last = publish(kafka_producer, settings.events_topic, [(b"k", good), (b"k", b"not json"),
                                                          (b"k", envelope("shop", "activity", {"userId": "u-1"},
                                                                          {"name": "x"}))])
    (partition,) = last
    # A dead-letter topic the client refuses: the consumer must stop, not skip the letter.
    broken = ContactEventConsumer(app, settings.model_copy(update={"dlq_topic": "no such topic!"}))
    worker = ThreadWorker("broken", broken.run)
    worker.start()
    try:
        wait_for(lambda: worker.error is not None, message="consumer stopped")
        assert type(worker.error).__name__ == "DeadLetterFailed"
        assert app.recorder.max_tracking_id(tracking_name(settings.events_topic, partition)) is None
        assert "domain.contact:Contact.Created" not in event_counts(kafka_container)
    finally:
        worker.stop()  # it would start again and again, refused each time, until the DLQ is fixed

    run_consumer()  # fixed configuration: everything is applied, the letter is in the DLQ
    wait_applied(app, settings.events_topic, last)
    (letter,) = read_topic(settings.kafka_bootstrap_servers, settings.dlq_topic, expected=1)
    assert orjson.loads(letter.value)["code"] == "invalid_json"
    assert event_counts(kafka_container)["domain.activity:Activity.Recorded"] == 1


def test_a_message_that_breaks_processing_is_parked_and_the_partition_moves_on(
        kafka_container, kafka_producer, run_consumer, monkeypatch):
    """Not a bad message but a failure of the processing itself (a bug, injected here for
    one eventId): the batch is retried message by message, and the one message that breaks
    again alone goes to the dead-letter topic as ``processing_error``; the rest applies."""
    from domain import ingest

    app, settings = kafka_container.app, kafka_container.settings
    real_apply = ingest.apply

    def apply(uow, envelope, meta):
        if envelope.eventId == "breaks-processing":
            raise RuntimeError("a bug in the processing")
        return real_apply(uow, envelope, meta)

    monkeypatch.setattr(ingest, "apply", apply)
    ann = {"userId": "u-1"}
    breaks = envelope("shop", "contact.variables_set", ann, {"variables": {"broken": True}},
                      event_id="breaks-processing")
    messages = [envelope("shop", "contact.upserted", ann, {"firstName": "Ann"}), breaks,
                envelope("shop", "contact.variables_set", ann, {"variables": {"after": True}})]
    run_consumer()
    last = publish(kafka_producer, settings.events_topic, [(b"k-1", m) for m in messages])
    wait_applied(app, settings.events_topic, last)

    (record,) = read_topic(settings.kafka_bootstrap_servers, settings.dlq_topic, expected=1)
    letter = orjson.loads(record.value)
    (partition,) = last
    assert letter["code"] == "processing_error" and letter["message"] == "RuntimeError"
    assert letter["offset"] == last[partition] - 1 and base64.b64decode(letter["value"]) == orjson.dumps(breaks)
    assert find(app, "shop", userId="u-1").variables == {"after": True}
    assert REGISTRY.get_sample_value("profiles_consumer_dead_letters_total",
                                     {"topic": settings.events_topic, "code": "processing_error"}) == 1


def test_a_nul_character_goes_to_the_dead_letter_topic_and_the_projections_go_on(
        kafka_container, kafka_producer, run_consumer):
    """PostgreSQL stores no U+0000 in text or jsonb: once in the log, such a value stopped
    every projection at its event. It is refused at the door, wherever it hides."""
    app, settings = kafka_container.app, kafka_container.settings
    d, ann = "shop", {"userId": "u-1"}
    poison = [envelope(d, "contact.upserted", {"userId": "u-2"}, {"firstName": "Bo\u0000b"}),
              envelope(d, "contact.variables_set", ann, {"variables": {"note": "a\u0000"}}),
              envelope(d, "activity", ann, {"name": "viewed", "properties": {"deep": [{"k\u0000": 1}]}})]
    literal = envelope(d, "contact.variables_set", ann, {"variables": {"path": "C:\\u0000"}})  # text, not a NUL
    messages = [envelope(d, "contact.upserted", ann, {"firstName": "Ann"}), *poison, literal]
    run_consumer()
    last = publish(kafka_producer, settings.events_topic, [(b"k-1", m) for m in messages])
    wait_applied(app, settings.events_topic, last)

    letters = [orjson.loads(r.value) for r in read_topic(settings.kafka_bootstrap_servers, settings.dlq_topic,
                                                           expected=len(poison))]
    assert [(letter["code"], base64.b64decode(letter["value"])) for letter in letters] == [
        ("validation_error", orjson.dumps(m)) for m in poison]
    assert all("NUL character" in letter["message"] for letter in letters)
    runner = ProjectionRunner(kafka_container.database_url, settings.db_schema)
    runner.ensure_tables()
    runner.catch_up()
    reads = kafka_container.read_model
    head = app.recorder.max_notification_id()
    assert reads.positions() == {"profile": head, "activity": head, "segments": head}
    profile = reads.contact(d, find(app, d, userId="u-1").id)
    assert profile["firstName"] == "Ann" and profile["variables"] == {"path": "C:\\u0000"}


def test_a_consumer_whose_database_sessions_drop_starts_again_and_applies_everything_once(
        kafka_container, kafka_producer, monkeypatch):
    """A database restart under `profiles serve`: the consumer thread failed and stayed
    down, and Kafka events were no longer applied until the service was restarted."""
    import uuid

    import psycopg

    from profiles.bootstrap import PostgresContactProfiles

    name = f"profiles-consumer-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)  # this consumer's sessions, and no other, are dropped below
    app = PostgresContactProfiles(kafka_container.env)
    monkeypatch.delenv("PGAPPNAME")
    settings = kafka_container.settings
    worker = ThreadWorker("kafka-consumer", ContactEventConsumer(app, settings).run)
    worker.start()
    try:
        d, ann = "shop", {"userId": "u-1"}
        wait_applied(app, settings.events_topic, publish(kafka_producer, settings.events_topic, [
            (b"u-1", envelope(d, "contact.upserted", ann, {"firstName": "Ann"}))]))
        with psycopg.connect(kafka_container.database_url, autocommit=True) as conn:
            dropped = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE application_name = %s", (name,)).fetchone()[0]
        assert dropped > 0
        # With an identifier not cached yet, the next batch reads the database before its
        # save (whose insert the library itself retries on a new session): that read fails.
        ann = {**ann, "email": "ann@example.com"}
        counted = envelope(d, "activity", ann, {"name": "orderPlaced"})
        last = publish(kafka_producer, settings.events_topic, [
            (b"u-1", counted), (b"u-1", envelope(d, "contact.variables_set", ann, {"variables": {"n": 1}})),
            (b"u-1", counted)])
        wait_applied(app, settings.events_topic, last)
        assert worker.restarts >= 1 and worker.alive
        assert "OperationalError" in type(worker.error).__name__
        assert REGISTRY.get_sample_value("profiles_worker_restarts_total", {"worker": "kafka-consumer"}) >= 1
    finally:
        worker.stop()
        app.close()
    counts = event_counts(kafka_container)
    assert counts["domain.activity:Activity.Recorded"] == 1 and counts["domain.contact:Contact.VariablesChanged"] == 1
    assert find(kafka_container.app, d, userId="u-1").variables == {"n": 1}
