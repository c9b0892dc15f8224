"""A send retried with its Idempotency-Key is sent once, also when the retries reach
several processes at once (a client that timed out and retried against another API
instance): the message's id derives from the key, and the event store takes one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg

from domain.meta import Meta
from profiles.bootstrap import PostgresContactProfiles


def test_processes_racing_on_one_idempotency_key_send_once(container):
    app = container.app
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    app.change_subscription("shop", ann.id, "email", "subscribed", Meta(), confirmed=True)
    template, _ = app.create_template("shop", "email", "Hi", "Hi {{ firstName }}", "Hello", {}, Meta())
    app.approve_template("shop", template.id, Meta())
    apps = [PostgresContactProfiles({**container.env, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"})
            for _ in range(4)]
    barrier = threading.Barrier(len(apps))

    def send(process):
        barrier.wait()
        return process.send_message("shop", ann.id, "email", template.id, Meta(), idempotency_key="k-1")[0].id

    try:
        with ThreadPoolExecutor(len(apps)) as pool:
            ids = set(pool.map(send, apps))
    finally:
        for process in apps:
            process.close()

    assert len(ids) == 1
    with psycopg.connect(container.database_url) as conn:
        sent = conn.execute(f'SELECT count(*) FROM "{container.settings.db_schema}".profiles_events '
                            "WHERE topic = 'domain.message:Message.Sent'").fetchone()[0]
    assert sent == 1
