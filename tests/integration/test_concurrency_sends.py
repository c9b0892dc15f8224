"""A send retried with its Idempotency-Key is sent once, also when the retries reach
several processes at once (a client that timed out and retried against another API
instance): the message's id derives from the key, and the event store takes one."""

from __future__ import annotations

from domain.meta import Meta
from tests.integration.processes import count, race


def test_processes_racing_on_one_idempotency_key_send_once(container):
    app = container.app
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta())
    app.change_subscription("shop", ann.id, "email", "subscribed", Meta(), confirmed=True)
    template, _ = app.create_template("shop", "email", "Hi", "Hi {{ firstName }}", "Hello", {}, Meta())
    app.approve_template("shop", template.id, Meta())

    def send(process, n, r):
        return process.send_message("shop", ann.id, "email", template.id, Meta(), idempotency_key="k-1")[0].id

    (ids,) = race(container.env, send, threads=4)
    assert len(set(ids)) == 1
    assert count(container.database_url, container.settings.db_schema, "domain.message:Message.Sent") == 1
