"""The projection tables of a bulk rebuild, held in memory while the log streams past.

A rebuild writes each row of the append-only tables (feed, consents, segment history)
once, and every other table once at the end, instead of reading and rewriting documents
and memberships batch after batch. The per-event logic is the live path's own
(``profile.project``, ``activity.rows``, ``segments.evaluate_changes``); only where the
rows live differs. Segment back-fills (definitions, clock ticks) evaluate the same
conditions in Python over the documents here, as the live path's SQL does over its tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from domain.conditions import is_time_relative
from projections.activity import projection as activity
from projections.batch import Batch
from projections.events import Fact
from projections.profile import projection as profile
from projections.segments import evaluate
from projections.segments import projection as segments

Sink = Callable[[tuple[Any, ...]], None]  # appends one row to a streamed table


class MemoryTables:
    def __init__(self, *, feed: Sink | None, consents: Sink, history: Sink, counted: set[str]) -> None:
        self.feed, self.consents, self.history = feed, consents, history
        self.counted = counted  # activity names some segment of the log counts: only those are kept
        self.docs: dict[str, dict[str, Any]] = {}
        self.by_domain: dict[str, set[str]] = defaultdict(set)
        self.domains: dict[str, int] = {}
        self.templates: dict[str, list[Any]] = {}
        self.notes: dict[str, tuple[Any, ...]] = {}
        self.notes_of: dict[str, set[str]] = defaultdict(set)
        self.shredded: list[str] = []
        self.definitions: dict[str, list[Any]] = {}  # id -> [domain, name, conditions, created_at, updated_at, position]
        self.compiled: dict[str, segments.Compiled] = {}
        self.listed: dict[str, list[segments.Listed]] = {}  # domain -> its segments
        self.member: dict[tuple[str, str], bool] = {}
        self.members: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)  # segment -> contact -> (domain, since)
        # contact -> its counted activities. The live path matches the feed's domain with the
        # contact's; an activity is only ever recorded in its contact's domain.
        self.activity: dict[str, segments.ActivityRows] = defaultdict(list)

    # -- a run of ordinary events ------------------------------------------------------

    def apply(self, batch: Batch) -> None:
        if len(batch.facts) == 1 and batch.facts[0].kind in segments.BARRIERS:
            self._barrier(batch.facts[0])
            return
        out = profile.project(batch, self.docs)
        self._profile(out)
        feed = self.feed
        if feed is not None:  # else a process of its own writes it (``activity.bulk``)
            for row in activity.rows(batch):
                feed(row)
        if self.counted:
            for fact in batch.facts:
                if fact.kind == "Activity.Recorded" and fact.data["name"] in self.counted:
                    self.activity[fact.data["contact_id"]].append(
                        (fact.data["name"], fact.when, fact.position))
        listed = self.listed
        changes = [c for c in batch.changes if c.domain in listed]
        if changes:
            history, _ = segments.evaluate_changes(changes, listed, self.member, self.activity)
            self._record(history)

    def _profile(self, out: profile.Outcome) -> None:
        for cid in out.touched:
            doc = self.docs.get(cid)
            if doc is not None:
                self.by_domain[doc["domain"]].add(cid)
        for domain, delta in out.domain_delta.items():
            self.domains[domain] = self.domains.get(domain, 0) + delta
        for row in out.consents:
            self.consents(row)
        for row in out.notes_added:
            self.notes[row[0]] = row
            self.notes_of[row[1]].add(row[0])
        deleted = list(out.notes_deleted)
        for cid in sorted(out.removed):
            for domain_contacts in self.by_domain.values():
                domain_contacts.discard(cid)
            deleted += sorted(self.notes_of.pop(cid, ()))
        for note_id in deleted:
            row = self.notes.pop(note_id, None)
            if row is not None:
                self.notes_of[row[1]].discard(note_id)
        self.shredded += deleted
        for fact in out.templates:
            self._template(fact)

    def _template(self, fact: Fact) -> None:
        data, row = fact.data, self.templates.get(fact.originator_id)
        if fact.kind == "Template.Created":
            if row is None:
                self.templates[fact.originator_id] = [
                    data["domain"], data["channel"], data["name"], data["subject"], data["body"],
                    orjson.dumps(data.get("bodies") or {}).decode(), "draft", fact.at, fact.at, fact.position]
        elif row is not None and fact.kind == "Template.Revised":  # a draft again until approved
            row[3:10] = [data["subject"], data["body"], orjson.dumps(data.get("bodies") or {}).decode(), "draft",
                         row[7], fact.at, fact.position]
        elif row is not None and fact.kind == "Template.Approved":
            row[6], row[8], row[9] = "approved", fact.at, fact.position

    def _record(self, history: list[tuple[Any, ...]]) -> None:
        """Membership follows its history rows, in order (latest entry gives ``since``)."""
        members, member = self.members, self.member
        for row in history:
            if row[5] == "entered":
                members[row[1]][row[4]] = (row[3], row[6])
            else:
                members[row[1]].pop(row[4], None)
            self.history(row)
        for row in history:  # the evaluator's view of who is inside, kept equal to ``members``
            if row[4] in members[row[1]]:
                member[(row[1], row[4])] = True
            else:
                member.pop((row[1], row[4]), None)

    # -- barriers: definitions and clock ticks, as ``segments._barrier`` does in SQL -----

    def _barrier(self, fact: Fact) -> None:
        data, sid = fact.data, fact.originator_id
        if fact.kind == "Segment.Defined":
            if sid not in self.definitions:
                self.definitions[sid] = [data["domain"], data["name"], data["conditions"], fact.at, fact.at,
                                         fact.position]
                self._definitions_changed()
            self._backfill(sid, fact)
        elif fact.kind == "Segment.Redefined":
            row = self.definitions.get(sid)
            if row is not None:
                row[1], row[2], row[4], row[5] = data["name"], data["conditions"], fact.at, fact.position
                self._definitions_changed()
            self._backfill(sid, fact)
        elif fact.kind == "Segment.Deleted":
            row = self.definitions.pop(sid, None)
            if row is not None:
                self._record([(segments.history_id(sid, cid, fact.position), sid, row[1], domain, cid, "exited",
                                fact.at, fact.position) for cid, (domain, _) in list(self.members[sid].items())])
            self.members.pop(sid, None)
            self._definitions_changed()
        else:  # a clock tick
            for sid in sorted(s for s, row in self.definitions.items() if is_time_relative(row[2])):
                self._backfill(sid, fact)

    def _definitions_changed(self) -> None:
        self.compiled = {sid: segments.compile_segment(row[2]) for sid, row in self.definitions.items()}
        listed: dict[str, list[segments.Listed]] = defaultdict(list)
        for sid, row in self.definitions.items():
            predicate, _, names = self.compiled[sid]
            listed[row[0]].append((sid, row[1], predicate, names))
        self.listed = dict(listed)

    def _backfill(self, sid: str, fact: Fact) -> None:
        row = self.definitions.get(sid)
        if row is None:
            return
        domain, name = row[0], row[1]
        predicate = self.compiled[sid][0]
        now, position, docs, rows = fact.when, fact.position, self.docs, self.activity
        matched = {cid for cid in self.by_domain.get(domain, ())
                   if predicate(docs[cid], evaluate.counter(rows.get(cid, ()), position, now), now)}
        current = set(self.members[sid])
        history = [(segments.history_id(sid, cid, position), sid, name, domain, cid, "entered", fact.at, position)
                   for cid in sorted(matched - current)]
        history += [(segments.history_id(sid, cid, position), sid, name, domain, cid, "exited", fact.at, position)
                    for cid in sorted(current - matched)]
        self._record(history)

    # -- the end state of the other tables ---------------------------------------------

    def contact_rows(self) -> Iterator[tuple[Any, ...]]:
        return (profile.contact_row(cid, doc) for cid, doc in self.docs.items())

    def domain_rows(self) -> list[tuple[Any, ...]]:
        return sorted(self.domains.items())

    def template_rows(self) -> list[tuple[Any, ...]]:
        return [(tid, *row) for tid, row in self.templates.items()]

    def note_rows(self) -> list[tuple[Any, ...]]:
        return list(self.notes.values())

    def definition_rows(self) -> list[tuple[Any, ...]]:
        return [(sid, domain, name, orjson.dumps(conditions).decode(), is_time_relative(conditions),
                 len(self.members.get(sid, ())),
                 created, updated, position)
                for sid, (domain, name, conditions, created, updated, position) in self.definitions.items()]

    def member_rows(self) -> list[tuple[Any, ...]]:
        return [(sid, cid, domain, since) for sid, listed in self.members.items()
                for cid, (domain, since) in listed.items()]
