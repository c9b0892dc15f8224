"""What each command does, as functions of a unit of work.

Kept apart from the application class so one batch can mix commands for many contacts
(the Kafka consumer, ``POST /events``) and the single-command API path runs the very
same code.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from domain import errors, rendering, values
from domain.claim import IdentifierClaim, claim_id, claim_ids
from domain.clock import CLOCK_ID, Clock
from domain.contact import Contact
from domain.ids import NameIds
from domain.message import Message
from domain.meta import Meta
from domain.segment import Segment
from domain.template import Template
from domain.unit_of_work import UnitOfWork
from domain.vault import KEY_REUSED, NoteVault

# -- identifiers ---------------------------------------------------------------------


def normalise_identifiers(raw: dict[str, Any]) -> dict[str, str]:
    return {k: values.identifier(k, v) for k, v in raw.items() if v is not None and k in values.IDENTIFIER_KINDS}


def owner(uow: UnitOfWork, domain: str, kind: str, value: str) -> UUID | None:
    claim = uow.get(claim_id(domain, kind, value), IdentifierClaim)
    return claim.contact_id if claim else None


def _check_free(uow: UnitOfWork, domain: str, identifiers: dict[str, str], contact_id: UUID | None) -> None:
    for kind, value in identifiers.items():
        holder = owner(uow, domain, kind, value)
        if holder is not None and holder != contact_id:
            raise errors.IdentifierTaken(
                f"{kind} {value} already belongs to contact {holder}", existingId=str(holder), field=kind
            )


def _claim(uow: UnitOfWork, domain: str, kind: str, value: str, contact_id: UUID, meta: Meta) -> None:
    claim = uow.get(claim_id(domain, kind, value), IdentifierClaim)
    if claim is None:
        uow.add(IdentifierClaim.claim(domain, kind, value, contact_id, meta))
    elif claim.contact_id is None:
        claim.reclaim(contact_id, meta)
    elif claim.contact_id != contact_id:
        # Absent when _check_free looked, committed by a concurrent creator since: the
        # claim is theirs. Refusing here (after the contact was recorded) makes the batch
        # replay without this command; never save a contact whose identifier is unclaimed.
        raise errors.IdentifierTaken(
            f"{kind} {value} already belongs to contact {claim.contact_id}",
            existingId=str(claim.contact_id), field=kind,
        )


def _release(uow: UnitOfWork, domain: str, kind: str, value: str, meta: Meta) -> None:
    claim = uow.get(claim_id(domain, kind, value), IdentifierClaim)
    if claim is not None:
        claim.release(meta)


def resolve(uow: UnitOfWork, domain: str, identifiers: dict[str, str],
            claims: tuple[UUID, ...] | None = None) -> Contact | None:
    """Find the one contact the identifiers point at (DESIGN §3), never merging two.
    ``claims``: the ids of the identifiers' claims, in order, where the caller has them."""
    found = None
    if claims is None:
        claims = claim_ids(domain, identifiers)
    for claim_of in claims:
        claim = uow.get(claim_of, IdentifierClaim)
        holder = None if claim is None else claim.contact_id
        if holder is not None:
            if found is not None and holder.int != found.int:  # compared in C: UUID.__eq__ is a Python method
                raise errors.IdentifierConflict("the identifiers belong to different contacts")
            found = holder
    if found is None:
        return None
    contact = uow.get(found, Contact)
    if contact is None or contact.removed:
        return None
    for kind, value in identifiers.items():
        if contact.identifiers.get(kind) not in (None, value):
            raise errors.IdentifierConflict(f"{kind} differs from the contact's stored {kind}")
    return contact


# -- contacts ------------------------------------------------------------------------


def contact(uow: UnitOfWork, domain: str, contact_id: UUID) -> Contact:
    found = uow.get(contact_id, Contact)
    if found is None or found.domain != domain or found.removed:
        raise errors.ContactNotFound(f"contact {contact_id} not found")
    return found


_KNOWN_FIELDS = frozenset(values.IDENTIFIER_KINDS) | frozenset(values.INFO_FIELDS)


def _split_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    unknown = fields.keys() - _KNOWN_FIELDS
    if unknown:
        read_only = unknown & values.READ_ONLY_FIELDS
        if read_only:
            raise errors.ReadOnlyField(f"{', '.join(sorted(read_only))} cannot be changed")
        raise errors.InvalidInput(f"unknown fields {', '.join(sorted(unknown))}")
    identifiers = {k: fields[k] for k in values.IDENTIFIER_KINDS if k in fields}
    info = {k: values.info_field(k, fields[k]) for k in values.INFO_FIELDS if k in fields}
    return identifiers, info


def create_contact(
    uow: UnitOfWork, domain: str, fields: dict[str, Any], variables: dict[str, Any], meta: Meta,
    contact_id: UUID | None = None,
) -> Contact:
    values.domain_slug(domain)
    raw_identifiers, info = _split_fields(fields)
    identifiers = normalise_identifiers(raw_identifiers)
    variables = values.variables(variables)
    _check_free(uow, domain, identifiers, None)
    new = uow.add(Contact.create(domain, identifiers, info, variables, meta, contact_id=contact_id))
    for kind, value in identifiers.items():
        _claim(uow, domain, kind, value, new.id, meta)
    return new


def update_contact(
    uow: UnitOfWork, target: Contact, fields: dict[str, Any], variables: dict[str, Any] | None, meta: Meta
) -> Contact:
    raw_identifiers, info = _split_fields(fields)
    identifiers: dict[str, str | None] = {
        k: (None if v is None else values.identifier(k, v)) for k, v in raw_identifiers.items()
    }
    changed = {k: v for k, v in identifiers.items() if target.identifiers.get(k) != v}
    patch = values.variables(variables or {})
    _check_free(uow, target.domain, {k: v for k, v in changed.items() if v is not None}, target.id)
    before = dict(target.identifiers)
    target.update(changed, info, meta)
    for kind, value in changed.items():
        if before.get(kind) is not None:
            _release(uow, target.domain, kind, before[kind], meta)
        if value is not None:
            _claim(uow, target.domain, kind, value, target.id, meta)
    target.set_variables(patch, meta)
    return target


def remove_contact(uow: UnitOfWork, target: Contact, meta: Meta) -> None:
    identifiers = dict(target.identifiers)
    target.remove(meta)
    for kind, value in identifiers.items():
        _release(uow, target.domain, kind, value, meta)


def change_subscription(
    uow: UnitOfWork, target: Contact, channel: str, status: str, meta: Meta, *, confirmed: bool,
    address: str | None = None, reason: str | None = None, own_action: bool = False,
) -> Contact:
    values.channel(channel)
    values.status(status)
    if address is not None:
        address = {"email": values.email, "sms": values.phone}.get(channel, lambda a: values.short_text("address", a, 512))(address)
    target.change_subscription(
        channel, status, meta, confirmed=confirmed, address=address, reason=reason, own_action=own_action
    )
    return target


def add_note(uow: UnitOfWork, vault: NoteVault, target: Contact, note_id: str, text: str, author: str, meta: Meta) -> str:
    """Add the note, or find it: a retry with the same ``Idempotency-Key`` (the same
    ``note_id``) adds nothing again, and the same key with another note is refused."""
    values.note_text(text)
    author = values.short_text("author", author or "unknown", 200)
    target.ensure_present()
    if note_id in getattr(target, "deleted_notes", ()):  # absent from contacts snapshotted before it
        raise errors.IdempotencyKeyReused("the note this Idempotency-Key added was deleted since; "
                                          "use a new key to add it again")
    earlier = target.notes.get(note_id)
    if earlier is not None:
        if earlier["author"] != author or _unsealed(vault, note_id, earlier.get("sealed")) != text:
            raise errors.IdempotencyKeyReused(KEY_REUSED)
        return note_id
    target.check_note_room()
    target.add_note(note_id, vault.seal(note_id, text), author, meta)
    return note_id


def _unsealed(vault: NoteVault, note_id: str, sealed: str | None) -> str | None:
    try:
        return None if sealed is None else vault.unseal(note_id, sealed)
    except ValueError:  # not this pad's ciphertext (UnicodeDecodeError is one too)
        return None


def keyed_note_id(domain: str, key: str) -> str:
    """The id of the note an ``Idempotency-Key`` adds, so a retried request finds it."""
    return str(_keyed_note_ids(f"{domain}\x1f{key}"))


# -- templates, messages -------------------------------------------------------------


def template(uow: UnitOfWork, domain: str, template_id: UUID) -> Template:
    found = uow.get(template_id, Template)
    if found is None or found.domain != domain:
        raise errors.TemplateNotFound(f"template {template_id} not found")
    return found


def create_template(uow: UnitOfWork, domain: str, channel: str, name: str, subject: str, body: str,
                    bodies: dict[str, str], meta: Meta) -> Template:
    values.domain_slug(domain)
    values.channel(channel)
    if channel not in values.SENDABLE_CHANNELS:
        raise errors.ChannelNotSendable(f"no templates for {channel}: web push is not sent from a profile")
    name = values.short_text("name", name, 200)
    subject, body = values.template_text("subject", subject), values.template_text("body", body)
    if not isinstance(bodies, dict):
        raise errors.InvalidInput("bodies must map a language to a body")
    bodies = {values.language(k): values.template_text(f"bodies.{k}", v) for k, v in bodies.items()}
    return uow.add(Template.create(domain, channel, name, subject, body, bodies, meta))


def revise_template(uow: UnitOfWork, domain: str, template_id: UUID, subject: str, body: str,
                    bodies: dict[str, str], meta: Meta) -> Template:
    found = template(uow, domain, template_id)
    subject, body = values.template_text("subject", subject), values.template_text("body", body)
    if not isinstance(bodies, dict):
        raise errors.InvalidInput("bodies must map a language to a body")
    found.revise(subject, body, {values.language(k): values.template_text(f"bodies.{k}", v) for k, v in bodies.items()},
                 meta)
    return found


_keyed_ids = NameIds("https://contact-profiles/idempotency-key")
_keyed_note_ids = NameIds("https://contact-profiles/note-idempotency-key")


def keyed_message_id(domain: str, key: str) -> UUID:
    """The id of the message a send or resend with this ``Idempotency-Key`` creates: a
    retried request finds it instead of sending again (the event store allows one)."""
    return _keyed_ids(f"{domain}\x1f{key}")


def _sent_before(uow: UnitOfWork, message_id: UUID | None, domain: str, contact_id: UUID, *,
                 template_id: UUID | None = None, channel: str | None = None,
                 resend_of: UUID | None = None) -> Message | None:
    """The message a retried request already sent, or None. The same key on another
    request is refused: answering with the first request's message would hide that the
    second was never sent."""
    found = uow.get(message_id, Message) if message_id is not None else None
    if found is None:
        return None
    if (found.domain, found.contact_id, found.resend_of) != (domain, contact_id, resend_of) or (
            resend_of is None and (found.template_id, found.channel) != (template_id, channel)):
        raise errors.IdempotencyKeyReused("this Idempotency-Key was used for another send; use a new key per send")
    return found


def send_message(
    uow: UnitOfWork, domain: str, contact_id: UUID, channel: str, template_id: UUID, meta: Meta,
    message_id: UUID | None = None, render: rendering.Render = rendering.render,
) -> Message:
    """Checks in the order of DESIGN §4, first failure wins; a ``message_id`` already sent
    by the same request (a retry) is that message, sent once."""
    if (sent := _sent_before(uow, message_id, domain, contact_id, template_id=template_id, channel=channel)):
        return sent
    values.channel(channel)
    if channel not in values.SENDABLE_CHANNELS:
        raise errors.ChannelNotSendable(f"messages cannot be sent on {channel}")
    found = uow.get(template_id, Template)
    if found is not None and found.domain == domain and found.channel != channel:
        raise errors.TemplateChannelMismatch(f"template is for {found.channel}, not {channel}")
    chosen = template(uow, domain, template_id)
    target = contact(uow, domain, contact_id)
    chosen.check_sendable()
    address = target.check_sendable(channel)
    subject, body = chosen.render_for(
        target.render_context(), language=target.info.get("language"),
        timezone=target.info.get("timezone"), now=meta.occurred_at, render=render,
    )
    return uow.add(Message.send(message_id or uuid4(), domain, target.id, channel, address, chosen.id,
                                subject, body, meta))


def resend_message(uow: UnitOfWork, domain: str, contact_id: UUID, original_id: UUID, meta: Meta,
                   message_id: UUID | None = None) -> Message:
    if (sent := _sent_before(uow, message_id, domain, contact_id, resend_of=original_id)):
        return sent
    original = uow.get(original_id, Message)
    if original is None or original.domain != domain or original.contact_id != contact_id:
        raise errors.MessageNotFound(f"message {original_id} not found")
    target = contact(uow, domain, contact_id)
    address = target.check_sendable(original.channel)
    return uow.add(Message.send(message_id or uuid4(), domain, target.id, original.channel, address,
                                original.template_id, original.subject, original.body, meta, resend_of=original.id))


def record_message_status(uow: UnitOfWork, domain: str, target: Contact, message_id: UUID, status: str,
                          hard: bool, meta: Meta) -> Message:
    message = uow.get(message_id, Message)
    if message is None or message.domain != domain or message.contact_id != target.id:
        raise errors.MessageNotFound(f"message {message_id} not found for this contact")
    message.record_status(status, hard, meta)
    if status == "bounced" and hard:
        target.blacklist(message.channel, "hardBounce", meta)
    elif status == "complained":
        target.blacklist(message.channel, "complaint", meta)
    return message


# -- segments, clock -----------------------------------------------------------------


def segment(uow: UnitOfWork, domain: str, segment_id: UUID) -> Segment:
    found = uow.get(segment_id, Segment)
    if found is None or found.domain != domain or found.deleted:
        raise errors.SegmentNotFound(f"segment {segment_id} not found")
    return found


def tick(uow: UnitOfWork, meta: Meta) -> None:
    clock = uow.get(CLOCK_ID, Clock)
    if clock is None:
        uow.add(Clock.start(meta))
    else:
        clock.tick(meta)
