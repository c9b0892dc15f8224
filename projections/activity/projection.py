"""Appends feed entries. Segment entries/exits are not written here: the segments
projection keeps them in its own history and the feed query merges both (see
``projections.activity.queries``), so each table has exactly one writer."""

from __future__ import annotations

from typing import Any

from psycopg import Cursor

from projections.activity.entries import entry
from projections.batch import Batch
from projections.copying import copy_rows
from projections.events import topics

TOPICS = topics(
    "Contact.Created", "Contact.Updated", "Contact.VariablesChanged", "Contact.Removed",
    "Contact.SubscriptionChanged", "Contact.Blacklisted", "Contact.Unblacklisted",
    "Contact.NoteAdded", "Contact.NoteDeleted", "Message.Sent", "Message.StatusRecorded", "Activity.Recorded",
)
_KINDS = frozenset(t[t.index(":") + 1:] for t in TOPICS)
COLUMNS = ("id", "domain", "contact_id", "occurred_at", "position", "type", "name", "summary", "data")


def apply(cur: Cursor[Any], batch: Batch) -> None:
    out = rows(batch)
    if out:
        copy_rows(cur, f"{batch.view}.activity_feed", COLUMNS, out)


def rows(batch: Batch) -> list[tuple[Any, ...]]:
    """The feed rows of a run of events (the profile projection has set ``batch.domains``)."""
    domains = batch.domains
    kinds = _KINDS
    rows = (entry(fact, domains.get(fact.originator_id)) for fact in batch.facts if fact.kind in kinds)
    return [row for row in rows if row is not None]
