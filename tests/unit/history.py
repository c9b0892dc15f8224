"""What a command recorded: the store's head, and the events after a position."""

from __future__ import annotations

from typing import Any


def head(app: Any) -> int:
    return app.recorder.max_notification_id() or 0


def new_events(app: Any, since: int) -> list[Any]:
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(since + 1, 1000)]


def new_event_names(app: Any, since: int) -> list[str]:
    return [type(event).__qualname__ for event in new_events(app, since)]
