"""The activity feed: the last 30 days for the page, one entry's detail, resend, export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import StreamingResponse

from api import deps, errors
from api.routes import PREFIX, problems
from api.schemas.common import Page
from api.schemas.feed import ActivityEntry
from api.schemas.messaging import MessageAccepted
from domain.errors import NotAMessage
from projections.reader import ReadModel

router = APIRouter(prefix=PREFIX, tags=["activity"], responses=problems(404))
ActivityId = Annotated[str, Path(alias="activityId", max_length=200)]
MESSAGE_TYPES = ("message.sent", "message.resent")
EXPORT_COLUMNS = ("id", "type", "occurredAt", "summary", "data")
# A spreadsheet runs a cell that starts with one of these as a formula; summaries carry
# upstream text (an activity's name), so an exported feed opened in Excel could run
# `=HYPERLINK(...)`. OWASP's advice: make such a cell text with a leading apostrophe.
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


@router.get("/contacts/{contactId}/activity", response_model=Page[ActivityEntry], summary="Feed, newest first")
def feed(
    contact_id: deps.ContactId, domain: deps.Domain, read_model: deps.ActivityReader,
    days: Annotated[int, Query(ge=1, le=30, description="At most 30")] = 30,
    type_filter: Annotated[list[str] | None, Query(alias="type", description="Entry types, repeated or comma-separated",
                                            examples=[["message.sent"]])] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> dict[str, Any]:
    deps.existing_contact(read_model, domain, contact_id)
    types = [t.strip() for item in type_filter or [] for t in item.split(",") if t.strip()] or None
    with deps.client_cursor():
        items, next_cursor = read_model.activity(domain, contact_id, days=days, types=types, limit=limit, cursor=cursor)
    return {"items": items, "nextCursor": next_cursor}


@router.get("/contacts/{contactId}/activity/export", summary="Download the complete history",
            response_class=StreamingResponse,
            responses={200: {"description": "CSV or NDJSON attachment",
                             "content": {"text/csv": {}, "application/x-ndjson": {}}}})
def export(contact_id: deps.ContactId, domain: deps.Domain, read_model: deps.ActivityReader,
           format: Annotated[Literal["csv", "ndjson"], Query()] = "csv") -> StreamingResponse:
    """Every entry since the contact was created, oldest first, streamed in constant memory."""
    deps.existing_contact(read_model, domain, contact_id)
    entries = read_model.export_activity(domain, contact_id)
    body = _csv(entries) if format == "csv" else _ndjson(entries)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    filename = f"activity-{contact_id}.{format}"
    return StreamingResponse(body, media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _ndjson(entries: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    for entry in entries:
        yield (json.dumps(entry, default=str, ensure_ascii=False) + "\n").encode()


def _csv(entries: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for n, entry in enumerate(entries, 1):
        row = [entry.get(c) for c in EXPORT_COLUMNS[:-1]]
        writer.writerow([_as_text(cell) for cell in
                         (*row, json.dumps(entry.get("data") or {}, default=str, ensure_ascii=False))])
        if n % 200 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _as_text(cell: Any) -> Any:
    return "'" + cell if isinstance(cell, str) and cell.startswith(_FORMULA_LEAD) else cell


def _entry(read_model: ReadModel, domain: str, contact_id: UUID, activity_id: str) -> dict[str, Any]:
    try:
        UUID(activity_id)  # entry ids derive from their event as UUIDs; anything else names nothing
    except ValueError:
        raise errors.ActivityNotFound(f"activity entry {activity_id} not found") from None
    entry = read_model.activity_entry(domain, contact_id, activity_id)
    if entry is None:
        raise errors.ActivityNotFound(f"activity entry {activity_id} not found")
    return entry


@router.get("/contacts/{contactId}/activity/{activityId}", response_model=ActivityEntry,
            summary="One entry with full detail")
def entry(contact_id: deps.ContactId, activity_id: ActivityId, domain: deps.Domain,
          read_model: deps.ActivityReader) -> dict[str, Any]:
    return _entry(read_model, domain, contact_id, activity_id)


@router.post("/contacts/{contactId}/activity/{activityId}/resend", status_code=status.HTTP_202_ACCEPTED,
             response_model=MessageAccepted, responses=problems(404, 409), summary="Resend a message from the feed")
def resend(contact_id: deps.ContactId, activity_id: ActivityId, domain: deps.Domain, app: deps.App,
           meta: deps.Provenance, read_model: deps.ActivityReader, response: Response,
           idempotency_key: deps.IdempotencyKey = None) -> dict[str, Any]:
    """Sends exactly the stored subject and body again, if the channel may still be messaged;
    422 `not_a_message` for an entry that is not a sent message. With an `Idempotency-Key`,
    a retried request sends nothing again."""
    found = _entry(read_model, domain, contact_id, activity_id)
    message_id = (found.get("data") or {}).get("messageId")
    if found.get("type") not in MESSAGE_TYPES or not message_id:
        raise NotAMessage(f"activity entry {activity_id} is a {found.get('type')}, not a message")
    message, position = app.resend_message(domain, contact_id, UUID(str(message_id)), meta,
                                           idempotency_key=idempotency_key)
    deps.sent(response, message, meta, position)
    return {"messageId": str(message.id), "position": position}
