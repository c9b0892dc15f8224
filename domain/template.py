"""Message templates: drafted, then approved before anything is sent with them."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from domain import errors, rendering
from domain.meta import Meta, Recorded, RecordedCreation, created, trigger


class Template(Aggregate):
    class Created(RecordedCreation):
        domain: str
        channel: str
        name: str
        subject: str
        body: str
        bodies: dict[str, str]  # language -> body

    def __init__(
        self,
        domain: str,
        channel: str,
        name: str,
        subject: str,
        body: str,
        bodies: dict[str, str],
        method: str,
        actor: str,
    ) -> None:
        self.domain = domain
        self.channel = channel
        self.name = name
        self.subject = subject
        self.body = body
        self.bodies = dict(bodies)
        self.status = "draft"

    class Approved(Recorded):
        def apply(self, template: Template) -> None:  # type: ignore[override]
            template.status = "approved"

    class Revised(Recorded):
        """New content; a revised template is a draft again until someone approves it."""

        subject: str
        body: str
        bodies: dict[str, str]

        def apply(self, template: Template) -> None:  # type: ignore[override]
            template.subject = self.subject
            template.body = self.body
            template.bodies = dict(self.bodies)
            template.status = "draft"

    @classmethod
    def create(
        cls,
        domain: str,
        channel: str,
        name: str,
        subject: str,
        body: str,
        bodies: dict[str, str],
        meta: Meta,
    ) -> Template:
        if not name.strip():
            raise errors.InvalidInput("template name must not be empty")
        for source in (subject, body, *bodies.values()):
            rendering.check(source)
        return created(
            cls, cls.Created, None, meta,
            domain=domain,
            channel=channel,
            name=name.strip(),
            subject=subject,
            body=body,
            bodies=bodies,
        )

    def revise(self, subject: str, body: str, bodies: dict[str, str], meta: Meta) -> None:
        for source in (subject, body, *bodies.values()):
            rendering.check(source)
        if (subject, body, bodies) != (self.subject, self.body, self.bodies):
            trigger(self, self.Revised, meta, subject=subject, body=body, bodies=bodies)

    def approve(self, meta: Meta) -> None:
        if self.status != "approved":
            trigger(self, self.Approved, meta)

    def check_sendable(self) -> None:
        if self.status != "approved":
            raise errors.TemplateNotApproved(f"template {self.name!r} is a draft; approve it first")

    def render_for(self, context: dict[str, Any], *, language: str | None, timezone: str | None, now,
                   render: rendering.Render = rendering.render) -> tuple[str, str]:
        body = self.bodies.get(language or "", self.body)
        html = self.channel == "email"
        return (
            render(self.subject, context, timezone=timezone, now=now, html=False),
            render(body, context, timezone=timezone, now=now, html=html),
        )
