"""What one run of events hands from one projection to the next in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from projections.events import Fact


@dataclass(slots=True)
class Change:
    """A contact whose segment membership may have changed at ``position``: its document
    right after that event (None once removed)."""

    position: int
    when: datetime
    at: str
    domain: str
    contact_id: str
    doc: dict[str, Any] | None
    activity: str | None = None  # set when a custom activity (not a profile change) caused it


@dataclass
class Batch:
    facts: list[Fact]
    view: str  # quoted schema of the projection tables
    events: str  # quoted schema of the event store (note pads, helper function)
    domains: dict[str, str] = field(default_factory=dict)  # contact -> domain
    changes: list[Change] = field(default_factory=list)
