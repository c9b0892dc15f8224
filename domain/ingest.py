"""The contact-event envelope of DESIGN §3, turned into commands.

Shared by the Kafka consumer and ``POST /events`` so both accept exactly the same
messages and refuse the same ones with the same codes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, NotRequired
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

from domain import errors, handlers, values
from domain.activity import Activity
from domain.contact import Contact
from domain.ids import NameIds
from domain.message import DELIVERY_STATUSES
from domain.meta import Meta
from domain.unit_of_work import UnitOfWork

EVENT_TYPES = (
    "contact.upserted", "contact.variables_set", "contact.removed", "subscription.changed",
    "blacklist.added", "blacklist.removed", "message.status", "activity",
)
_activity_id = NameIds("https://contact-profiles/activity")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# The envelope itself is read as typed dicts, not models: validated the same, without
# building two model objects per envelope (~3 % of the write path, bench B1).
class _ContactRef(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[misc]

    userId: Annotated[str, Field(min_length=1, max_length=256)] | None
    email: Annotated[str, Field(max_length=320)] | None
    phoneNumber: Annotated[str, Field(max_length=40)] | None


class _Raw(TypedDict):
    """The envelope as it arrives; ``parse`` turns it into an :class:`Envelope`."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]

    eventId: Annotated[str, Field(min_length=1, max_length=200)]
    domain: str
    type: str
    occurredAt: AwareDatetime
    contact: _ContactRef
    data: NotRequired[dict[str, Any]]


_RAW: TypeAdapter[_Raw] = TypeAdapter(_Raw)


class Envelope:
    """A validated envelope with everything the write side asks of it worked out once:
    normalised identifiers, typed ``data`` and the receipt key. A plain slotted object
    rather than a pydantic model: the batch reads these attributes several times per
    envelope, and pydantic's attribute hooks were ~13 % of the write path (bench B1)."""

    __slots__ = ("eventId", "domain", "type", "occurredAt", "identifiers", "data", "receipt")

    def __init__(self, raw: _Raw, identifiers: dict[str, str], data: BaseModel) -> None:
        self.eventId = raw["eventId"]
        self.domain = raw["domain"]
        self.type = raw["type"]
        self.occurredAt = raw["occurredAt"]
        self.identifiers = identifiers
        self.data = data
        self.receipt = f"{self.domain}\x1f{self.eventId}"

    def __repr__(self) -> str:
        return f"Envelope({self.type} {self.eventId!r} in {self.domain!r})"


class UpsertData(_Strict):
    userId: str | None = None
    email: str | None = None
    phoneNumber: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    language: str | None = None
    timezone: str | None = None
    birthday: date | None = None
    avatarLink: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)


class VariablesData(_Strict):
    variables: dict[str, Any]


class SubscriptionData(_Strict):
    channel: Literal["email", "sms", "webPush", "telegram", "viber"]
    status: Literal["subscribed", "unsubscribed", "none"]
    address: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None


class BlacklistData(_Strict):
    channel: Literal["email", "sms", "webPush", "telegram", "viber"]
    reason: Literal["manual", "hardBounce", "complaint", "listUnsubscribe"] = "manual"


class StatusData(_Strict):
    messageId: UUID
    status: Literal[DELIVERY_STATUSES]  # type: ignore[valid-type]
    hard: bool = False


class ActivityData(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("properties")
    @classmethod
    def _parseable(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            return values.json_document("properties", value)
        except errors.InvalidInput as e:
            raise ValueError(e.detail) from None


class Duplicate:
    """The envelope's eventId was applied before: accepted, nothing done."""

    code = "duplicate"

    def __repr__(self) -> str:
        return "Duplicate()"


class UnknownType(errors.InvalidInput):
    code = "unknown_type"
    title = "Unknown event type"


def parse(raw: dict[str, Any]) -> Envelope:
    """Validate an envelope and its ``data``; raises a DomainError with the DLQ code."""
    try:
        envelope = _RAW.validate_python(raw)
    except ValidationError as e:
        raise errors.InvalidInput(_describe(e)) from None
    occurred_at = envelope["occurredAt"]
    if occurred_at.year in (1, 9999) and not _in_utc_range(occurred_at):
        # 0001-01-01T00:00+01:00 is a year-0 instant in UTC: PostgreSQL stores it (as BC)
        # but no reader here can load it back, and the contact's feed failed on it.
        raise errors.InvalidInput("occurredAt: must lie between years 1 and 9999 in UTC")
    values.domain_slug(envelope["domain"])
    if envelope["type"] not in EVENT_TYPES:
        raise UnknownType(f"unknown event type {envelope['type']!r}")
    contact = envelope["contact"]
    given = {k: contact[k] for k in values.IDENTIFIER_KINDS if contact.get(k) is not None}
    if not given:
        raise errors.InvalidInput("contact needs userId, email or phoneNumber")
    identifiers = handlers.normalise_identifiers(given)
    try:
        data = _DATA[envelope["type"]].model_validate(envelope.get("data", {}))
    except ValidationError as e:
        raise errors.InvalidInput(_describe(e)) from None
    return Envelope(envelope, identifiers, data)


def _in_utc_range(value: datetime) -> bool:
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'body'}: {item['msg']}" for item in error.errors()[:5]
    )


_DATA: dict[str, type[BaseModel]] = {
    "contact.upserted": UpsertData,
    "contact.variables_set": VariablesData,
    "contact.removed": _Strict,
    "subscription.changed": SubscriptionData,
    "blacklist.added": BlacklistData,
    "blacklist.removed": BlacklistData,
    "message.status": StatusData,
    "activity": ActivityData,
}


def prefetch(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    """Load, in two round trips, the claims, activities and then contacts a batch of
    envelopes will look up (instead of one SELECT per lookup)."""
    from domain.claim import IdentifierClaim, claim_id

    ids: list[UUID] = []
    for envelope in envelopes:
        ids.extend(claim_id(envelope.domain, k, v) for k, v in envelope.identifiers.items())
        if isinstance(envelope.data, UpsertData):
            ids.extend(claim_id(envelope.domain, k, v) for k, v in _new_identifiers(envelope.data).items())
    uow.prefetch(ids)
    owners = {a.contact_id for a in uow.aggregates.values() if isinstance(a, IdentifierClaim) and a.contact_id}
    uow.prefetch(owners)


def _new_identifiers(data: UpsertData) -> dict[str, str]:
    """The identifiers an upsert gives the contact in ``data`` (checked for being free,
    then claimed): prefetched too, else each is one SELECT. Invalid ones are left to apply."""
    found: dict[str, str] = {}
    for kind in values.IDENTIFIER_KINDS:
        value = getattr(data, kind)
        if isinstance(value, str):
            try:
                found.update(handlers.normalise_identifiers({kind: value}))
            except errors.DomainError:
                pass
    return found


def apply(uow: UnitOfWork, envelope: Envelope, meta: Meta) -> UUID:
    """Apply one validated envelope; returns the contact id it touched."""
    domain = envelope.domain
    data = envelope.data
    identifiers = envelope.identifiers
    target = handlers.resolve(uow, domain, identifiers)
    if isinstance(data, UpsertData):
        fields = data.model_dump(exclude_unset=True, exclude={"variables"})
        if "birthday" in fields and fields["birthday"] is not None:
            fields["birthday"] = fields["birthday"].isoformat()
        if target is None:
            created = handlers.create_contact(uow, domain, {**identifiers, **fields}, data.variables, meta)
            return created.id
        missing = {k: v for k, v in identifiers.items() if k not in target.identifiers}
        handlers.update_contact(uow, target, {**missing, **fields}, data.variables, meta)
        return target.id
    if target is None:
        raise errors.ContactNotFound("no contact has these identifiers")
    missing = {k: v for k, v in identifiers.items() if k not in target.identifiers}
    if missing:
        handlers.update_contact(uow, target, missing, None, meta)
    _apply_to(uow, envelope, data, target, meta)
    return target.id


def _apply_to(uow: UnitOfWork, envelope: Envelope, data: BaseModel, target: Contact, meta: Meta) -> None:
    if isinstance(data, VariablesData):
        handlers.update_contact(uow, target, {}, data.variables, meta)
    elif envelope.type == "contact.removed":
        handlers.remove_contact(uow, target, meta)
    elif isinstance(data, SubscriptionData):
        handlers.change_subscription(
            uow, target, data.channel, data.status, meta, confirmed=True, address=data.address,
            reason=data.reason, own_action=True,
        )
    elif isinstance(data, BlacklistData) and envelope.type == "blacklist.added":
        target.blacklist(data.channel, data.reason, meta)
    elif isinstance(data, BlacklistData):
        target.unblacklist(data.channel, data.reason, meta)
    elif isinstance(data, StatusData):
        handlers.record_message_status(uow, envelope.domain, target, data.messageId, data.status, data.hard, meta)
    elif isinstance(data, ActivityData):
        # Its id comes from the eventId, whose receipt is stored in the same transaction:
        # a redelivery is caught by the receipt (and the primary key), so no look-up here.
        activity_id = _activity_id(envelope.receipt)
        uow.record(Activity.recorded(activity_id, envelope.domain, target.id, data.name, data.properties, meta))
