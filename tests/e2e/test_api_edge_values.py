"""Values at the edges of what JSON holds: numbers come back on every read path, never
as a 500; a NUL character is refused at the door.

jsonb prints a float such as 1e30 as a 31-digit integer; read back as a Python int, no
JSON encoder of the service could write it, and every read of that profile failed."""

from __future__ import annotations

import base64
import uuid

import orjson

from tests.e2e.conftest import Api, problem_code

EDGES = {"huge": 1e30, "vast": 1.5e300, "tiny": 1e-30, "most": 9223372036854775807, "least": -9223372036854775808}


def test_floats_past_the_integers_and_the_widest_integers_read_back(service, api: Api, domain):
    email = f"edge.{uuid.uuid4().hex[:8]}@example.com"
    ann = api.contact(domain, email=email, variables=EDGES)
    events = {"events": [{"eventId": f"order-{uuid.uuid4()}", "type": "activity", "occurredAt": "2026-11-01T10:00:00Z",
                          "contact": {"email": email}, "data": {"name": "orderPlaced", "properties": EDGES}}]}
    assert api.post(f"/v1/domains/{domain}/events", events).json()["accepted"] == 1
    base = f"/v1/domains/{domain}/contacts"

    routed = api.get(f"{base}/{ann['id']}")
    assert routed.status_code == 200 and routed.json()["variables"] == EDGES
    fast = service.get(f"{base}/{ann['id']}", headers=api.headers)  # no minPosition: the asyncio path
    assert (fast.status_code, fast.content) == (200, routed.content)
    found = service.get(base, params={"email": email}, headers=api.headers)
    assert found.status_code == 200 and found.json()["items"][0]["variables"] == EDGES
    variables = api.get(f"{base}/{ann['id']}/variables")
    assert variables.status_code == 200 and {v["name"]: v["value"] for v in variables.json()["items"]} == EDGES

    feed = api.get(f"{base}/{ann['id']}/activity", type="activity")
    assert feed.status_code == 200
    (order,) = feed.json()["items"]
    detail = api.get(f"{base}/{ann['id']}/activity/{order['id']}")
    assert detail.status_code == 200 and detail.json()["data"]["properties"] == EDGES
    export = api.get(f"{base}/{ann['id']}/activity/export", format="ndjson")
    assert export.status_code == 200
    exported = [orjson.loads(line) for line in export.content.splitlines()]
    assert [e["data"]["properties"] for e in exported if e["type"] == "activity"] == [EDGES]
    csv = api.get(f"{base}/{ann['id']}/activity/export", format="csv")
    assert csv.status_code == 200 and "1e+30" in csv.text


def test_a_nul_character_is_refused_in_every_body_and_the_reads_go_on(service, api: Api, domain):
    """PostgreSQL stores no U+0000 in text or jsonb: accepted into the log, one such value
    stopped every projection at its event, for every domain. In a query it was answered
    as an "invalid cursor", or as an empty page."""
    ann = api.contact(domain, email=f"nul.{uuid.uuid4().hex[:8]}@example.com")
    base = f"/v1/domains/{domain}/contacts"
    event = {"eventId": f"e-{uuid.uuid4()}", "type": "activity", "occurredAt": "2026-11-01T10:00:00Z",
             "contact": {"email": ann["email"]}, "data": {"name": "viewed", "properties": {"deep": ["a\u0000"]}}}
    refused = [api.post(base, {"email": "bo@example.com", "firstName": "Bo\u0000b"}),
               api.patch(f"{base}/{ann['id']}", {"variables": {"note": "a\u0000"}}),
               api.put(f"{base}/{ann['id']}/variables/note", {"value": "\u0000"}),
               api.post(f"{base}/{ann['id']}/notes", {"text": "call\u0000", "author": "maria"}),
               api.post(f"/v1/domains/{domain}/events", {"events": [event]})]
    for response in refused:
        assert response.status_code == 422, response.text
        assert problem_code(response) == "validation_error" and "NUL character" in response.json()["detail"]
    for query in ({"userId": "u\u0000"}, {"email": "a\u0000@example.com"}, {"cursor": "\u0000"}):
        searched = service.get(base, params=query, headers=api.headers)  # the fast path and the routes alike
        assert searched.status_code == 422 and "NUL character" in searched.json()["detail"], searched.text
    literal = api.patch(f"{base}/{ann['id']}", {"variables": {"path": "C:\\u0000"}})  # text, not a NUL
    assert literal.status_code == 200
    assert api.get(f"{base}/{ann['id']}").json()["variables"] == {"path": "C:\\u0000"}  # the projections go on


def test_event_times_at_the_ends_of_the_calendar_read_back_and_past_them_are_refused(service, api: Api, domain):
    """0001-01-01T00:00+01:00 is a year-0 instant in UTC: PostgreSQL stored it, as BC, and
    then the contact's feed and export failed on it."""
    email = f"t.{uuid.uuid4().hex[:8]}@example.com"
    ann = api.contact(domain, email=email)

    def activity(at: str) -> dict:
        return {"eventId": f"e-{uuid.uuid4()}", "type": "activity", "occurredAt": at, "contact": {"email": email},
                "data": {"name": "x"}}

    past_the_ends = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
    ends = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"]
    answer = api.post(f"/v1/domains/{domain}/events", {"events": [activity(at) for at in past_the_ends + ends]}).json()
    assert answer["accepted"] == 2
    assert [(r["index"], r["code"]) for r in answer["rejected"]] == [(0, "validation_error"), (1, "validation_error")]
    assert all("between years 1 and 9999 in UTC" in r["message"] for r in answer["rejected"])
    base = f"/v1/domains/{domain}/contacts/{ann['id']}/activity"
    assert api.get(base).status_code == 200
    export = api.get(f"{base}/export", format="ndjson")
    assert export.status_code == 200
    times = sorted(orjson.loads(line)["occurredAt"][:4] for line in export.content.splitlines())
    assert times[0] == "0001" and times[-1] == "9999"


def test_half_a_surrogate_pair_is_refused_and_a_whole_one_is_a_character(service, api: Api, domain):
    """JSON may spell half of a surrogate pair (\\ud800) where it means a character; the
    standard library took it into a string UTF-8 cannot encode, and the write was a 500."""
    email = f"s.{uuid.uuid4().hex[:8]}@example.com"
    ann = api.contact(domain, email=email)
    headers = {**api.headers, "content-type": "application/json"}
    base = f"/v1/domains/{domain}/contacts/{ann['id']}"
    halves = [
        (f"/v1/domains/{domain}/events", b'{"events": [{"eventId": "h-1", "type": "activity", "occurredAt": '
         b'"2026-11-01T10:00:00Z", "contact": {"email": "%s"}, "data": {"name": "x", "properties": '
         b'{"\\udc00": "\\ud800"}}}]}' % email.encode()),
        (f"{base}/notes", b'{"text": "call \\ud83d back", "author": "maria"}'),
        (f"/v1/domains/{domain}/segments", b'{"name": "s", "condition": {"field": "firstName", "op": "eq", '
                                           b'"value": "\\ude00"}}'),
    ]
    for path, body in halves:
        refused = service.post(path, content=body, headers=headers)
        assert refused.status_code == 422 and problem_code(refused) == "validation_error", refused.text
        assert "surrogate" in refused.json()["detail"]
    whole = api.request("PATCH", base, content=b'{"variables": {"mood": "\\ud83d\\ude00", "path": "C:\\\\ud800"}}',
                        headers={"content-type": "application/json"})  # tracked: the read below waits for it
    assert whole.status_code == 200, whole.text
    assert api.get(base).json()["variables"] == {"mood": "\U0001f600", "path": "C:\\ud800"}


def test_a_cursor_no_page_handed_out_is_refused_on_every_paged_read(api: Api, domain):
    """A cursor is opaque, but only base64 of a JSON list: one spelling another list (a
    tampered or hand-made one) reached the query's casts and was answered 503
    "database_unavailable", as if the database were away."""
    ann = api.contact(domain, email=f"cur.{uuid.uuid4().hex[:8]}@example.com", variables={"city": "Tallinn"})
    segment = api.post(f"/v1/domains/{domain}/segments",
                       json={"name": "Tallinn", "conditions": {"field": "variables.city", "op": "eq",
                                                                "value": "Tallinn"}}).json()
    paged = [f"/v1/domains/{domain}/contacts", f"/v1/domains/{domain}/contacts/{ann['id']}/activity",
             f"/v1/domains/{domain}/segments/{segment['id']}/contacts"]
    for key in (["nope", "nope"], ["2026-11-01T10:00:00+00:00", "nope"], ["2026-11-01T10:00:00", str(uuid.uuid4())],
                ["nope"], ["99999-01-01T00:00:00+00:00", str(uuid.uuid4())]):
        cursor = base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")
        for path in paged:
            response = api.get(path, cursor=cursor)
            assert response.status_code == 422, (path, key, response.text)
            assert problem_code(response) == "validation_error" and "invalid cursor" in response.json()["detail"]
    # Pages handed out still page on.
    api.contact(domain, email=f"cur2.{uuid.uuid4().hex[:8]}@example.com")
    first = api.get(paged[0], limit=1).json()
    assert api.get(paged[0], limit=1, cursor=first["nextCursor"]).status_code == 200
