"""Who did something, how, and when: recorded on every event."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

from domain.errors import InvalidInput
from domain.values import METHODS

A = TypeVar("A", bound=Aggregate)


def utcnow() -> datetime:
    return datetime.now(tz=UTC)


@dataclass(frozen=True)
class Meta:
    """The provenance of a command. ``occurred_at`` becomes the event's timestamp, so
    events replayed from Kafka keep the time the upstream system saw them happen."""

    method: str = "api"
    actor: str = "api"
    occurred_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidInput(f"method must be one of {', '.join(METHODS)}")
        if self.occurred_at.tzinfo is None:
            raise InvalidInput("occurredAt must carry a time zone")
        if not isinstance(self.actor, str) or not self.actor.strip() or len(self.actor) > 200:
            raise InvalidInput("actor must name who acted (1..200 chars)")

    def at(self, occurred_at: datetime) -> Meta:
        """The same provenance at another time: one per envelope of a batch, so without
        checking method and actor again (that was ~2 % of the write path, bench B1)."""
        if occurred_at.tzinfo is None:
            raise InvalidInput("occurredAt must carry a time zone")
        made = object.__new__(Meta)
        made.__dict__.update(method=self.method, actor=self.actor, occurred_at=occurred_at)
        return made

    def fields(self) -> dict[str, Any]:
        return {"method": self.method, "actor": self.actor, "timestamp": self.occurred_at}


def created(aggregate_class: type[A], event_class: type[Any], originator_id: UUID | None, meta: Meta,
            **fields: Any) -> A:
    """A new aggregate, as ``aggregate_class._create(event_class, id=originator_id, **fields,
    **meta.fields())`` makes it (a new random id when none is given), less the steps
    these aggregates never need (an explicit topic, arguments for ``create_id``, copies
    of the arguments): 3 µs of a new identifier claim's 10, and every new contact makes
    one to three (bench B1)."""
    made = event(
        event_class, originator_id=originator_id or uuid4(), originator_version=aggregate_class.INITIAL_VERSION,
        timestamp=meta.occurred_at, originator_topic=get_topic(aggregate_class), method=meta.method,
        actor=meta.actor, **fields,
    )
    aggregate: A = made.mutate(None)
    aggregate._pending_events.append(made)  # the list ``pending_events`` gives, without the property's call
    return aggregate


def trigger(aggregate: Aggregate, event_class: type[Any], meta: Meta, **fields: Any) -> None:
    """``aggregate.trigger_event(event_class, **fields, **meta.fields())``, with the event
    made by :func:`event`."""
    # ``_id`` and ``_version``: what the ``id`` and ``version`` properties read, without their calls.
    made = event(event_class, originator_id=aggregate._id, originator_version=aggregate._version + 1,
                 timestamp=meta.occurred_at, method=meta.method, actor=meta.actor, **fields)
    made.mutate(aggregate)
    aggregate._pending_events.append(made)


def event(event_class: type[Any], **fields: Any) -> Any:
    """``event_class(**fields)``, made as the library makes the events it reads back, not
    through the frozen dataclass's ``__init__``, which sets each field through
    ``object.__setattr__`` (a claim's event: 14 700 instructions instead of 24 200, bench
    B1). Whatever ``__init__`` would do besides (fill a default, refuse a missing or
    unknown field, or an id that is no UUID) it still does. The attributes keep the order
    given, which the callers here give as the class declares them (the stored JSON's key
    order: readers do not depend on it)."""
    if fields.keys() != _field_names(event_class).keys() or not isinstance(fields["originator_id"], UUID):
        return event_class(**fields)
    made = object.__new__(event_class)
    vars(made).update(fields)
    return made


@cache
def _field_names(event_class: type[Any]) -> dict[str, None]:
    return dict.fromkeys(f.name for f in dataclasses.fields(event_class))


class Recorded(Aggregate.Event):
    """Base of every event: the provenance fields a consent audit trail needs."""

    method: str
    actor: str


class RecordedCreation(Aggregate.Created):
    method: str
    actor: str

    def mutate(self, aggregate: Any) -> Any:
        """The aggregate this event creates, built as ``CanInitAggregate.mutate`` builds it
        but with the names its ``__init__`` takes looked up once per class: the library
        inspects and filters them out of the event on every creation (about 4 µs each,
        bench B1) and again for every aggregate read back."""
        assert aggregate is None
        aggregate_class, init_names, takes_id = _creation(self.originator_topic)
        state = vars(self)
        made = aggregate_class.__new__(aggregate_class)
        made.__base_init__(self.originator_id, self.originator_version, self.timestamp)
        kwargs = {name: state[name] for name in init_names if name in state}
        if takes_id:
            kwargs["id"] = self.originator_id
        made.__init__(**kwargs)
        self.apply(made)
        return made


@cache
def _creation(topic: str) -> tuple[type, tuple[str, ...], bool]:
    """The aggregate class a created event's topic names, the parameters its ``__init__``
    takes from the event, and whether it takes the aggregate's id too (as the library
    passes it): looked up once per class, in one call."""
    aggregate_class = resolve_topic(topic)
    names = tuple(inspect.signature(aggregate_class.__init__).parameters)
    return aggregate_class, tuple(n for n in names if n not in ("self", "id")), "id" in names
