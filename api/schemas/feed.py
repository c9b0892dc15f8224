"""The activity feed, segments, and the event batch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import FiniteObject, Public, Request

Stamp = datetime | str | None


class ActivityEntry(Public):
    model_config = {"json_schema_extra": {"examples": [{
        "id": "message.sent:9c4…", "type": "message.sent", "occurredAt": "2026-11-28T10:00:00+00:00",
        "summary": "Email “Welcome” sent", "data": {"messageId": "9c4…", "channel": "email"}}]}}

    id: str
    type: str
    occurred_at: Stamp = None
    summary: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class SegmentCreate(Request):
    model_config = {"json_schema_extra": {"examples": [{
        "name": "Tallinn subscribers",
        "conditions": {"all": [{"field": "variables.city", "op": "eq", "value": "Tallinn"},
                               {"field": "subscriptions.email.status", "op": "eq", "value": "subscribed"}]}}]}}

    name: Annotated[str, Field(min_length=1, max_length=200)]
    conditions: FiniteObject = Field(description="Condition tree of DESIGN §5")


class SegmentPublic(Public):
    id: str
    name: str | None = None
    conditions: dict[str, Any] | None = None
    members: int | None = None
    created_at: Stamp = None
    updated_at: Stamp = None
    position: int | None = None


class SegmentMember(Public):
    id: str
    email: str | None = None
    phone_number: str | None = None
    user_id: str | None = None
    since: Stamp = None


class ContactSegment(Public):
    id: str
    name: str | None = None
    since: Stamp = None


class EventBatch(Request):
    model_config = {"json_schema_extra": {"examples": [{"events": [{
        "eventId": "0b8f0e7c-7a55-4bb1-9e1c-53c0f0c9d000", "type": "contact.upserted",
        "occurredAt": "2026-11-28T10:00:00Z", "contact": {"email": "ann@example.com"},
        "data": {"firstName": "Ann", "variables": {"city": "Tallinn"}}}]}]}}

    events: list[Any] = Field(max_length=1000, description="Kafka envelopes (DESIGN §3) without `domain`")


class Rejection(Public):
    index: int
    code: str
    message: str


class EventsAccepted(Public):
    accepted: int
    rejected: list[Rejection]
    position: int


class DomainCount(Public):
    domain: str
    contacts: int = 0


class Readiness(Public):
    position: int | None = None
    projections: dict[str, int] = Field(default_factory=dict)
