"""Many commands, one transaction.

A batch runs commands against aggregates taken from the application's cache, collects
every new event and stores them all with one ``save()`` (one transaction, optionally with
a tracking record). A command refused by a domain rule is reported and leaves nothing
behind; an optimistic-concurrency conflict with another writer evicts the cached
aggregates and replays the whole batch against fresh state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from domain.errors import DomainError

if TYPE_CHECKING:
    from eventsourcing.application import Application

A = TypeVar("A", bound=Aggregate)
Command = Callable[["UnitOfWork"], Any]
MAX_ATTEMPTS = 20


class NewEvent(NamedTuple):
    """The one event of a new aggregate that no command reads back (an activity), kept as
    the class and the fields it is stored with: building the library's event object and
    reading its attributes back to store them cost as much again as the storing (bench
    B1; half the upstream traffic is activities). ``event()`` builds that object."""

    event_class: type[Any]
    originator_id: UUID
    fields: dict[str, Any]  # all but the originator id and version, in the event class's order

    def event(self) -> Any:
        return self.event_class(originator_id=self.originator_id, originator_version=Aggregate.INITIAL_VERSION,
                                **self.fields)


class UnitOfWork:
    """Its dicts and sets of aggregates are keyed by ``UUID.int``: ``UUID.__hash__`` is a
    Python method, an ``int`` hashes in C, and a batch looks ids up about 28 times per
    envelope (bench B1)."""

    def __init__(self, app: Application[UUID]) -> None:
        self._app = app
        self.aggregates: dict[int, Aggregate] = {}
        self.receipts: list[str] = []
        # Receipts found already stored when this attempt began (looked up on replays).
        self.seen: set[str] = set()
        # Each command's result so far in this attempt, in order (a DomainError where refused).
        self.results: list[Any] = []
        # The events of new aggregates no command reads back (activities): saved as they are.
        self.events: list[NewEvent] = []
        self._events_before = 0
        # 0 on the first run of a batch; more when replayed after a conflict, when a
        # check made before the batch (e.g. "eventId seen?") may have gone stale.
        self.attempt = 0
        # Pending-event counts of the aggregates the current command touched, taken when
        # it first touched them: checking only these keeps a batch linear in its size.
        self._touched: dict[int, int] = {}
        # Ids known to have no events in this attempt: a new contact's identifiers are
        # looked up three times (resolve, check, claim); one miss is enough. Only for
        # one attempt: a conflict replays the batch with a fresh unit of work.
        self.absent: set[int] = set()
        # Aggregates read from the store in this attempt (fresh), and the cached ones a
        # refusal rested on, with the stored version they had: another process may have
        # changed those since (the cache is not fast-forwarded), so they are checked in
        # one query before the batch is saved.
        self.loaded: set[int] = set()
        self.relied_on: dict[UUID, int] = {}

    @property
    def app(self) -> Application[UUID]:
        return self._app

    def prefetch(self, ids: Iterable[UUID]) -> None:
        """Load every aggregate a batch will need that is not cached, in one round trip,
        instead of one SELECT per cache miss."""
        select_many = getattr(self._app.recorder, "select_events_many", None)
        cache = self._app.repository.cache
        if select_many is None or cache is None:
            return
        aggregates, absent = self.aggregates, self.absent
        wanted: dict[int, UUID] = {}
        for i in ids:
            number = i.int
            if number not in aggregates and number not in absent:
                wanted[number] = i
        aggregates.update(cache.get_all(wanted))  # one call, not one per id
        missing = [i for number, i in wanted.items() if number not in aggregates]
        found = select_many(missing)
        mapper = self._app.mapper
        for i in missing:
            stored = found.get(i)
            if stored is None:
                self.absent.add(i.int)
                continue
            aggregate = project_aggregate(None, (mapper.to_domain_event(s) for s in stored))
            if aggregate is not None:
                cache.put(i, aggregate)
                self.aggregates[i.int] = aggregate
                self.loaded.add(i.int)

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        number = aggregate_id.int
        aggregate = self.aggregates.get(number)
        if aggregate is None:
            if number in self.absent:
                return None
            cache = self._app.repository.cache
            if cache is None or aggregate_id not in cache:
                self.loaded.add(number)
            try:
                aggregate = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self.absent.add(number)
                return None
            self.aggregates[number] = aggregate
        self._touched.setdefault(number, len(aggregate._pending_events))  # the property's list, without its call
        return aggregate if isinstance(aggregate, kind) else None

    def add(self, aggregate: A) -> A:
        number = aggregate.id.int
        self.absent.discard(number)
        known = self.aggregates.get(number)
        self._touched.setdefault(number, 0 if known is None else len(known._pending_events))
        self.aggregates[number] = aggregate
        return aggregate

    def record(self, event: NewEvent) -> None:
        """Save ``event`` with the batch, without an aggregate around it."""
        self.events.append(event)

    def _begin_command(self) -> None:
        self._touched = {}
        self._events_before = len(self.events)

    def _rely_on_touched(self) -> None:
        """The current command was refused: remember the cached aggregates it read."""
        for number in self._touched:
            if number not in self.loaded:
                aggregate = self.aggregates[number]
                self.relied_on.setdefault(aggregate.id, aggregate.version - len(aggregate.pending_events))

    def stale_reliances(self) -> list[UUID]:
        """The relied-on aggregates whose stored version moved on since they were cached."""
        if not self.relied_on:
            return []
        ids = list(self.relied_on)
        max_versions = getattr(self._app.recorder, "max_versions", None)
        if max_versions is not None:
            stored = max_versions(ids)
        else:
            stored = {}
            for i in ids:
                last = self._app.recorder.select_events(i, desc=True, limit=1)
                stored[i] = last[0].originator_version if last else 0
        return [i for i, version in self.relied_on.items() if stored.get(i, 0) != version]

    def _command_recorded(self) -> bool:
        """Did the current command record any event (loose, or on an aggregate it touched)?"""
        return len(self.events) != self._events_before or any(
            len(self.aggregates[i].pending_events) != n for i, n in self._touched.items())


@dataclass
class BatchResult:
    results: list[Any] = field(default_factory=list)
    position: int | None = None

    def single(self) -> Any:
        """The one command's result, re-raising its refusal."""
        (result,) = self.results
        if isinstance(result, DomainError):
            raise result
        return result


def run_batch(
    app: Application[UUID],
    commands: list[Command],
    *,
    tracking: Tracking | None = None,
    save_kwargs: Callable[[UnitOfWork], dict[str, Any]] | None = None,
    prefetch: Callable[[UnitOfWork], None] | None = None,
) -> BatchResult:
    """Run ``commands`` and store all their events atomically (with ``tracking``)."""
    refused: dict[int, DomainError] = {}
    for attempt in range(MAX_ATTEMPTS):
        uow = UnitOfWork(app)
        uow.attempt = attempt
        if prefetch is not None:
            prefetch(uow)
        results: list[Any] = uow.results
        dirty = False
        try:
            for index, command in enumerate(commands):
                if index in refused:
                    results.append(refused[index])
                    continue
                result, recorded = _run_command(uow, command)
                if recorded is False:
                    uow._rely_on_touched()
                results.append(result)
                if recorded:
                    # A command raised after recording an event: drop this attempt
                    # and replay the batch without it, so nothing half-applied is saved.
                    refused[index] = result
                    dirty = True
                    break
            if dirty:
                _evict(app, uow)
                continue
            if stale := uow.stale_reliances():
                # A refusal rested on a cached aggregate another process changed since:
                # replay the batch, reading those fresh, before saving anything.
                _evict_ids(app, stale)
                continue
            kwargs = save_kwargs(uow) if save_kwargs else {}
            notification_ids = _save(app, uow, tracking, kwargs)
        except IntegrityError:
            _evict(app, uow)
            if tracking is not None and _tracking_done(app, tracking):
                raise
            time.sleep(min(0.002 * 2**attempt, 0.2))
            continue
        except BaseException:
            _evict(app, uow)
            raise
        position = max(filter(None, notification_ids), default=None)
        return BatchResult(results=results, position=position)
    msg = f"gave up after {MAX_ATTEMPTS} conflicting attempts"
    raise IntegrityError(msg)


def _run_command(uow: UnitOfWork, command: Command) -> tuple[Any, bool | None]:
    """(result, None) on success; (refusal, whether it came after recording an event)."""
    uow._begin_command()
    try:
        return command(uow), None
    except DomainError as error:
        # Kept as a value, not re-raised here: its traceback would tie the batch's frames
        # (and through them every aggregate it touched) into a cycle only the GC can free.
        return error.with_traceback(None), uow._command_recorded()


def _save(app: Application[UUID], uow: UnitOfWork, tracking: Tracking | None, kwargs: dict[str, Any]) -> list[int]:
    """Store the batch's new events with its tracking record and receipts in one
    transaction, then cache the saved aggregates; returns the events' notification ids.

    What ``Application.save()`` does (it takes no tracking record), without what this path
    does not use: an isinstance check of every aggregate against runtime Protocols (~20 %
    of a batch), and a Recording and a Notification object per event."""
    events: list[Any] = []
    saved: dict[int, Aggregate] = {}
    for number, aggregate in uow.aggregates.items():  # an untouched one has nothing to save nor re-cache
        # What ``collect_events()`` does, without a Python call for each of the batch's
        # many aggregates that only were read (the claims looked up, most of them).
        new = aggregate._pending_events  # the list collect_events() empties
        if new:
            events.extend(new)
            new.clear()
            saved[number] = aggregate
    if not events and not uow.events and tracking is None and not kwargs.get("receipts"):
        return []  # receipts alone are stored: an envelope that changed nothing was still applied
    mapper = app.mapper
    stored = [mapper.to_stored_event(e) for e in events]
    # Activities come as new events without an aggregate: never loaded again, they would
    # only push contacts out of the LRU cache.
    from_fields = getattr(mapper, "stored_from_fields", None)
    stored.extend(from_fields(new) if from_fields else mapper.to_stored_event(new.event()) for new in uow.events)
    ids = app.recorder.insert_events(stored, tracking=tracking, **kwargs)
    cache = app.repository.cache
    if cache is not None and not app.repository.fastforward:
        cache.put_all(saved)
    _take_snapshots(app, events, saved)
    return list(ids or [])


def _take_snapshots(app: Application[UUID], events: list[Any], saved: dict[int, Aggregate]) -> None:
    """Snapshot the aggregates whose new events crossed a snapshotting interval, all in
    one transaction, from the aggregates in memory: they hold exactly the state just saved.
    The library's ``_take_snapshots`` reloads each one from the store at the interval's
    version instead (two round trips and a replay of up to an interval of events each)."""
    intervals = app.snapshotting_intervals
    if app.snapshots is None or not intervals:
        return
    due: dict[int, Aggregate] = {}
    for event in events:
        number = event.originator_id.int
        aggregate = saved.get(number)
        interval = None if aggregate is None else intervals.get(type(aggregate))
        if interval and event.originator_version % interval == 0:
            due[number] = aggregate
    if due:
        app.snapshots.put([type(a).Snapshot.take(a) for a in due.values()])


def _evict(app: Application[UUID], uow: UnitOfWork) -> None:
    _evict_ids(app, (aggregate.id for aggregate in uow.aggregates.values()))


def _evict_ids(app: Application[UUID], ids: Iterable[UUID]) -> None:
    cache = app.repository.cache
    if cache is not None:
        for aggregate_id in ids:
            try:
                cache.get(aggregate_id, evict=True)
            except KeyError:
                pass


def _tracking_done(app: Application[UUID], tracking: Tracking) -> bool:
    """A conflict on the tracking record itself means another process already stored
    this position: replaying would apply it twice, so the caller must re-seek instead."""
    has = getattr(app.recorder, "has_tracking_id", None)
    return bool(has and has(tracking.application_name, tracking.notification_id))
