"""The hottest reads answered in front of FastAPI's routing (bench B4).

``GET /v1/domains/{domain}/contacts/{contactId}`` and a search by one identifier (``GET
…/contacts?email=…``, ``?phoneNumber=…`` or ``?userId=…``) are most of the API's
traffic, and through FastAPI's middleware, routing and dependency solving a profile read
cost about twice the query itself. This pure ASGI shortcut answers only their plain,
successful form — a key allowed on the domain, a valid slug and canonical id, no
parameter but the one identifier, the contact found — with the bytes and headers the
routes in ``api.routes.contacts`` send. Anything else (a refusal, ``minPosition``,
paging, a second parameter, a 404, no open async reader) falls through to those routes,
which stay the contract's one definition and what the OpenAPI document describes.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

import orjson

from api import errors
from domain import values
from domain.errors import DomainError, InvalidInput

_CONTACT = re.compile(r"/v1/domains/([a-z0-9][a-z0-9-]{0,62})/contacts/"
                      r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})")
_SEARCH = re.compile(r"/v1/domains/([a-z0-9][a-z0-9-]{0,62})/contacts")
# The search's identifiers: query parameter → (the reader's keyword, the route's length
# limit, its normalising), as the route ``api.routes.contacts.find_contacts`` has them.
IDENTIFIERS = {"email": ("email", values.MAX_EMAIL, values.email),
               "phoneNumber": ("phone", values.MAX_PHONE, values.phone),
               "userId": ("user_id", values.MAX_USER_ID, values.user_id)}
SEARCH_LIMIT = 50  # the route's default page size


class FastReads:
    """Pure ASGI middleware; ``app_state`` is the FastAPI app's ``state`` (keys, container,
    the open async reader) and ``routes`` maps "contact"/"search" to the routes whose
    template the metrics label with."""

    def __init__(self, app: Any, app_state: Any, routes: dict[str, Any]) -> None:
        self.app = app
        self.state = app_state
        self.routes = routes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            try:
                answer = await self._answer(scope)
            except (DomainError, *errors.DATABASE_UNAVAILABLE):
                answer = None  # refusals and failures are the routes' to word (their handlers sit inside)
            if answer is not None:
                body, scope["route"] = answer  # the route, so the metrics label it with its template
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", str(len(body)).encode()),
                                        (b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: dict[str, Any]) -> tuple[bytes, Any] | None:
        """(body, route) of a plain, successful hot read; None leaves it to the routes."""
        path = scope["path"]
        contact = _CONTACT.fullmatch(path)
        search = None if contact else _SEARCH.fullmatch(path)
        if contact is None and search is None:
            return None
        domain = (contact or search).group(1)  # type: ignore[union-attr]
        reads = self._reads(scope, domain)
        if reads is None:
            return None
        if contact is not None:
            if scope.get("query_string"):
                return None
            document = await reads.contact(domain, UUID(contact.group(2)))
            if document is None:
                return None  # the route answers the 404 problem
            return orjson.dumps(document), self.routes["contact"]
        identifier = _only_identifier(scope.get("query_string", b""))
        if identifier is None:
            return None
        items, next_cursor = await reads.find_contacts(domain, limit=SEARCH_LIMIT, **identifier)
        return orjson.dumps({"items": items, "nextCursor": next_cursor}), self.routes["search"]

    def _reads(self, scope: dict[str, Any], domain: str) -> Any:
        """The open async reader when the caller may read ``domain``, else None."""
        twin = self.state.async_reads
        if twin is None or twin[0] is not getattr(self.state.container, "read_model", None) or not twin[1].is_open:
            return None
        authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        try:
            principal = self.state.keys.principal(authorization)
        except errors.Unauthorized:
            return None
        return twin[1] if principal.may_see(domain) else None


def _only_identifier(query_string: bytes) -> dict[str, str] | None:
    """``{keyword: normalised value}`` when one identifier is the one parameter, else None."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] not in IDENTIFIERS:
        return None
    name, value = pairs[0]
    keyword, longest, normalise = IDENTIFIERS[name]
    if not value or len(value) > longest:
        return None
    try:
        return {keyword: normalise(value)}
    except InvalidInput:
        return None
