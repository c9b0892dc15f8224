"""The contact: one person in a domain's Default Contact List.

Commands check their rule first and only then trigger the event, so a refused command
leaves the aggregate untouched (the batch unit of work relies on that).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import errors, values
from domain.meta import Meta, Recorded, RecordedCreation, created, trigger

MAX_NOTES = 5


# Each contact's channels start from copies of this one (a copy is made in C, where a
# function building the literal was a Python call per channel, five per new contact).
_BLANK_SUBSCRIPTION: dict[str, Any] = {
    "status": "none",
    "address": None,
    "blacklisted": False,
    "blacklistReason": None,
    "blacklistedAt": None,
    "changedAt": None,
    "everSubscribed": False,
}


def _same(old: Any, new: Any) -> bool:
    """Equal and of one type: ``True == 1 == 1.0`` in Python, but a variable changing
    from the number 1 to the boolean true is a change."""
    return type(old) is type(new) and old == new


class Contact(Aggregate):
    class Created(RecordedCreation):
        domain: str
        identifiers: dict[str, str]
        info: dict[str, Any]
        variables: dict[str, Any]

    def __init__(
        self,
        domain: str,
        identifiers: dict[str, str],
        info: dict[str, Any],
        variables: dict[str, Any],
        method: str,
        actor: str,
    ) -> None:
        self.domain = domain
        self.identifiers: dict[str, str] = dict(identifiers)
        self.info: dict[str, Any] = {k: v for k, v in info.items() if v is not None}
        self.variables: dict[str, Any] = {k: v for k, v in variables.items() if v is not None}
        self.subscriptions = {c: _BLANK_SUBSCRIPTION.copy() for c in values.CHANNELS}
        self.notes: dict[str, dict[str, Any]] = {}
        self.deleted_notes: list[str] = []
        self.removed = False
        self.created_method = method
        self.updated_method = method
        self.updated_at: datetime = self.created_on
        for kind in ("email", "phoneNumber"):
            if kind in self.identifiers:
                self.subscriptions["email" if kind == "email" else "sms"]["address"] = (
                    self.identifiers[kind]
                )

    # -- events ---------------------------------------------------------------------

    class Event(Recorded):
        def apply(self, aggregate: Contact) -> None:  # type: ignore[override]
            aggregate.updated_at = self.timestamp
            aggregate.updated_method = self.method
            self.apply_to(aggregate)

        def apply_to(self, contact: Contact) -> None:
            """The event's own effect; the base records who touched the profile when."""

    class Updated(Event):
        identifiers: dict[str, str | None]
        info: dict[str, Any]

        def apply_to(self, contact: Contact) -> None:
            for kind, value in self.identifiers.items():
                if value is None:
                    contact.identifiers.pop(kind, None)
                else:
                    contact.identifiers[kind] = value
                channel = {"email": "email", "phoneNumber": "sms"}.get(kind)
                if channel:
                    contact.subscriptions[channel]["address"] = value
            for name, value in self.info.items():
                if value is None:
                    contact.info.pop(name, None)
                else:
                    contact.info[name] = value

    class VariablesChanged(Event):
        variables: dict[str, Any]

        def apply_to(self, contact: Contact) -> None:
            for name, value in self.variables.items():
                if value is None:
                    contact.variables.pop(name, None)
                else:
                    contact.variables[name] = value

    class Removed(Event):
        def apply_to(self, contact: Contact) -> None:
            contact.removed = True

    class SubscriptionChanged(Event):
        channel: str
        status: str
        previous_status: str
        address: str | None
        reason: str | None

        def apply_to(self, contact: Contact) -> None:
            sub = contact.subscriptions[self.channel]
            sub["status"] = self.status
            sub["address"] = self.address
            sub["changedAt"] = self.timestamp.isoformat()
            if self.status == "subscribed":
                sub["everSubscribed"] = True

    class Blacklisted(Event):
        channel: str
        reason: str

        def apply_to(self, contact: Contact) -> None:
            sub = contact.subscriptions[self.channel]
            sub["blacklisted"] = True
            sub["blacklistReason"] = self.reason
            sub["blacklistedAt"] = self.timestamp.isoformat()

    class Unblacklisted(Event):
        channel: str
        reason: str | None

        def apply_to(self, contact: Contact) -> None:
            sub = contact.subscriptions[self.channel]
            sub["blacklisted"] = False
            sub["blacklistReason"] = None
            sub["blacklistedAt"] = None

    class NoteAdded(Event):
        note_id: str
        sealed_text: str  # ciphertext; the key lives in the vault (rule 5)
        author: str

        def apply_to(self, contact: Contact) -> None:
            contact.notes[self.note_id] = {
                "author": self.author,
                "createdAt": self.timestamp.isoformat(),
                "sealed": self.sealed_text,  # a retry with the same Idempotency-Key compares texts
            }

    class NoteDeleted(Event):
        note_id: str

        def apply_to(self, contact: Contact) -> None:
            contact.notes.pop(self.note_id, None)
            # Kept so a late retry of the keyed request that added it does not add it
            # back. A contact snapshotted before this list existed starts one here.
            vars(contact).setdefault("deleted_notes", []).append(self.note_id)

    # -- commands -------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        domain: str,
        identifiers: dict[str, str],
        info: dict[str, Any],
        variables: dict[str, Any],
        meta: Meta,
        contact_id: UUID | None = None,
    ) -> Contact:
        if not identifiers:
            raise errors.InvalidInput("a contact needs a userId, email or phoneNumber")
        return created(
            cls, cls.Created, contact_id, meta,
            domain=domain,
            identifiers=identifiers,
            info={k: v for k, v in info.items() if v is not None},
            variables={k: v for k, v in variables.items() if v is not None},
        )

    def ensure_present(self) -> None:
        if self.removed:
            raise errors.ContactNotFound(f"contact {self.id} was removed")

    def update(
        self, identifiers: dict[str, str | None], info: dict[str, Any], meta: Meta
    ) -> None:
        self.ensure_present()
        identifiers = {k: v for k, v in identifiers.items() if self.identifiers.get(k) != v}
        info = {k: v for k, v in info.items() if self.info.get(k) != v}
        remaining = {k for k in self.identifiers if identifiers.get(k, "") is not None}
        remaining |= {k for k, v in identifiers.items() if v is not None}
        if not remaining:
            raise errors.InvalidInput("a contact needs at least one identifier")
        if identifiers or info:
            trigger(self, self.Updated, meta, identifiers=identifiers, info=info)

    def set_variables(self, changes: dict[str, Any], meta: Meta) -> None:
        self.ensure_present()
        changes = {
            k: v
            for k, v in changes.items()
            if (v is None and k in self.variables) or (v is not None and not _same(self.variables.get(k, ...), v))
        }
        if changes:
            trigger(self, self.VariablesChanged, meta, variables=changes)

    def remove(self, meta: Meta) -> None:
        self.ensure_present()
        trigger(self, self.Removed, meta)

    def change_subscription(
        self,
        channel: str,
        status: str,
        meta: Meta,
        *,
        confirmed: bool,
        address: str | None = None,
        reason: str | None = None,
        own_action: bool = False,
    ) -> None:
        """``own_action`` marks an opt-in/out by the person (Kafka ``subscription.changed``),
        which may subscribe an opt-in-only channel for the first time."""
        self.ensure_present()
        if not confirmed:
            raise errors.ConfirmationRequired(
                "changing a subscription needs an explicit confirmation (confirm: true)"
            )
        sub = self.subscriptions[channel]
        given = address
        address = address or sub["address"] or self._own_address(channel)
        if status == "subscribed":
            if sub["blacklisted"]:
                raise errors.Blacklisted(
                    f"{channel} is blacklisted ({sub['blacklistReason']}); remove it from the "
                    "blacklist first"
                )
            if channel in values.OPT_IN_ONLY_CHANNELS and not own_action:
                if not sub["everSubscribed"]:
                    raise errors.NoPriorSubscription(
                        f"{channel} can only be re-subscribed after the contact subscribed it before"
                    )
                if given is not None and given != sub["address"]:
                    # The address must be the one the person opted in with, not one typed in.
                    raise errors.NoPriorSubscription(
                        f"{channel} can only be re-subscribed with the address the contact opted in with"
                    )
            if not address:
                raise errors.NoAddress(f"{channel} has no address to subscribe")
        if sub["status"] == status and sub["address"] == address:
            return
        trigger(self, self.SubscriptionChanged, meta, channel=channel, status=status, previous_status=sub["status"],
                address=address, reason=reason)

    def _own_address(self, channel: str) -> str | None:
        kind = {"email": "email", "sms": "phoneNumber"}.get(channel)
        return self.identifiers.get(kind) if kind else None

    def blacklist(self, channel: str, reason: str, meta: Meta) -> None:
        self.ensure_present()
        sub = self.subscriptions[channel]
        if sub["blacklisted"] and sub["blacklistReason"] == reason:
            return
        trigger(self, self.Blacklisted, meta, channel=channel, reason=reason)

    def unblacklist(self, channel: str, reason: str | None, meta: Meta) -> None:
        self.ensure_present()
        if not self.subscriptions[channel]["blacklisted"]:
            return
        trigger(self, self.Unblacklisted, meta, channel=channel, reason=reason)

    def add_note(self, note_id: str, sealed_text: str, author: str, meta: Meta) -> None:
        self.ensure_present()
        self.check_note_room()
        trigger(self, self.NoteAdded, meta, note_id=note_id, sealed_text=sealed_text, author=author)

    def check_note_room(self) -> None:
        if len(self.notes) >= MAX_NOTES:
            raise errors.NotesLimit(f"a contact has at most {MAX_NOTES} notes; delete one first")

    def delete_note(self, note_id: str, meta: Meta) -> None:
        self.ensure_present()
        if note_id not in self.notes:
            raise errors.NoteNotFound(f"note {note_id} not found")
        trigger(self, self.NoteDeleted, meta, note_id=note_id)

    def check_sendable(self, channel: str) -> str:
        """Rule 2 and 3: only a subscribed, non-blacklisted channel gets messages."""
        self.ensure_present()
        sub = self.subscriptions[channel]
        if sub["blacklisted"]:
            raise errors.Blacklisted(f"{channel} is blacklisted ({sub['blacklistReason']})")
        if sub["status"] != "subscribed" or not sub["address"]:
            raise errors.NotSubscribed(f"{channel} is not subscribed")
        return sub["address"]

    def render_context(self) -> dict[str, Any]:
        return {
            **{k: self.identifiers.get(k) for k in values.IDENTIFIER_KINDS},
            **{k: self.info.get(k) for k in values.INFO_FIELDS},
            "variables": dict(self.variables),
        }
