"""Templates, sends and resends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from api.schemas.common import Channel, Public, Request

Stamp = datetime | str | None


class TemplateCreate(Request):
    model_config = {"json_schema_extra": {"examples": [{
        "channel": "email", "name": "Welcome", "subject": "Hello {{ firstName }}",
        "body": "<p>Hi {{ firstName }}, welcome!</p>", "bodies": {"et": "<p>Tere {{ firstName }}!</p>"}}]}}

    channel: Channel
    name: Annotated[str, Field(min_length=1, max_length=200)]
    subject: Annotated[str, Field(max_length=1000)] = ""
    body: Annotated[str, Field(max_length=100_000)]
    bodies: dict[Annotated[str, Field(max_length=8)], Annotated[str, Field(max_length=100_000)]] = Field(
        default_factory=dict, description="Per-language bodies (ISO 639-1 → body)")


class TemplatePublic(Public):
    id: str
    channel: str | None = None
    name: str | None = None
    subject: str | None = None
    body: str | None = None
    bodies: dict[str, Any] = Field(default_factory=dict)
    status: str | None = None
    created_at: Stamp = None
    position: int | None = None


class MessageCreate(Request):
    model_config = {"json_schema_extra": {"examples": [{"channel": "email",
                                                         "templateId": "0b8f0e7c-7a55-4bb1-9e1c-53c0f0c9d111"}]}}

    channel: Channel
    template_id: UUID


class MessageAccepted(Public):
    message_id: str
    position: int
