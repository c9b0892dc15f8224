"""The read side as the API sees it: every query the HTTP API and the page need.

This file is the contract between ``projections/`` (which implements it over its own
tables) and ``api/`` (which only calls it). Shapes are the JSON shapes of DESIGN §4,
camelCase, ready to return. ``domain`` scopes every query: nothing crosses domains.
Cursors are opaque strings; ``None`` means no further page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol
from uuid import UUID

Page = tuple[list[dict[str, Any]], str | None]  # (items, nextCursor)


class ReadModel(Protocol):
    # -- positions ------------------------------------------------------------------
    def head(self) -> int:
        """Highest notification id in the event store (0 when empty)."""

    def positions(self) -> dict[str, int]:
        """Each projection's tracking position: {"profile": n, "activity": n, "segments": n}."""

    def wait_for(self, position: int, projections: tuple[str, ...] = (), timeout: float = 5.0) -> bool:
        """Block until the named projections (all when empty) have processed ``position``;
        False on timeout. Used for ``?minPosition=``. (The three projections advance
        together, in one transaction per batch, so their positions are always equal.)"""

    # -- profile --------------------------------------------------------------------
    def domains(self, allowed: set[str] | None) -> list[dict[str, Any]]:
        """[{"domain": slug, "contacts": count}] for the allowed domains (None = all)."""

    def contact(self, domain: str, contact_id: UUID) -> dict[str, Any] | None:
        """The contact document of DESIGN §4 (with ``position``), None if absent/removed."""

    def find_contacts(self, domain: str, *, email: str | None = None, phone: str | None = None,
                      user_id: str | None = None, limit: int = 50, cursor: str | None = None) -> Page:
        """Search by normalised identifier, or page the Contact List (by createdAt, id)."""

    def subscription_history(self, domain: str, contact_id: UUID, channel: str) -> list[dict[str, Any]]:
        """Consent audit trail, oldest first: {channel, status, previousStatus, address,
        reason, method, actor, occurredAt}."""

    def notes(self, domain: str, contact_id: UUID) -> list[dict[str, Any]]:
        """Live notes, newest first: {id, text, author, createdAt} (text unsealed)."""

    def templates(self, domain: str) -> list[dict[str, Any]]:
        """{id, channel, name, subject, body, bodies, status, createdAt}."""

    def template(self, domain: str, template_id: UUID) -> dict[str, Any] | None: ...

    # -- activity -------------------------------------------------------------------
    def activity(self, domain: str, contact_id: UUID, *, days: int = 30, types: list[str] | None = None,
                 limit: int = 50, cursor: str | None = None) -> Page:
        """Feed entries of the last ``days`` (≤ 30), newest first:
        {id, type, occurredAt, summary, data}. ``days`` outside 1..30 raises
        ``domain.errors.InvalidInput``; "now" is the wall clock at query time. Entry ids
        derive from the event, so they survive a rebuild. Types: contact.created,
        contact.updated, contact.removed, subscription.changed, blacklist.added,
        blacklist.removed, message.sent, message.resent, message.status, activity,
        note.added, note.deleted, segment.entered, segment.exited."""

    def activity_entry(self, domain: str, contact_id: UUID, activity_id: str) -> dict[str, Any] | None:
        """One entry with full detail ("Info"); for messages ``data.messageId`` is set
        (with channel, address, subject, body, templateId, resendOf). None for an id that
        is not a uuid or not this contact's."""

    def export_activity(self, domain: str, contact_id: UUID) -> Iterator[dict[str, Any]]:
        """The complete history, oldest first, streamed in constant memory."""

    # -- segments -------------------------------------------------------------------
    def segments(self, domain: str) -> list[dict[str, Any]]:
        """{id, name, conditions, members, createdAt, updatedAt}."""

    def segment(self, domain: str, segment_id: UUID) -> dict[str, Any] | None: ...

    def segment_members(self, domain: str, segment_id: UUID, *, limit: int = 50, cursor: str | None = None) -> Page:
        """{id, email, phoneNumber, userId, since}."""

    def contact_segments(self, domain: str, contact_id: UUID) -> list[dict[str, Any]]:
        """{id, name, since}."""
