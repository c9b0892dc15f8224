"""Message templates: drafted, then approved before anything is sent with them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Response, status

from api import deps, errors
from api.routes import PREFIX, problems
from api.schemas.common import Page
from api.schemas.messaging import TemplateCreate, TemplatePublic
from domain.errors import TemplateNotFound
from projections.reader import ReadModel

router = APIRouter(prefix=PREFIX, tags=["templates"], responses=problems(404))
TemplateId = Annotated[UUID, Path(alias="templateId")]


def _after_write(read_model: ReadModel, domain: str, template_id: UUID, position: int) -> dict[str, Any]:
    found = None
    if read_model.wait_for(position, deps.EVERY, timeout=deps.WAIT_SECONDS):
        found = read_model.template(domain, template_id)
    if found is None:
        raise errors.ProjectionLagging(f"written at position {position}; read it with ?minPosition={position}")
    return {**found, "position": position}


@router.post("/templates", status_code=status.HTTP_201_CREATED, response_model=TemplatePublic,
             summary="Draft a template")
def create_template(body: TemplateCreate, domain: deps.Domain, app: deps.App, meta: deps.Provenance,
                    read_model: deps.WriteReader, response: Response) -> dict[str, Any]:
    """Jinja2 (sandboxed) with `{{ firstName }}`, `{{ variables.city }}`, …; web push has no templates."""
    template, position = app.create_template(domain, body.channel, body.name, body.subject, body.body,
                                             body.bodies, meta)
    deps.written(response, position)
    return _after_write(read_model, domain, template.id, position)


@router.get("/templates", response_model=Page[TemplatePublic], summary="List templates")
def list_templates(domain: deps.Domain, read_model: deps.AnyReader) -> dict[str, Any]:
    return {"items": read_model.templates(domain), "nextCursor": None}


@router.get("/templates/{templateId}", response_model=TemplatePublic, summary="Read a template")
def read_template(template_id: TemplateId, domain: deps.Domain, read_model: deps.AnyReader) -> dict[str, Any]:
    found = read_model.template(domain, template_id)
    if found is None:
        raise TemplateNotFound(f"template {template_id} not found")
    return found


@router.post("/templates/{templateId}/approve", response_model=TemplatePublic, summary="Approve a template")
def approve_template(template_id: TemplateId, domain: deps.Domain, app: deps.App, meta: deps.Provenance,
                     read_model: deps.WriteReader, response: Response) -> dict[str, Any]:
    template, position = app.approve_template(domain, template_id, meta)
    deps.written(response, position)
    return _after_write(read_model, domain, template.id, position)
