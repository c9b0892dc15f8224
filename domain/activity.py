"""A custom activity (``orderPlaced`` …) reported by an upstream system.

Each activity is its own one-event aggregate rather than an event of the contact, so a
contact with 100 000 activities loads as fast as a new one, and an id derived from the
upstream ``eventId`` makes a redelivered activity a no-op.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.meta import Meta, RecordedCreation


class Activity(Aggregate):
    cache_after_save = False  # one event, never loaded again by a command
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
    def record(
        cls, activity_id: UUID, domain: str, contact_id: UUID, name: str, properties: dict[str, Any], meta: Meta
    ) -> Activity:
        return cls._create(
            cls.Recorded,
            id=activity_id,
            domain=domain,
            contact_id=contact_id,
            name=name,
            properties=properties,
            **meta.fields(),
        )
