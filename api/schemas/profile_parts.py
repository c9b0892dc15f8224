"""The parts of a profile with their own endpoints: subscriptions, blacklist, variables, notes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas.common import Public, Request, VariableValue

Stamp = datetime | str | None


class SubscriptionUpdate(Request):
    """Changing consent is deliberate: ``confirm`` must be ``true`` (else 428)."""

    model_config = {"json_schema_extra": {"examples": [{"status": "subscribed", "confirm": True}]}}

    status: Literal["subscribed", "unsubscribed", "none"]
    confirm: bool = Field(False, description="Must be true: the caller confirms the consent change")
    address: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None


class ConsentEntry(Public):
    channel: str
    status: str
    previous_status: str | None = None
    address: str | None = None
    reason: str | None = None
    method: str | None = None
    actor: str | None = None
    occurred_at: Stamp = None


class BlacklistUpdate(Request):
    model_config = {"json_schema_extra": {"examples": [{"reason": "manual"}]}}

    reason: Literal["manual", "hardBounce", "complaint", "listUnsubscribe"] = "manual"


class BlacklistRemoval(Request):
    reason: Annotated[str, Field(max_length=500)] | None = None


class VariableUpdate(Request):
    model_config = {"json_schema_extra": {"examples": [{"value": "Tallinn"}]}}

    value: VariableValue


class VariablePublic(Public):
    name: str
    value: Any = None


class VariableSet(VariablePublic):
    position: int


class NoteCreate(Request):
    model_config = {"json_schema_extra": {"examples": [{"text": "Prefers SMS in the evening", "author": "Kati"}]}}

    text: Annotated[str, Field(min_length=1, max_length=2000)]
    author: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="Defaults to the API key's name")


class NotePublic(Public):
    id: str
    text: str | None = None
    author: str | None = None
    created_at: Stamp = None
    position: int | None = None
