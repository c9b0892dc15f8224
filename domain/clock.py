"""Time passing, recorded as events.

Segments with time-relative rules (``withinLastDays``, activity counts) change membership
as days go by. Driving that from recorded ticks instead of the wall clock lets a rebuild
of the projections reproduce exactly the entries and exits the live path made.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate

from domain.meta import Meta, Recorded, RecordedCreation, created, trigger

CLOCK_ID = uuid5(NAMESPACE_URL, "https://contact-profiles/clock")


class Clock(Aggregate):
    class Started(RecordedCreation):
        pass

    def __init__(self, method: str, actor: str) -> None:
        pass

    class Ticked(Recorded):
        pass

    @classmethod
    def start(cls, meta: Meta) -> Clock:
        return created(cls, cls.Started, CLOCK_ID, meta)

    def tick(self, meta: Meta) -> None:
        trigger(self, self.Ticked, meta)
