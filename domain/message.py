"""A message sent to a contact from an approved template, and what became of it.

The rendered subject and body are part of the ``Sent`` event, so a resend repeats
exactly what the person received, even if the template changed since.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.meta import Meta, Recorded, RecordedCreation, created, trigger

DELIVERY_STATUSES = ("delivered", "opened", "clicked", "bounced", "failed", "complained")


class Message(Aggregate):
    class Sent(RecordedCreation):
        domain: str
        contact_id: UUID
        channel: str
        address: str
        template_id: UUID
        subject: str
        body: str
        kind: str  # "sent" | "resent"
        resend_of: UUID | None

    def __init__(
        self,
        domain: str,
        contact_id: UUID,
        channel: str,
        address: str,
        template_id: UUID,
        subject: str,
        body: str,
        kind: str,
        resend_of: UUID | None,
        method: str,
        actor: str,
    ) -> None:
        self.domain = domain
        self.contact_id = contact_id
        self.channel = channel
        self.address = address
        self.template_id = template_id
        self.subject = subject
        self.body = body
        self.kind = kind
        self.resend_of = resend_of
        self.statuses: list[str] = []

    class StatusRecorded(Recorded):
        domain: str
        contact_id: UUID
        channel: str
        status: str
        hard: bool

        def apply(self, message: Message) -> None:  # type: ignore[override]
            message.statuses.append(self.status)

    @classmethod
    def send(
        cls,
        message_id: UUID,
        domain: str,
        contact_id: UUID,
        channel: str,
        address: str,
        template_id: UUID,
        subject: str,
        body: str,
        meta: Meta,
        resend_of: UUID | None = None,
    ) -> Message:
        return created(
            cls, cls.Sent, message_id, meta,
            domain=domain,
            contact_id=contact_id,
            channel=channel,
            address=address,
            template_id=template_id,
            subject=subject,
            body=body,
            kind="resent" if resend_of else "sent",
            resend_of=resend_of,
        )

    def record_status(self, status: str, hard: bool, meta: Meta) -> None:
        trigger(self, self.StatusRecorded, meta, domain=self.domain, contact_id=self.contact_id, channel=self.channel,
                status=status, hard=hard)
