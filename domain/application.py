"""The application service: one method per action on a profile, plus batches.

Every public command runs through :func:`run_batch`, alone or with many others, so the
API, the Kafka consumer and the demo loader share one path into the event store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import ProcessRecorder, Tracking

from domain import errors, handlers, ingest, rendering, values
from domain.contact import Contact
from domain.message import Message
from domain.meta import Meta
from domain.recent import RecentAggregates
from domain.segment import Segment
from domain.template import Template
from domain.unit_of_work import BatchResult, Command, UnitOfWork, run_batch
from domain.vault import InMemoryVault, NoteVault


class ContactProfiles(Application[UUID]):
    name = "profiles"
    env: ClassVar[dict[str, str]] = {
        # Writers in other processes are detected by version conflicts, not by reading
        # ahead on every get; the batch evicts and retries on conflict.
        "AGGREGATE_CACHE_MAXSIZE": "500000",  # ~1.5 GB at most; a miss costs a round trip
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }

    # A contact with a long history loads from its latest snapshot plus at most this many
    # events, so a cold command on it costs what it costs on a new contact (bench B7).
    snapshotting_intervals: ClassVar[dict[type, int]] = {Contact: 200}

    # After a batch met duplicates, this many batches look their receipts up first.
    RECEIPTS_FIRST_AFTER_DUPLICATES = 100

    def __init__(self, env: dict[str, str] | None = None, vault: NoteVault | None = None,
                 render: rendering.Render = rendering.render) -> None:
        super().__init__(env)
        if self.repository.cache is not None:  # the library's LRUCache, or its unbounded Cache for a size <= 0
            self.repository.cache = RecentAggregates(getattr(self.repository.cache, "maxsize", None))
        self.vault: NoteVault = vault or InMemoryVault()
        self.render = render
        self._write_lock = threading.RLock()
        self._memory_receipts: set[str] = set()
        # Batches left that look their receipts up before running (see ``ingest``).
        self._receipts_first = 0

    def construct_recorder(self) -> ProcessRecorder:
        # A process recorder stores a tracking record (Kafka partition offset) in the
        # same transaction as the events it produced.
        return self.factory.process_recorder()

    # -- batches ------------------------------------------------------------------------

    def execute(self, commands: list[Command], *, tracking: Tracking | None = None, receipts: Iterable[str] = (),
                before_save: Callable[[UnitOfWork], None] | None = None,
                prefetch: Callable[[UnitOfWork], None] | None = None) -> BatchResult:
        # Only the receipts of the attempt that was saved count as applied, as in the
        # PostgreSQL recorder: a refused envelope redelivered later must apply then.
        # (``receipts`` is kept for callers; the commands' own receipts are what is stored.)
        saved: list[str] = []

        def save_kwargs(uow: UnitOfWork) -> dict[str, Any]:
            if before_save is not None:
                before_save(uow)
            saved[:] = uow.receipts
            return {"receipts": uow.receipts} if uow.receipts else {}

        with self._write_lock:
            result = run_batch(self, commands, tracking=tracking, save_kwargs=save_kwargs, prefetch=prefetch)
            if result.position is None:
                result.position = self.recorder.max_notification_id() or 0
            if not hasattr(self.recorder, "select_receipts"):
                self._memory_receipts.update(saved)
            return result

    def _run(self, command: Command) -> tuple[Any, int]:
        result = self.execute([command])
        return result.single(), result.position or 0

    def receipts_seen(self, keys: list[str]) -> set[str]:
        select = getattr(self.recorder, "select_receipts", None)
        if select is not None:
            return set(select(keys)) if keys else set()
        return {k for k in keys if k in self._memory_receipts}

    def ingest(self, envelopes: list[ingest.Envelope], meta_for: Any, *, tracking: Tracking | None = None,
               before_save: Callable[[list[tuple[int, errors.DomainError]]], None] | None = None) -> BatchResult:
        """Apply validated envelopes in one transaction. ``meta_for(envelope)`` gives the
        provenance. Results are a contact id, a ``Duplicate`` or a DomainError each.

        ``before_save(refusals)`` gets ``[(index, error)]`` right before that transaction
        (and its tracking record) is written, so a caller can first put the refused
        envelopes somewhere durable (the Kafka dead-letter topic); if it raises, nothing
        is stored. It may be called again when a conflict replays the batch.

        Receipts are looked up before the batch runs only in memory, and for a while after
        duplicates came: otherwise the receipts' primary key meets a duplicate as the batch
        is saved, and the batch replays, looking its receipts up first. An index probe per
        envelope (~3 % of the write path, bench B1) is then spent only where duplicates
        come, which upstream systems send rarely but, once they do, often in a run."""
        looked_up = self._receipts_first > 0 or not hasattr(self.recorder, "select_receipts")
        self._receipts_first = max(self._receipts_first - 1, 0)
        seen_before = self.receipts_seen([e.receipt for e in envelopes]) if looked_up else set()
        in_batch: set[str] = set()
        commands: list[Command] = []
        for envelope in envelopes:
            if envelope.receipt in seen_before:
                commands.append(lambda uow: ingest.Duplicate())
                continue
            command: Command = partial(_ingest_one, envelope, meta_for(envelope))
            if envelope.receipt in in_batch:
                # A repeat within the batch is a duplicate only if the first one applied;
                # after a refusal it is applied on its own, as if it came in a later batch.
                command = partial(_unless_applied, envelope.receipt, command)
            in_batch.add(envelope.receipt)
            commands.append(command)
        fresh = [e for e in envelopes if e.receipt in in_batch]

        def prefetch(uow: UnitOfWork) -> None:
            if uow.attempt:  # a replay: a duplicate, or another process, may have stored some since
                uow.seen = self.receipts_seen(list(in_batch))
            ingest.prefetch(uow, fresh)

        def settle(uow: UnitOfWork) -> None:
            """Right before the save. A refused envelope stored before is a duplicate, not a
            refusal: it recorded nothing, so it is reported as one without a replay (and is
            never dead-lettered). The receipts of the few refused are looked up for that."""
            refusals = [(i, r) for i, r in enumerate(uow.results) if isinstance(r, errors.DomainError)]
            if refusals and not looked_up and not uow.attempt:
                stored = self.receipts_seen([envelopes[i].receipt for i, _ in refusals])
                for i, _ in refusals:
                    if envelopes[i].receipt in stored:
                        uow.results[i] = ingest.Duplicate()
                refusals = [(i, r) for i, r in refusals if envelopes[i].receipt not in stored]
            if before_save is not None:
                before_save(refusals)

        result = self.execute(commands, tracking=tracking, receipts=in_batch, before_save=settle, prefetch=prefetch)
        if any(type(r) is ingest.Duplicate for r in result.results):
            self._receipts_first = self.RECEIPTS_FIRST_AFTER_DUPLICATES
        return result

    # -- contacts -----------------------------------------------------------------------

    def create_contact(self, domain: str, fields: dict[str, Any], variables: dict[str, Any], meta: Meta) -> tuple[Contact, int]:
        return self._run(lambda uow: handlers.create_contact(uow, domain, fields, variables, meta))

    def update_contact(self, domain: str, contact_id: UUID, fields: dict[str, Any], variables: dict[str, Any] | None, meta: Meta) -> tuple[Contact, int]:
        return self._run(lambda uow: handlers.update_contact(uow, handlers.contact(uow, domain, contact_id), fields, variables, meta))

    def set_avatar(self, domain: str, contact_id: UUID, url: str, meta: Meta) -> tuple[Contact, int]:
        return self.update_contact(domain, contact_id, {"avatarLink": values.avatar_link(url)}, None, meta)

    def set_variables(self, domain: str, contact_id: UUID, changes: dict[str, Any], meta: Meta) -> tuple[Contact, int]:
        return self.update_contact(domain, contact_id, {}, changes, meta)

    def remove_contact(self, domain: str, contact_id: UUID, meta: Meta) -> int:
        notes: list[str] = []

        def remove(uow: UnitOfWork) -> None:
            target = handlers.contact(uow, domain, contact_id)
            notes[:] = list(target.notes)
            handlers.remove_contact(uow, target, meta)

        position = self._run(remove)[1]
        # A removed contact's notes go with it, for good (as for delete_note).
        self.vault.shred(notes)
        return position

    def change_subscription(self, domain: str, contact_id: UUID, channel: str, status: str, meta: Meta, *,
                            confirmed: bool, address: str | None = None, reason: str | None = None) -> tuple[Contact, int]:
        return self._run(lambda uow: handlers.change_subscription(
            uow, handlers.contact(uow, domain, contact_id), channel, status, meta,
            confirmed=confirmed, address=address, reason=reason))

    def blacklist(self, domain: str, contact_id: UUID, channel: str, reason: str, meta: Meta) -> tuple[Contact, int]:
        values.channel(channel)
        values.blacklist_reason(reason)
        return self._run(lambda uow: _touch(handlers.contact(uow, domain, contact_id), "blacklist", channel, reason, meta))

    def unblacklist(self, domain: str, contact_id: UUID, channel: str, reason: str | None, meta: Meta) -> tuple[Contact, int]:
        values.channel(channel)
        return self._run(lambda uow: _touch(handlers.contact(uow, domain, contact_id), "unblacklist", channel, reason, meta))

    # -- notes --------------------------------------------------------------------------

    def add_note(self, domain: str, contact_id: UUID, text: str, author: str, meta: Meta,
                 idempotency_key: str | None = None) -> tuple[str, int]:
        note_id = str(uuid4()) if idempotency_key is None else handlers.keyed_note_id(domain, idempotency_key)
        return self._run(lambda uow: handlers.add_note(uow, self.vault, handlers.contact(uow, domain, contact_id),
                                                       note_id, text, author, meta))

    def delete_note(self, domain: str, contact_id: UUID, note_id: str, meta: Meta) -> int:
        position = self._run(lambda uow: handlers.contact(uow, domain, contact_id).delete_note(note_id, meta))[1]
        # The event is stored first; a crash before this line is healed by the profile
        # projection, which shreds the pads of deleted notes as it applies them.
        self.vault.shred([note_id])
        return position

    def read_note(self, note_id: str, sealed_text: str) -> str | None:
        return self.vault.unseal(note_id, sealed_text)

    # -- templates and messages ---------------------------------------------------------

    def create_template(self, domain: str, channel: str, name: str, subject: str, body: str,
                        bodies: dict[str, str], meta: Meta) -> tuple[Template, int]:
        return self._run(lambda uow: handlers.create_template(uow, domain, channel, name, subject, body, bodies, meta))

    def revise_template(self, domain: str, template_id: UUID, subject: str, body: str,
                        bodies: dict[str, str], meta: Meta) -> tuple[Template, int]:
        """New content for a template; it is a draft again until approved (additive)."""
        return self._run(lambda uow: handlers.revise_template(uow, domain, template_id, subject, body, bodies, meta))

    def approve_template(self, domain: str, template_id: UUID, meta: Meta) -> tuple[Template, int]:
        return self._run(lambda uow: _touch(handlers.template(uow, domain, template_id), "approve", meta))

    def send_message(self, domain: str, contact_id: UUID, channel: str, template_id: UUID, meta: Meta,
                     idempotency_key: str | None = None) -> tuple[Message, int]:
        """A render may take up to its deadline (seconds, for a bad template): under the
        write lock it would hold up every other write of this process, Kafka ingest
        included. So the send runs twice: once under the lock, saving nothing, to check
        it and note what it renders; the renders then run outside the lock; and the send
        that is saved reuses them when it asks for the very same renders (a change to
        the contact or template in between makes it render afresh). An
        ``idempotency_key`` that names a send already made answers with that message."""
        message_id = None if idempotency_key is None else handlers.keyed_message_id(domain, idempotency_key)

        def send(render: rendering.Render) -> Command:
            return lambda uow: handlers.send_message(uow, domain, contact_id, channel, template_id, meta,
                                                     message_id=message_id, render=render)

        planned = _PlannedRenders(self.render)
        with self._write_lock:
            try:
                send(planned.note)(UnitOfWork(self))
            except errors.DomainError:
                # Refused on what this process has cached: the send below decides, and
                # re-reads first what another process may have changed meanwhile.
                planned.forget()
        planned.render()
        return self._run(send(planned.reuse))

    def resend_message(self, domain: str, contact_id: UUID, message_id: UUID, meta: Meta,
                       idempotency_key: str | None = None) -> tuple[Message, int]:
        """An ``idempotency_key`` that names a resend already made answers with that message."""
        keyed = None if idempotency_key is None else handlers.keyed_message_id(domain, idempotency_key)
        return self._run(lambda uow: handlers.resend_message(uow, domain, contact_id, message_id, meta, keyed))

    # -- segments and time --------------------------------------------------------------

    def define_segment(self, domain: str, name: str, condition: Any, meta: Meta) -> tuple[Segment, int]:
        values.domain_slug(domain)
        return self._run(lambda uow: uow.add(Segment.define(domain, name, condition, meta)))

    def redefine_segment(self, domain: str, segment_id: UUID, name: str, condition: Any, meta: Meta) -> tuple[Segment, int]:
        return self._run(lambda uow: _touch(handlers.segment(uow, domain, segment_id), "redefine", name, condition, meta))

    def delete_segment(self, domain: str, segment_id: UUID, meta: Meta) -> int:
        return self._run(lambda uow: handlers.segment(uow, domain, segment_id).delete(meta))[1]

    def tick(self, meta: Meta) -> int:
        return self._run(lambda uow: handlers.tick(uow, meta))[1]

    # -- write-side look-ups ------------------------------------------------------------

    def contact(self, domain: str, contact_id: UUID) -> Contact:
        with self._write_lock:
            return handlers.contact(UnitOfWork(self), domain, contact_id)


class _PlannedRenders:
    """The renders a send asks for, noted first and run later (``send_message``). A
    render's refusal is kept and raised when the send asks for that render again, inside
    the batch, so a refusal resting on stale state is retried as any other."""

    def __init__(self, render: rendering.Render) -> None:
        self._render = render
        self._noted: list[tuple[Any, ...]] = []
        self._done: list[tuple[tuple[Any, ...], str | errors.DomainError]] = []

    def note(self, source: str, context: dict[str, Any], *, timezone: str | None, now: Any, html: bool) -> str:
        self._noted.append((source, context, timezone, now, html))
        return ""

    def forget(self) -> None:
        self._noted = []

    def render(self) -> None:
        """Run the noted renders in order, up to the first refused (the send stops there)."""
        for args in self._noted:
            try:
                output: str | errors.DomainError = self._call(*args)
            except errors.DomainError as refusal:
                output = refusal.with_traceback(None)
            self._done.append((args, output))
            if isinstance(output, errors.DomainError):
                break

    def reuse(self, source: str, context: dict[str, Any], *, timezone: str | None, now: Any, html: bool) -> str:
        args = (source, context, timezone, now, html)
        for done, output in self._done:
            if done == args:
                if isinstance(output, errors.DomainError):
                    raise output
                return output
        return self._call(*args)

    def _call(self, source: str, context: dict[str, Any], timezone: str | None, now: Any, html: bool) -> str:
        return self._render(source, context, timezone=timezone, now=now, html=html)


def _touch(aggregate: Any, command: str, *args: Any) -> Any:
    getattr(aggregate, command)(*args)
    return aggregate


def _unless_applied(receipt: str, command: Command, uow: UnitOfWork) -> Any:
    return ingest.Duplicate() if receipt in uow.receipts else command(uow)


def _ingest_one(envelope: ingest.Envelope, meta: Meta, uow: UnitOfWork) -> UUID | ingest.Duplicate:
    # The unit of work comes last: the batch calls ``partial(_ingest_one, envelope, meta)``
    # with it, and positional arguments are cheaper to join than keywords (one per envelope).
    if envelope.receipt in uow.seen:  # stored meanwhile, found as the batch replayed
        return ingest.Duplicate()
    contact_id = ingest.apply(uow, envelope, meta)
    uow.receipts.append(envelope.receipt)
    return contact_id


__all__ = ["ContactProfiles", "errors"]
