"""Applies a run of events to the profile tables: documents, domain counts, templates,
consent history and sealed notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from psycopg import Cursor

from projections.batch import Batch, Change
from projections.copying import STAGING_CONTACTS, copy_rows
from projections.events import Fact, topics
from projections.profile import document

TOPICS = topics(
    "Contact.Created", "Contact.Updated", "Contact.VariablesChanged", "Contact.Removed",
    "Contact.SubscriptionChanged", "Contact.Blacklisted", "Contact.Unblacklisted",
    "Contact.NoteAdded", "Contact.NoteDeleted", "Template.Created", "Template.Revised", "Template.Approved",
    "Activity.Recorded",
)
CONTACT_COLUMNS = ("id", "domain", "user_id", "email", "phone", "created_at", "version", "position", "doc")
CONSENT_COLUMNS = ("contact_id", "version", "domain", "channel", "status", "previous_status", "address",
                    "reason", "method", "actor", "occurred_at", "position")


def _load(cur: Cursor[Any], view: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    cur.execute(f"SELECT id::text, doc FROM {view}.profile_contacts WHERE id = ANY(%s::uuid[])", (ids,))
    return {row[0]: row[1] for row in cur.fetchall()}


@dataclass(slots=True)
class Outcome:
    """What a run of events changed in the profile tables, for one of the two writers:
    the live path's SQL below, or a bulk rebuild's in-memory tables (``projections.rebuild``)."""

    touched: set[str] = field(default_factory=set)  # contacts whose document changed
    removed: set[str] = field(default_factory=set)
    domain_delta: dict[str, int] = field(default_factory=dict)
    consents: list[tuple[Any, ...]] = field(default_factory=list)
    notes_added: list[tuple[Any, ...]] = field(default_factory=list)
    notes_deleted: list[str] = field(default_factory=list)
    templates: list[Fact] = field(default_factory=list)


def wanted(batch: Batch) -> set[str]:
    """The stored documents a run of events evolves."""
    ids = {f.originator_id for f in batch.facts if f.kind.startswith("Contact.") and f.kind != "Contact.Created"}
    ids |= {f.data["contact_id"] for f in batch.facts if f.kind == "Activity.Recorded"}
    return ids


def apply(cur: Cursor[Any], batch: Batch) -> None:
    view = batch.view
    docs = _load(cur, view, list(wanted(batch)))
    stored = set(docs)
    out = project(batch, docs)
    _write_contacts(cur, view, docs, out.touched, [cid for cid in out.removed if cid in stored])
    _write_domains(cur, view, out.domain_delta)
    if out.consents:
        copy_rows(cur, f"{view}.profile_consents", CONSENT_COLUMNS, out.consents)
    _write_notes(cur, batch, out.notes_added, out.notes_deleted, sorted(out.removed))
    _write_templates(cur, view, out.templates)


def project(batch: Batch, docs: dict[str, dict[str, Any]]) -> Outcome:
    """Evolve ``docs`` (contact id -> document; removed contacts are popped) through the
    run of events, note each contact change in ``batch.changes`` for the segments, and
    say what else to write. No I/O: both writers share this."""
    out = Outcome()
    touched, removed, domain_delta = out.touched, out.removed, out.domain_delta
    changes, domains = batch.changes, batch.domains
    for fact in batch.facts:
        kind = fact.kind
        if kind.startswith("Contact."):
            cid = fact.originator_id
            if kind == "Contact.Created":
                doc = document.created(fact)
                domain_delta[doc["domain"]] = domain_delta.get(doc["domain"], 0) + 1
                removed.discard(cid)
            else:
                previous = docs.get(cid)
                if previous is None:  # the contact was never projected: nothing to evolve
                    continue
                doc = document.evolve(previous, fact)
            domain = doc["domain"]
            domains[cid] = domain
            if kind == "Contact.Removed":
                docs.pop(cid, None)
                touched.discard(cid)
                removed.add(cid)
                domain_delta[domain] = domain_delta.get(domain, 0) - 1
                changes.append(Change(fact.position, fact.when, fact.at, domain, cid, None))
                continue
            docs[cid] = doc
            touched.add(cid)
            changes.append(Change(fact.position, fact.when, fact.at, domain, cid, doc))
            data = fact.data
            if kind == "Contact.SubscriptionChanged":
                out.consents.append((cid, fact.version, domain, data["channel"], data["status"],
                                     data["previous_status"], data["address"], data["reason"], data["method"],
                                     data["actor"], fact.at, fact.position))
            elif kind == "Contact.NoteAdded":
                out.notes_added.append((data["note_id"], cid, domain, data["author"], fact.at, data["sealed_text"],
                                        fact.position))
            elif kind == "Contact.NoteDeleted":
                out.notes_deleted.append(data["note_id"])
        elif kind == "Activity.Recorded":
            cid = fact.data["contact_id"]
            doc = docs.get(cid)
            domains.setdefault(cid, fact.data["domain"])
            if doc is not None:
                changes.append(Change(fact.position, fact.when, fact.at, doc["domain"], cid, doc, fact.data["name"]))
        else:
            out.templates.append(fact)
    return out


def _write_contacts(cur: Cursor[Any], view: str, docs: dict[str, dict[str, Any]], touched: set[str],
                    gone: list[str]) -> None:
    if gone:
        cur.execute(f"DELETE FROM {view}.profile_contacts WHERE id = ANY(%s::uuid[])", (gone,))
    rows = [contact_row(cid, d) for cid in touched if (d := docs.get(cid)) is not None]
    if not rows:
        return
    staging = STAGING_CONTACTS
    copy_rows(cur, staging, CONTACT_COLUMNS, rows)
    cur.execute(
        f"INSERT INTO {view}.profile_contacts SELECT * FROM {staging} "
        "ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, email = EXCLUDED.email, "
        "phone = EXCLUDED.phone, version = EXCLUDED.version, position = EXCLUDED.position, doc = EXCLUDED.doc")
    cur.execute(f"DELETE FROM {staging}")


def contact_row(cid: str, d: dict[str, Any]) -> tuple[Any, ...]:
    return (cid, d["domain"], d["userId"], d["email"], d["phoneNumber"], d["createdAt"], d["version"],
            d["position"], orjson.dumps(d).decode())


def _write_domains(cur: Cursor[Any], view: str, delta: dict[str, int]) -> None:
    if delta:
        cur.executemany(
            f"INSERT INTO {view}.profile_domains (domain, contacts) VALUES (%s, %s) "
            f"ON CONFLICT (domain) DO UPDATE SET contacts = {view}.profile_domains.contacts + EXCLUDED.contacts",
            sorted(delta.items()))


def _write_notes(cur: Cursor[Any], batch: Batch, added: list[tuple[Any, ...]], deleted: list[str],
                 removed_contacts: list[str]) -> None:
    view = batch.view
    if added:
        copy_rows(cur, f"{view}.profile_notes",
                  ("note_id", "contact_id", "domain", "author", "created_at", "sealed_text", "position"), added)
    if removed_contacts:  # a removed contact's notes go with it, texts included
        cur.execute(f"DELETE FROM {view}.profile_notes WHERE contact_id = ANY(%s::uuid[]) RETURNING note_id",
                    (removed_contacts,))
        deleted = deleted + [row[0] for row in cur.fetchall()]
    if deleted:
        cur.execute(f"DELETE FROM {view}.profile_notes WHERE note_id = ANY(%s)", (deleted,))
        # The application shreds the pad right after storing NoteDeleted; doing it again
        # here, in the projection's transaction, heals a crash between those two steps.
        cur.execute(f"DELETE FROM {batch.events}.profiles_note_pads WHERE note_id = ANY(%s)", (deleted,))


def _write_templates(cur: Cursor[Any], view: str, facts: list[Fact]) -> None:
    for fact in facts:  # few and in order: created before approved
        data = fact.data
        if fact.kind == "Template.Created":
            cur.execute(
                f"INSERT INTO {view}.profile_templates (id, domain, channel, name, subject, body, bodies, status, "
                "created_at, updated_at, position) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, 'draft', %s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (fact.originator_id, data["domain"], data["channel"], data["name"], data["subject"], data["body"],
                 orjson.dumps(data.get("bodies") or {}).decode(), fact.at, fact.at, fact.position))
        elif fact.kind == "Template.Revised":  # new content is a draft again until approved
            cur.execute(f"UPDATE {view}.profile_templates SET subject = %s, body = %s, bodies = %s::jsonb, "
                        "status = 'draft', updated_at = %s, position = %s WHERE id = %s",
                        (data["subject"], data["body"], orjson.dumps(data.get("bodies") or {}).decode(), fact.at,
                         fact.position, fact.originator_id))
        elif fact.kind == "Template.Approved":
            cur.execute(f"UPDATE {view}.profile_templates SET status = 'approved', updated_at = %s, position = %s "
                        "WHERE id = %s", (fact.at, fact.position, fact.originator_id))
