"""Typed refusals of the domain.

Each error carries a stable machine ``code`` (the contract of DESIGN §4) and an HTTP-ish
``status`` hint, so one handler in the API and one in the Kafka consumer can map every
refusal without a table of their own.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 409
    title = "Request refused"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class InvalidInput(DomainError):
    code = "validation_error"
    status = 422
    title = "Invalid input"


class InvalidDomain(InvalidInput):
    code = "invalid_domain"
    title = "Invalid domain"


class InvalidCondition(InvalidInput):
    code = "invalid_condition"
    title = "Invalid segment condition"


class InvalidTemplate(InvalidInput):
    code = "invalid_template"
    title = "Invalid template"


class ReadOnlyField(InvalidInput):
    code = "read_only_field"
    title = "Field is read-only"


class ChannelNotSendable(InvalidInput):
    code = "channel_not_sendable"
    title = "Messages cannot be sent on this channel"


class TemplateChannelMismatch(InvalidInput):
    code = "template_channel_mismatch"
    title = "Template is for another channel"


class NotAMessage(InvalidInput):
    code = "not_a_message"
    title = "Activity entry is not a message"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class ContactNotFound(NotFound):
    code = "contact_not_found"
    title = "Contact not found"


class TemplateNotFound(NotFound):
    code = "template_not_found"
    title = "Template not found"


class SegmentNotFound(NotFound):
    code = "segment_not_found"
    title = "Segment not found"


class NoteNotFound(NotFound):
    code = "note_not_found"
    title = "Note not found"


class MessageNotFound(NotFound):
    code = "message_not_found"
    title = "Message not found"


class IdentifierTaken(DomainError):
    code = "identifier_taken"
    title = "Identifier already belongs to another contact"


class IdentifierConflict(DomainError):
    code = "identifier_conflict"
    title = "Identifiers point at different contacts"


class NoPriorSubscription(DomainError):
    code = "no_prior_subscription"
    title = "Channel was never subscribed by the contact"


class Blacklisted(DomainError):
    code = "blacklisted"
    title = "Channel is blacklisted"


class NotSubscribed(DomainError):
    code = "not_subscribed"
    title = "Channel is not subscribed"


class NoAddress(DomainError):
    code = "no_address"
    title = "Channel has no address"


class TemplateNotApproved(DomainError):
    code = "template_not_approved"
    title = "Template is not approved"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    title = "Idempotency key already used for another request"


class NotesLimit(DomainError):
    code = "notes_limit"
    title = "A contact has at most five notes"


class ConfirmationRequired(DomainError):
    code = "confirmation_required"
    status = 428
    title = "Confirmation required"


class DuplicateEvent(DomainError):
    code = "duplicate_event"
    title = "Event already applied"
