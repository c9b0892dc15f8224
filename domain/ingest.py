"""The contact-event envelope of DESIGN §3, turned into commands.

Shared by the Kafka consumer and ``POST /events`` so both accept exactly the same
messages and refuse the same ones with the same codes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, NotRequired
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

from domain import errors, handlers, values
from domain.activity import Activity
from domain.claim import IdentifierClaim, claim_ids
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


# The envelope itself is read as typed dicts, not models: validated the same, without
# building two model objects per envelope (~3 % of the write path, bench B1).
class _ContactRef(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[misc]

    userId: Annotated[str, Field(min_length=1, max_length=values.MAX_USER_ID)] | None
    email: Annotated[str, Field(max_length=values.MAX_EMAIL)] | None
    phoneNumber: Annotated[str, Field(max_length=values.MAX_PHONE)] | None


class _Raw(TypedDict):
    """The envelope as it arrives; ``parse`` turns it into an :class:`Envelope`."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]

    eventId: Annotated[str, Field(min_length=1, max_length=200)]
    domain: str
    type: str
    occurredAt: AwareDatetime
    contact: _ContactRef
    data: NotRequired[Any]  # checked by the validator of its type's data (``_DATA``)


# Their validators are called directly: ``TypeAdapter.validate_python`` adds a Python call
# per envelope that only passes its arguments on.
_RAW = TypeAdapter(_Raw).validator


class Envelope:
    """A validated envelope with everything the write side asks of it worked out once:
    normalised identifiers with their claims' ids, typed ``data`` and the receipt key. A
    plain slotted object rather than a pydantic model: the batch reads these attributes
    several times per envelope, and pydantic's attribute hooks were ~13 % of the write path
    (bench B1)."""

    __slots__ = ("eventId", "domain", "type", "occurredAt", "identifiers", "claims", "data", "receipt")

    def __init__(self, raw: _Raw, identifiers: dict[str, str], claims: tuple[UUID, ...], data: dict[str, Any]) -> None:
        self.eventId = raw["eventId"]
        self.domain = raw["domain"]
        self.type = raw["type"]
        self.occurredAt = raw["occurredAt"]
        self.identifiers = identifiers
        self.claims = claims  # the ids of the identifiers' claims, in the same order
        self.data = data
        self.receipt = f"{self.domain}\x1f{self.eventId}"

    def __repr__(self) -> str:
        return f"Envelope({self.type} {self.eventId!r} in {self.domain!r})"


# ``data`` is read as a typed dict too, one per envelope type: only the keys given are
# present (what an upsert changes), and no model object is built (~2 %, bench B1).
_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)
_Channel = Literal["email", "sms", "webPush", "telegram", "viber"]


class UpsertData(TypedDict, total=False):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    userId: str | None
    email: str | None
    phoneNumber: str | None
    firstName: str | None
    lastName: str | None
    language: str | None
    timezone: str | None
    birthday: date | None
    avatarLink: str | None
    variables: dict[str, Any]


class VariablesData(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    variables: dict[str, Any]


class RemovedData(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]


class SubscriptionData(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    channel: _Channel
    status: Literal["subscribed", "unsubscribed", "none"]
    address: NotRequired[Annotated[str, Field(min_length=1, max_length=512)] | None]
    reason: NotRequired[Annotated[str, Field(max_length=500)] | None]


class BlacklistData(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    channel: _Channel
    reason: NotRequired[Literal["manual", "hardBounce", "complaint", "listUnsubscribe"]]


class StatusData(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    messageId: UUID
    status: Literal[DELIVERY_STATUSES]  # type: ignore[valid-type]
    hard: NotRequired[bool]


def _parseable(value: dict[str, Any]) -> dict[str, Any]:
    try:
        return values.json_document("properties", value)
    except errors.InvalidInput as e:
        raise ValueError(e.detail) from None


class ActivityData(TypedDict):
    __pydantic_config__ = _STRICT  # type: ignore[misc]

    name: Annotated[str, Field(min_length=1, max_length=100)]
    properties: NotRequired[Annotated[dict[str, Any], AfterValidator(_parseable)]]


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
    identifiers, claims = _identifiers(envelope["domain"], contact.get("userId"), contact.get("email"),
                                       contact.get("phoneNumber"))
    try:
        data = _DATA[envelope["type"]].validate_python(envelope.get("data", {}))
    except ValidationError as e:
        raise errors.InvalidInput(_describe(e, whole="data")) from None
    return Envelope(envelope, identifiers, claims, data)


@lru_cache(maxsize=131_072)  # contacts recur: a fifth of the instructions of a parse (bench B1)
def _identifiers(domain: str, user_id: str | None, email: str | None,
                 phone: str | None) -> tuple[dict[str, str], tuple[UUID, ...]]:
    """The envelope's identifiers, normalised, and their claims' ids, which the batch's
    prefetch and ``resolve`` look up. Shared between envelopes naming the same contact:
    read, never changed (``apply`` copies before adding to them)."""
    identifiers = handlers.normalise_identifiers({"userId": user_id, "email": email, "phoneNumber": phone})
    if not identifiers:  # it leaves out the ones not given
        raise errors.InvalidInput("contact needs userId, email or phoneNumber")
    return identifiers, claim_ids(domain, identifiers)


def _in_utc_range(value: datetime) -> bool:
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _describe(error: ValidationError, whole: str = "body") -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or whole}: {item['msg']}" for item in error.errors()[:5]
    )


_DATA: dict[str, Any] = {name: TypeAdapter(kind).validator for name, kind in {
    "contact.upserted": UpsertData,
    "contact.variables_set": VariablesData,
    "contact.removed": RemovedData,
    "subscription.changed": SubscriptionData,
    "blacklist.added": BlacklistData,
    "blacklist.removed": BlacklistData,
    "message.status": StatusData,
    "activity": ActivityData,
}.items()}


def prefetch(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    """Load, in two round trips, the claims, activities and then contacts a batch of
    envelopes will look up (instead of one SELECT per lookup)."""
    ids: list[UUID] = []
    for envelope in envelopes:
        ids.extend(envelope.claims)
        if envelope.type == "contact.upserted":
            ids.extend(claim_ids(envelope.domain, _new_identifiers(envelope.data)))
    uow.prefetch(ids)
    owners = {a.contact_id for a in uow.aggregates.values() if isinstance(a, IdentifierClaim) and a.contact_id}
    uow.prefetch(owners)


def _new_identifiers(data: UpsertData) -> dict[str, str]:
    """The identifiers an upsert gives the contact in ``data`` (checked for being free,
    then claimed): prefetched too, else each is one SELECT. Invalid ones are left to apply."""
    found: dict[str, str] = {}
    for kind in values.IDENTIFIER_KINDS:
        value = data.get(kind)
        if isinstance(value, str):
            try:
                found.update(handlers.normalise_identifiers({kind: value}))
            except errors.DomainError:
                pass
    return found


def apply(uow: UnitOfWork, envelope: Envelope, meta: Meta) -> UUID:
    """Apply one validated envelope; returns the contact id it touched."""
    domain = envelope.domain
    data: Any = envelope.data
    identifiers = envelope.identifiers
    target = handlers.resolve(uow, domain, identifiers, envelope.claims)
    if envelope.type == "contact.upserted":
        fields = dict(data)
        variables = fields.pop("variables", {})
        if target is None:
            created = handlers.create_contact(uow, domain, {**identifiers, **fields}, variables, meta)
            return created.id
        missing = {k: v for k, v in identifiers.items() if k not in target.identifiers}
        handlers.update_contact(uow, target, {**missing, **fields}, variables, meta)
        return target.id
    if target is None:
        raise errors.ContactNotFound("no contact has these identifiers")
    if not identifiers.keys() <= target.identifiers.keys():  # compared in C: most envelopes add none
        missing = {k: v for k, v in identifiers.items() if k not in target.identifiers}
        handlers.update_contact(uow, target, missing, None, meta)
    _APPLY[envelope.type](uow, envelope, data, target, meta)
    return target.id


def _variables_set(uow: UnitOfWork, envelope: Envelope, data: VariablesData, target: Contact, meta: Meta) -> None:
    handlers.update_contact(uow, target, {}, data["variables"], meta)


def _removed(uow: UnitOfWork, envelope: Envelope, data: RemovedData, target: Contact, meta: Meta) -> None:
    handlers.remove_contact(uow, target, meta)


def _subscription_changed(uow: UnitOfWork, envelope: Envelope, data: SubscriptionData, target: Contact,
                          meta: Meta) -> None:
    handlers.change_subscription(
        uow, target, data["channel"], data["status"], meta, confirmed=True, address=data.get("address"),
        reason=data.get("reason"), own_action=True,
    )


def _blacklist_added(uow: UnitOfWork, envelope: Envelope, data: BlacklistData, target: Contact, meta: Meta) -> None:
    target.blacklist(data["channel"], data.get("reason", "manual"), meta)


def _blacklist_removed(uow: UnitOfWork, envelope: Envelope, data: BlacklistData, target: Contact, meta: Meta) -> None:
    target.unblacklist(data["channel"], data.get("reason", "manual"), meta)


def _message_status(uow: UnitOfWork, envelope: Envelope, data: StatusData, target: Contact, meta: Meta) -> None:
    handlers.record_message_status(uow, envelope.domain, target, data["messageId"], data["status"],
                                   data.get("hard", False), meta)


def _activity(uow: UnitOfWork, envelope: Envelope, data: ActivityData, target: Contact, meta: Meta) -> None:
    # Its id comes from the eventId, whose receipt is stored in the same transaction:
    # a redelivery is caught by the receipt (and the primary key), so no look-up here.
    activity_id = _activity_id(envelope.receipt)
    uow.record(Activity.recorded(activity_id, envelope.domain, target.id, data["name"],
                                 data.get("properties", {}), meta))


_APPLY: dict[str, Any] = {
    "contact.variables_set": _variables_set,
    "contact.removed": _removed,
    "subscription.changed": _subscription_changed,
    "blacklist.added": _blacklist_added,
    "blacklist.removed": _blacklist_removed,
    "message.status": _message_status,
    "activity": _activity,
}
