"""A dynamic segment: a named condition over a domain's profiles."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from domain import conditions, errors
from domain.meta import Meta, Recorded, RecordedCreation, created, trigger


class Segment(Aggregate):
    class Defined(RecordedCreation):
        domain: str
        name: str
        conditions: dict[str, Any]

    def __init__(self, domain: str, name: str, conditions: dict[str, Any], method: str, actor: str) -> None:
        self.domain = domain
        self.name = name
        self.conditions = conditions
        self.deleted = False

    class Redefined(Recorded):
        name: str
        conditions: dict[str, Any]

        def apply(self, segment: Segment) -> None:  # type: ignore[override]
            segment.name = self.name
            segment.conditions = self.conditions

    class Deleted(Recorded):
        def apply(self, segment: Segment) -> None:  # type: ignore[override]
            segment.deleted = True

    @classmethod
    def define(cls, domain: str, name: str, condition: Any, meta: Meta) -> Segment:
        return created(cls, cls.Defined, None, meta, domain=domain, name=_name(name),
                       conditions=conditions.validate(condition))

    def redefine(self, name: str, condition: Any, meta: Meta) -> None:
        self.ensure_present()
        trigger(self, self.Redefined, meta, name=_name(name), conditions=conditions.validate(condition))

    def delete(self, meta: Meta) -> None:
        self.ensure_present()
        trigger(self, self.Deleted, meta)

    def ensure_present(self) -> None:
        if self.deleted:
            raise errors.SegmentNotFound(f"segment {self.id} was deleted")


def _name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise errors.InvalidInput("segment name must be 1..200 chars")
    return name.strip()
