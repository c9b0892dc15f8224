"""Two processes on one store: a refusal must never rest on another process's past.

Each application caches aggregates and is not fast-forwarded on every read (writes are
protected by version conflicts). A command refused on cached state is judged once more
on fresh state, so the API process does not refuse what the Kafka process just allowed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.meta import Meta
from tests.integration.processes import other_process

AT = Meta(method="api", actor="tester", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


def test_an_identifier_freed_elsewhere_can_be_taken_here(container):
    api = container.app
    ann, _ = api.create_contact("shop", {"email": "ann@example.com"}, {}, AT)  # claim cached here
    consumer = other_process(container.env)
    try:
        consumer.remove_contact("shop", ann.id, AT)
    finally:
        consumer.close()
    again, _ = api.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    assert again.id != ann.id


def test_a_subscription_made_elsewhere_allows_a_send_here(container):
    api = container.app
    ann, _ = api.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    template, _ = api.create_template("shop", "email", "t", "s", "b", {}, AT)
    consumer = other_process(container.env)
    try:
        consumer.change_subscription("shop", ann.id, "email", "subscribed", AT, confirmed=True)
        consumer.approve_template("shop", template.id, AT)
    finally:
        consumer.close()
    message, _ = api.send_message("shop", ann.id, "email", template.id, AT)
    assert message.address == "ann@example.com"


def test_a_template_fixed_elsewhere_is_rendered_afresh_here(container):
    """The send renders outside the write lock, from what this process has cached; a
    render refused there is judged once more, inside the batch, on fresh state."""
    api = container.app
    ann, _ = api.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    api.change_subscription("shop", ann.id, "email", "subscribed", AT, confirmed=True)
    broken = "{% for i in range(300000) %}x{% endfor %}"  # past the output budget
    template, _ = api.create_template("shop", "email", "t", "s", broken, {}, AT)
    api.approve_template("shop", template.id, AT)  # cached here, broken and approved
    consumer = other_process(container.env)
    try:
        consumer.revise_template("shop", template.id, "s", "Hello {{ email }}", {}, AT)
        consumer.approve_template("shop", template.id, AT)
    finally:
        consumer.close()
    message, _ = api.send_message("shop", ann.id, "email", template.id, AT)
    assert message.body == "Hello ann@example.com"
