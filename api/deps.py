"""Request dependencies: who is calling, which domain, which read model, which provenance.

Routes declare what they need with the ``Annotated`` aliases at the bottom; nothing here
is built at import time — everything hangs off ``app.state`` set by ``create_app``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Protocol
from uuid import UUID

import psycopg
from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import errors
from domain import values
from domain.application import ContactProfiles
from domain.errors import ContactNotFound, InvalidInput
from domain.meta import Meta
from projections.reader import Page, ReadModel

log = logging.getLogger(__name__)

PROFILE = ("profile",)
ACTIVITY = ("profile", "activity")
SEGMENTS = ("profile", "segments")
EVERY: tuple[str, ...] = ()  # all projections
WAIT_SECONDS = 5.0
MAX_POSITION = 2**63 - 1


@dataclass(frozen=True)
class Principal:
    """The caller: the key's name (its domain, or ``admin`` for ``*``) and its reach."""

    name: str
    domain: str | None  # None = every domain

    def may_see(self, domain: str) -> bool:
        return self.domain is None or self.domain == domain

    def allowed(self) -> set[str] | None:
        return None if self.domain is None else {self.domain}


class KeyRing:
    """API keys from ``PROFILES_API_KEYS``; empty means the API is open."""

    def __init__(self, key_map: dict[str, str]) -> None:
        self._keys = [(key.encode(), domain) for key, domain in key_map.items()]

    @property
    def open(self) -> bool:
        return not self._keys

    def principal(self, authorization: str | None) -> Principal:
        if self.open:
            return Principal(name="anonymous", domain=None)
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.Unauthorized("send Authorization: Bearer <key>")
        given = token.strip().encode()
        match: str | None = None
        # Compare against every key, never stopping early, so timing says nothing.
        for key, domain in self._keys:
            if hmac.compare_digest(given, key):
                match = domain
        if match is None:
            raise errors.Unauthorized("unknown API key")
        return Principal(name="admin" if match == "*" else match, domain=None if match == "*" else match)


# The dependencies below are ``async def`` although they never await: FastAPI runs a plain
# ``def`` dependency on the threadpool, and that hop cost more than the work (bench B4).


async def get_principal(request: Request) -> Principal:
    return request.app.state.keys.principal(request.headers.get("authorization"))


async def get_domain(
    principal: Annotated[Principal, Depends(get_principal)],
    domain: Annotated[str, Path(description="Workspace slug [a-z0-9][a-z0-9-]{0,62}", examples=["shop"])],
) -> str:
    values.domain_slug(domain)
    if not principal.may_see(domain):
        raise errors.Forbidden(f"this key may not access domain {domain!r}")
    return domain


async def get_application(request: Request) -> ContactProfiles:
    return request.app.state.container.app


async def get_read_model(request: Request) -> ReadModel:
    read_model = getattr(request.app.state.container, "read_model", None)
    if read_model is None:
        raise errors.ReadModelUnavailable("the projections are not attached to this process")
    return read_model


async def get_meta(request: Request, principal: Annotated[Principal, Depends(get_principal)]) -> Meta:
    # The profile page marks its writes so a profile's "updated via" can say "ui".
    method = "ui" if request.headers.get("profiles-client") == "ui" else "api"
    return Meta(method=method, actor=principal.name)


def reads(projections: tuple[str, ...]) -> Callable[..., ReadModel]:
    """A dependency that honours ``?minPosition=`` for the projections a route reads."""

    def dependency(
        read_model: Annotated[ReadModel, Depends(get_read_model)],
        min_position: Annotated[int | None, Query(
            alias="minPosition", ge=0, le=MAX_POSITION,
            description="Wait (≤ 5 s) until the projections have processed this log position "
                        "(from a write's `Profiles-Position`), else 503 `projection_lagging`.",
        )] = None,
    ) -> ReadModel:
        if min_position:
            wait(read_model, min_position, projections)
        return read_model

    return dependency


def wait(read_model: ReadModel, position: int, projections: tuple[str, ...]) -> None:
    head = read_model.head()
    if position > head:
        # No write ever answered this position: waiting could only time out.
        raise InvalidInput(f"minPosition {position} is beyond the log head {head}")
    if not read_model.wait_for(position, projections, timeout=WAIT_SECONDS):
        raise _lagging(position, projections)


def _lagging(position: int, projections: tuple[str, ...]) -> errors.ProjectionLagging:
    return errors.ProjectionLagging(
        f"projections {', '.join(projections) or 'all'} have not reached position {position}; retry"
    )


class ProfileReads(Protocol):
    """What the hottest reads await: ``projections.async_reader.AsyncProfileReader``, or
    ``ThreadedProfileReads`` around any sync ``ReadModel``."""

    async def head(self) -> int: ...

    async def wait_for(self, position: int, projections: tuple[str, ...] = (), timeout: float = 5.0) -> bool: ...

    async def contact(self, domain: str, contact_id: UUID) -> dict[str, Any] | None: ...

    async def find_contacts(self, domain: str, *, email: str | None = None, phone: str | None = None,
                            user_id: str | None = None, limit: int = 50, cursor: str | None = None) -> Page: ...


class ThreadedProfileReads:
    """A sync read model's profile reads, awaited on the threadpool: the fallback where no
    async twin is open (an app run without its lifespan, or another ReadModel)."""

    def __init__(self, read_model: ReadModel) -> None:
        self.read_model = read_model

    async def head(self) -> int:
        return await run_in_threadpool(self.read_model.head)

    async def wait_for(self, position: int, projections: tuple[str, ...] = (), timeout: float = 5.0) -> bool:
        return await run_in_threadpool(self.read_model.wait_for, position, projections, timeout)

    async def contact(self, domain: str, contact_id: UUID) -> dict[str, Any] | None:
        return await run_in_threadpool(self.read_model.contact, domain, contact_id)

    async def find_contacts(self, domain: str, **query: Any) -> Page:
        return await run_in_threadpool(lambda: self.read_model.find_contacts(domain, **query))


async def get_profile_reads(request: Request) -> ProfileReads:
    read_model = await get_read_model(request)
    twin = getattr(request.app.state, "async_reads", None)  # (the read model it mirrors, its reader)
    if twin is not None and twin[0] is read_model and twin[1].is_open:
        return twin[1]
    return ThreadedProfileReads(read_model)


async def profile_reads(
    reads: Annotated[ProfileReads, Depends(get_profile_reads)],
    min_position: Annotated[int | None, Query(
        alias="minPosition", ge=0, le=MAX_POSITION,
        description="Wait (≤ 5 s) until the profile projection has processed this log position "
                    "(from a write's `Profiles-Position`), else 503 `projection_lagging`.",
    )] = None,
) -> ProfileReads:
    """``reads(PROFILE)`` for ``async`` routes: the wait sleeps on the event loop."""
    if min_position:
        await wait_async(reads, min_position, PROFILE)
    return reads


async def wait_async(reads: ProfileReads, position: int, projections: tuple[str, ...]) -> None:
    """``wait`` without blocking the event loop."""
    head = await reads.head()
    if position > head:
        raise InvalidInput(f"minPosition {position} is beyond the log head {head}")
    if not await reads.wait_for(position, projections, timeout=WAIT_SECONDS):
        raise _lagging(position, projections)


def written(response: Response, position: int) -> int:
    """Every write tells the client its place in the log."""
    response.headers["Profiles-Position"] = str(position)
    return position


def sent(response: Response, message: Any, meta: Meta, position: int) -> int:
    """``written`` for a send or resend, saying when it was a retry (same
    ``Idempotency-Key``) answered with the message an earlier request created: a message
    is created at its request's time. The position is then the log's head, at or after
    that message, so ``?minPosition=`` with it reads the message."""
    if message.created_on != meta.occurred_at:
        response.headers["Idempotent-Replayed"] = "true"
    return written(response, position)


def contact_after_write(read_model: ReadModel, domain: str, contact_id: UUID, position: int) -> dict[str, Any]:
    """The fresh contact document once the profile projection has the write (bounded)."""
    document = None
    if read_model.wait_for(position, PROFILE, timeout=WAIT_SECONDS):
        document = read_model.contact(domain, contact_id)
    if document is None:
        error = errors.ProjectionLagging(
            f"written at position {position}; read it with GET ?minPosition={position}"
        )
        error.position = position  # type: ignore[attr-defined]
        raise error
    return document


@contextmanager
def client_cursor() -> Iterator[None]:
    """A cursor is opaque to clients but some still forge one: a value the database cannot
    cast is their mistake (422), not a server fault."""
    try:
        yield
    except psycopg.DataError:
        raise InvalidInput("invalid cursor") from None


def existing_contact(read_model: ReadModel, domain: str, contact_id: UUID) -> dict[str, Any]:
    document = read_model.contact(domain, contact_id)
    if document is None:
        raise ContactNotFound(f"contact {contact_id} not found")
    return document


Auth = Annotated[Principal, Depends(get_principal)]
Domain = Annotated[str, Depends(get_domain)]
App = Annotated[ContactProfiles, Depends(get_application)]
Provenance = Annotated[Meta, Depends(get_meta)]
ProfileReader = Annotated[ReadModel, Depends(reads(PROFILE))]
AsyncReader = Annotated[ProfileReads, Depends(profile_reads)]
ActivityReader = Annotated[ReadModel, Depends(reads(ACTIVITY))]
SegmentReader = Annotated[ReadModel, Depends(reads(SEGMENTS))]
AnyReader = Annotated[ReadModel, Depends(reads(EVERY))]
WriteReader = Annotated[ReadModel, Depends(get_read_model)]
ContactId = Annotated[UUID, Path(alias="contactId", description="Contact id")]
NoteIdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="A new unique string (a UUID) per note. A retry with the same key answers 201 with the note the "
                "first request added, marked `Idempotent-Replayed: true`, and adds nothing again; the same key with "
                "another text or author, or after the note was deleted, is 409 `idempotency_key_reused`.")]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200,
    description="A new unique string (a UUID) per send. A retry with the same key (after a timeout, say) "
                "answers 202 with the message the first request sent, marked `Idempotent-Replayed: true`, and "
                "sends nothing again; the same key on a different send is 409 `idempotency_key_reused`.")]
