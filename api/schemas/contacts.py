"""Contact bodies: create, update (merge), and the profile document of DESIGN §4."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import Public, Request, VariableValue
from domain import values

Short = Annotated[str, Field(max_length=256)]
Stamp = datetime | str | None
READ_ONLY = {"json_schema_extra": {"readOnly": True}}

CONTACT_EXAMPLE = {
    "id": "6f1c0a52-3f5e-4a57-9e59-0d3c5d1b7a10", "domain": "shop", "userId": "u-1",
    "email": "ann@example.com", "phoneNumber": "+37255512345", "firstName": "Ann", "lastName": "Lee",
    "language": "et", "timezone": "Europe/Tallinn", "birthday": "1990-05-01",
    "avatarLink": "https://example.com/ann.png", "variables": {"city": "Tallinn", "score": 42},
    "subscriptions": {"email": {"status": "subscribed", "address": "ann@example.com", "blacklisted": False,
                                "blacklistReason": None, "changedAt": "2026-11-28T10:00:00+00:00"}},
    "notesCount": 0, "createdAt": "2026-11-28T10:00:00+00:00", "createdMethod": "api",
    "updatedAt": "2026-11-28T10:00:00+00:00", "updatedMethod": "api", "version": 2, "position": 17,
}


class _ContactFields(Request):
    user_id: Short | None = None
    email: Annotated[str, Field(max_length=values.MAX_EMAIL)] | None = None
    phone_number: Annotated[str, Field(max_length=values.MAX_PHONE)] | None = None
    first_name: Short | None = None
    last_name: Short | None = None
    language: Annotated[str, Field(max_length=8)] | None = None
    timezone: Annotated[str, Field(max_length=64)] | None = None
    birthday: Annotated[str, Field(max_length=32, examples=["1990-05-01"])] | None = None
    avatar_link: Annotated[str, Field(max_length=2048)] | None = None
    variables: dict[Annotated[str, Field(max_length=64)], VariableValue] | None = None
    # Derived from events, never writable: listed so that sending them is a clear
    # 422 read_only_field instead of an "unknown member" error.
    id: Any = Field(None, **READ_ONLY)
    domain: Any = Field(None, **READ_ONLY)
    created_at: Any = Field(None, **READ_ONLY)
    created_method: Any = Field(None, **READ_ONLY)
    updated_at: Any = Field(None, **READ_ONLY)
    updated_method: Any = Field(None, **READ_ONLY)
    version: Any = Field(None, **READ_ONLY)
    position: Any = Field(None, **READ_ONLY)
    notes_count: Any = Field(None, **READ_ONLY)
    subscriptions: Any = Field(None, **READ_ONLY)

    def changes(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(fields, variables) as the client sent them, camelCase; ``null`` kept (= remove)."""
        sent = self.model_dump(by_alias=True, exclude_unset=True)
        variables = sent.pop("variables", None)
        return sent, variables


class ContactCreate(_ContactFields):
    model_config = {"json_schema_extra": {"examples": [{
        "email": "ann@example.com", "phoneNumber": "+372 555 12345", "userId": "u-1", "firstName": "Ann",
        "language": "et", "timezone": "Europe/Tallinn", "variables": {"city": "Tallinn"}}]}}


class ContactUpdate(_ContactFields):
    """Only the members sent change; ``null`` removes a field or a variable."""

    model_config = {"json_schema_extra": {"examples": [{"lastName": "Lee", "variables": {"score": 42, "city": None}}]}}


class AvatarUpdate(Request):
    url: Annotated[str, Field(max_length=4096, examples=["https://example.com/ann.png"])]


class SubscriptionPublic(Public):
    status: str
    address: str | None = None
    blacklisted: bool = False
    blacklist_reason: str | None = None
    changed_at: Stamp = None


class ContactPublic(Public):
    model_config = {"json_schema_extra": {"examples": [CONTACT_EXAMPLE]}}

    id: str
    domain: str | None = None
    user_id: str | None = None
    email: str | None = None
    phone_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    timezone: str | None = None
    birthday: date | str | None = None
    avatar_link: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    subscriptions: dict[str, SubscriptionPublic] = Field(default_factory=dict)
    notes_count: int = 0
    created_at: Stamp = None
    created_method: str | None = None
    updated_at: Stamp = None
    updated_method: str | None = None
    version: int | None = None
    position: int | None = None
