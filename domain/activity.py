"""A custom activity (``orderPlaced`` …) reported by an upstream system.

Each activity is its own one-event aggregate rather than an event of the contact, so a
contact with 100 000 activities loads as fast as a new one, and an id derived from the
upstream ``eventId`` makes a redelivered activity a no-op.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.meta import Meta, RecordedCreation
from domain.unit_of_work import NewEvent


class Activity(Aggregate):
    class Recorded(RecordedCreation):
        domain: str
        contact_id: UUID
        name: str
        properties: dict[str, Any]

    def __init__(
        self, domain: str, contact_id: UUID, name: str, properties: dict[str, Any], method: str, actor: str
    ) -> None:
        self.domain = domain
        self.contact_id = contact_id
        self.name = name
        self.properties = properties

    @classmethod
    def recorded(
        cls, activity_id: UUID, domain: str, contact_id: UUID, name: str, properties: dict[str, Any], meta: Meta
    ) -> NewEvent:
        """The activity's one event, as the fields it is stored with, without building the
        aggregate around it nor the event object: no command reads an activity back, and
        half the upstream traffic is activities (bench B1)."""
        return NewEvent(cls.Recorded, activity_id, {
            "timestamp": meta.occurred_at, "originator_topic": _topic(), "method": meta.method, "actor": meta.actor,
            "domain": domain, "contact_id": contact_id, "name": name, "properties": properties,
        })


@cache
def _topic() -> str:
    return get_topic(Activity)
