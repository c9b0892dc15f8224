"""The outbound relay: every send published once, across restarts and a crash between the
broker's acknowledgement and the stored position. Real broker, real PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from functools import partial

import orjson
import pytest
from prometheus_client import REGISTRY

from consumers.relay import OutboundRelay
from consumers.worker import ThreadWorker
from domain import handlers
from domain.meta import Meta
from tests.integration.conftest import read_topic, wait_for

pytestmark = pytest.mark.kafka


def _sendable(app):
    contact, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    app.change_subscription("shop", contact.id, "email", "subscribed", Meta(), confirmed=True)
    template, _ = app.create_template("shop", "email", "Hello", "Hi {{ firstName }}", "Body {{ email }}", {}, Meta())
    app.approve_template("shop", template.id, Meta())
    return contact, template


def _send(app, contact, template, n):
    return [app.send_message("shop", contact.id, "email", template.id, Meta())[0] for _ in range(n)]


def _run(relay) -> ThreadWorker:
    worker = ThreadWorker("relay", relay.run)
    worker.start()
    return worker


def _caught_up(relay, app) -> bool:
    return relay.load().position >= app.recorder.max_notification_id()


class _DiesBeforeRecording(OutboundRelay):
    """The relay's own crash window: the broker confirmed, the position was not stored."""

    def store(self, checkpoint):
        raise RuntimeError("crashed before storing the position")


def test_each_send_is_published_once_across_restarts_and_a_crash(kafka_container):
    app, settings = kafka_container.app, kafka_container.settings
    contact, template = _sendable(app)
    sent = _send(app, contact, template, 4)
    resent, _ = app.resend_message("shop", contact.id, sent[0].id, Meta())

    relay = OutboundRelay(app, settings)
    worker = _run(relay)
    wait_for(lambda: _caught_up(relay, app), message="relay caught up")
    worker.stop()

    records = read_topic(settings.kafka_bootstrap_servers, settings.outbound_topic, expected=5)
    payloads = {orjson.loads(r.value)["messageId"]: (r, orjson.loads(r.value)) for r in records}
    assert len(records) == len(payloads) == 5
    record, first = payloads[str(sent[0].id)]
    assert record.key == str(sent[0].id).encode()
    assert first == {"messageId": str(sent[0].id), "kind": "sent", "resendOf": None, "domain": "shop",
                     "contactId": str(contact.id), "channel": "email", "address": "ann@example.com",
                     "subject": "Hi ", "body": "Body ann@example.com", "templateId": str(template.id),
                     "requestedAt": first["requestedAt"]}
    assert payloads[str(resent.id)][1]["kind"] == "resent"
    assert payloads[str(resent.id)][1]["resendOf"] == str(sent[0].id)

    # A crash after the broker's acknowledgement, before the position is stored.
    more = _send(app, contact, template, 3)
    crashing = _DiesBeforeRecording(app, settings)
    worker = _run(crashing)
    wait_for(lambda: worker.error is not None, message="relay crash")
    assert len(read_topic(settings.kafka_bootstrap_servers, settings.outbound_topic, expected=8)) == 8
    assert relay.load().position < app.recorder.max_notification_id()

    # Restart: the tail already holds those sends, so they are not published again.
    later = _send(app, contact, template, 2)
    relay = OutboundRelay(app, settings)
    worker = _run(relay)
    wait_for(lambda: _caught_up(relay, app), message="relay caught up after restart")
    worker.stop()
    assert worker.error is None
    records = read_topic(settings.kafka_bootstrap_servers, settings.outbound_topic, expected=10)
    ids = [orjson.loads(r.value)["messageId"] for r in records]
    assert sorted(ids) == sorted(str(m.id) for m in [*sent, resent, *more, *later])
    assert REGISTRY.get_sample_value("profiles_relay_position") == relay.load().position


def test_only_one_relay_publishes_at_a_time(kafka_container):
    app, settings = kafka_container.app, kafka_container.settings
    contact, template = _sendable(app)
    _send(app, contact, template, 3)
    first, second = OutboundRelay(app, settings), OutboundRelay(app, settings)
    a, b = _run(first), _run(second)
    wait_for(lambda: _caught_up(first, app), message="relays caught up")
    _send(app, contact, template, 3)
    wait_for(lambda: _caught_up(first, app), message="relays caught up again")
    a.stop()  # the standby takes over
    _send(app, contact, template, 2)
    wait_for(lambda: _caught_up(second, app), message="standby took over")
    b.stop()
    records = read_topic(settings.kafka_bootstrap_servers, settings.outbound_topic, expected=8)
    assert len({r.key for r in records}) == len(records) == 8
    assert a.error is None and b.error is None


def test_sigkill_of_the_relay_process_neither_loses_nor_repeats_a_send(kafka_container, tmp_path):
    app, settings = kafka_container.app, kafka_container.settings
    contact, template = _sendable(app)
    n = 1000
    app.execute([partial(handlers.send_message, domain="shop", contact_id=contact.id, channel="email",
                         template_id=template.id, meta=Meta()) for _ in range(n)])
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PROFILES_DB_SCHEMA": settings.db_schema,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "PROFILES_OUTBOUND_TOPIC": settings.outbound_topic}
    checker = OutboundRelay(app, settings)
    head = app.recorder.max_notification_id()
    rng = random.Random(11)
    kills: list[int] = []
    log_path = tmp_path / "relay.log"

    def relay() -> subprocess.Popen:
        with open(log_path, "ab") as log:
            return subprocess.Popen([sys.executable, "-m", "profiles.cli", "relay", "--batch-size", "5"],
                                    env=env, stdout=log, stderr=subprocess.STDOUT)

    # Kill after a random stretch of progress, so the signal lands mid-stream.
    while len(kills) < 3 and checker.load().position < head - 300:
        target = checker.load().position + rng.randint(50, 250)
        process = relay()
        try:
            wait_for(lambda target=target: checker.load().position >= target, timeout=60, interval=0.002,
                     message="relay progress")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        kills.append(checker.load().position)
    assert len(kills) == 3 and all(0 < k < head for k in kills), kills

    process = relay()
    try:
        wait_for(lambda: _caught_up(checker, app), timeout=60, message="relay caught up")
        # SIGTERM only once it runs (a signal during interpreter start-up just kills it).
        wait_for(lambda: log_path.read_text(errors="replace").count("relay starting") == len(kills) + 1,
                 message="relay started")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    records = read_topic(settings.kafka_bootstrap_servers, settings.outbound_topic, expected=n)
    ids = [r.key for r in records]
    assert len(ids) == len(set(ids)) == n
