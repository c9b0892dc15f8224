"""Dynamic segments and membership both ways."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from api import deps, errors
from api.routes import PREFIX, problems
from api.schemas.common import Page
from api.schemas.feed import ContactSegment, SegmentCreate, SegmentMember, SegmentPublic
from domain.errors import SegmentNotFound
from projections.reader import ReadModel

router = APIRouter(prefix=PREFIX, tags=["segments"], responses=problems(404))
SegmentId = Annotated[UUID, Path(alias="segmentId")]


def _after_write(read_model: ReadModel, domain: str, segment_id: UUID, position: int) -> dict[str, Any]:
    found = None
    if read_model.wait_for(position, ("segments",), timeout=deps.WAIT_SECONDS):
        found = read_model.segment(domain, segment_id)
    if found is None:
        raise errors.ProjectionLagging(f"written at position {position}; read it with ?minPosition={position}")
    return {**found, "position": position}


def _existing(read_model: ReadModel, domain: str, segment_id: UUID) -> dict[str, Any]:
    found = read_model.segment(domain, segment_id)
    if found is None:
        raise SegmentNotFound(f"segment {segment_id} not found")
    return found


@router.post("/segments", status_code=status.HTTP_201_CREATED, response_model=SegmentPublic,
             summary="Define a segment (422 invalid_condition)")
def define_segment(body: SegmentCreate, domain: deps.Domain, app: deps.App, meta: deps.Provenance,
                   read_model: deps.WriteReader, response: Response) -> dict[str, Any]:
    segment, position = app.define_segment(domain, body.name, body.conditions, meta)
    deps.written(response, position)
    return _after_write(read_model, domain, segment.id, position)


@router.get("/segments", response_model=Page[SegmentPublic], summary="List segments")
def list_segments(domain: deps.Domain, read_model: deps.SegmentReader) -> dict[str, Any]:
    return {"items": read_model.segments(domain), "nextCursor": None}


@router.get("/segments/{segmentId}", response_model=SegmentPublic, summary="Read a segment")
def read_segment(segment_id: SegmentId, domain: deps.Domain, read_model: deps.SegmentReader) -> dict[str, Any]:
    return _existing(read_model, domain, segment_id)


@router.put("/segments/{segmentId}", response_model=SegmentPublic, summary="Redefine a segment")
def redefine_segment(segment_id: SegmentId, body: SegmentCreate, domain: deps.Domain, app: deps.App,
                     meta: deps.Provenance, read_model: deps.WriteReader, response: Response) -> dict[str, Any]:
    segment, position = app.redefine_segment(domain, segment_id, body.name, body.conditions, meta)
    deps.written(response, position)
    return _after_write(read_model, domain, segment.id, position)


@router.delete("/segments/{segmentId}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a segment")
def delete_segment(segment_id: SegmentId, domain: deps.Domain, app: deps.App, meta: deps.Provenance) -> Response:
    position = app.delete_segment(domain, segment_id, meta)
    return Response(status_code=204, headers={"Profiles-Position": str(position)})


@router.get("/segments/{segmentId}/contacts", response_model=Page[SegmentMember], summary="Members of a segment")
def segment_members(segment_id: SegmentId, domain: deps.Domain, read_model: deps.SegmentReader,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    cursor: Annotated[str | None, Query(max_length=1000)] = None) -> dict[str, Any]:
    _existing(read_model, domain, segment_id)
    with deps.client_cursor():
        items, next_cursor = read_model.segment_members(domain, segment_id, limit=limit, cursor=cursor)
    return {"items": items, "nextCursor": next_cursor}


@router.get("/contacts/{contactId}/segments", response_model=Page[ContactSegment], summary="Segments of a contact")
def contact_segments(contact_id: deps.ContactId, domain: deps.Domain, read_model: deps.SegmentReader) -> dict[str, Any]:
    deps.existing_contact(read_model, domain, contact_id)
    return {"items": read_model.contact_segments(domain, contact_id), "nextCursor": None}
