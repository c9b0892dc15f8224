"""``profiles import``: a CSV contact list or an NDJSON file of Kafka envelopes, applied
through the consumer's batch path; bad lines reported by line, the rest applied, and the
same file imported twice applied once."""

from __future__ import annotations

import json
from uuid import UUID

import orjson
import pytest

from profiles import cli

CONTACTS = (
    "E-mail;First Name;phone;city;zip;score;vip;price\n"
    "ANN@example.com ;Ann;+372 555 12345;Tallinn;00123;42;true;9.99\n"
    "bob@example;Bob;;Tartu;;;;\n"                       # line 3: not an email
    ";Nobody;;Riga;;;;\n"                                # line 4: no identifier
    "\n"
    'cara@example.com;"Cara\nLee";;"Pärnu; EE";10115;7;FALSE;12.50\n'
    "dan@example.com;Dan;;;;-3;;0\n"
    "eve@example.com;E\x00ve;;;;;;\n"                 # line 9: a NUL the database cannot store
)


@pytest.fixture
def profiles(settings, monkeypatch, capsys):
    """``profiles …`` run in-process against the test's schema: (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PROFILES_DB_SCHEMA", settings.db_schema)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _contact(runner, container, email: str) -> dict:
    runner.catch_up()
    items, _ = container.read_model.find_contacts("shop", email=email)
    assert len(items) == 1, email
    return items[0]


def test_a_csv_contact_list_creates_contacts_with_typed_variables_and_reports_bad_rows(
        profiles, container, runner, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS, encoding="utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    rejects = tmp_path / "rejects.ndjson"

    code, out, err = profiles("import", path, "--domain", "shop", "--rejects", rejects)

    assert code == 1  # some rows were refused
    assert out.strip() == f"3 applied, 0 already applied before, 3 refused (all listed in {rejects})"
    refused = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["code"]) for r in refused] == [(3, "validation_error"), (4, "validation_error"),
                                                         (9, "validation_error")]
    assert "email" in refused[0]["message"] and "userId, email or phoneNumber" in refused[1]["message"]
    assert "line 3: validation_error" in err

    ann = _contact(runner, container, "ann@example.com")
    assert (ann["firstName"], ann["phoneNumber"]) == ("Ann", "+37255512345")
    assert ann["variables"] == {"city": "Tallinn", "zip": "00123", "score": 42, "vip": True, "price": 9.99}
    assert (ann["createdMethod"], ann["updatedMethod"]) == ("import", "import")
    cara = _contact(runner, container, "cara@example.com")
    assert cara["firstName"] == "Cara\nLee"  # a quoted cell may span lines
    # a column holding a zip code with a leading zero stays text in every row
    assert cara["variables"] == {"city": "Pärnu; EE", "zip": "10115", "score": 7, "vip": False, "price": 12.5}
    dan = _contact(runner, container, "dan@example.com")
    assert dan["variables"] == {"score": -3, "price": 0}  # empty cells set nothing


def test_importing_the_same_file_again_applies_nothing_twice_and_an_edited_file_applies(
        profiles, container, runner, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("email,firstName,plan\nann@example.com,Ann,free\nbob@example.com,Bob,free\n")
    assert profiles("import", path, "--domain", "shop")[:2] == (0, "2 applied, 0 already applied before, 0 refused\n")
    head = container.app.recorder.max_notification_id()

    assert profiles("import", path, "--domain", "shop")[:2] == (0, "0 applied, 2 already applied before, 0 refused\n")
    assert container.app.recorder.max_notification_id() == head  # not one event more

    path.write_text("email,firstName,plan\nann@example.com,Ann,pro\n")
    assert profiles("import", path, "--domain", "shop")[0] == 0
    assert _contact(runner, container, "ann@example.com")["variables"] == {"plan": "pro"}


def test_an_ndjson_file_of_envelopes_goes_in_like_kafka_and_each_bad_line_is_refused_alone(
        profiles, container, runner, tmp_path):
    def envelope(n: int, **over) -> bytes:
        return orjson.dumps({"eventId": f"e-{n}", "type": "contact.upserted", "occurredAt": "2026-11-01T10:00:00Z",
                             "contact": {"email": f"p{n}@example.com"}, "data": {"firstName": f"P{n}"}, **over})

    lines = [envelope(1), envelope(2, domain="shop"), b"{not json", envelope(4, domain="blog"),
             envelope(5, type="contact.exploded"), b"", envelope(7, data={"firstName": "Bo\x00b"}),
             envelope(8, type="activity", data={"name": "orderPlaced", "properties": {"total": 12}},
                      contact={"email": "p1@example.com"}),
             envelope(9, contact={"email": "p1@example.com"}, data={"email": "p2@example.com"})]
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rejects = tmp_path / "rejects.ndjson"

    code, out, err = profiles("import", path, "--domain", "shop", "--rejects", rejects)

    assert code == 1 and out.startswith("3 applied, 0 already applied before, 5 refused")
    refused = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["code"]) for r in refused] == [
        (3, "invalid_json"), (4, "invalid_domain"), (5, "unknown_type"), (7, "validation_error"),
        (9, "identifier_taken")]
    assert "p2@example.com" in refused[-1]["message"]  # the rejects file is the caller's data, whole
    assert "line 9: identifier_taken: email <email> already belongs" in err  # stderr may be a log: masked
    assert "p2@example.com" not in err
    p1 = _contact(runner, container, "p1@example.com")
    assert p1["createdAt"].startswith("2026-11-01T10:00:00")  # the envelope's occurredAt
    entries = container.read_model.export_activity("shop", UUID(p1["id"]))
    assert [e["summary"] for e in entries if e["type"] == "activity"] == ["orderPlaced"]


@pytest.mark.parametrize(("name", "content", "args", "message"), [
    ("list.csv", "first name,city\nAnn,Tallinn\n", ["--domain", "shop"], "no identifier column"),
    ("list.csv", "email,not a variable!\nann@example.com,x\n", ["--domain", "shop"], "not a variable!"),
    ("list.csv", "email,Email\nann@example.com,ann@example.com\n", ["--domain", "shop"], "appears twice"),
    ("list.csv", "email\nann@example.com\n", [], "needs --domain"),
    ("list.csv", b"email,city\nann@example.com,K\xf6ln\n", ["--domain", "shop"], "not UTF-8 at byte 28"),
    ("list.csv", "", ["--domain", "shop"], "empty"),
    ("list.csv", "email\nann@example.com\n", ["--domain", "Not A Slug"], "domain"),
    ("missing.ndjson", None, [], "No such file"),
])
def test_a_file_that_cannot_be_imported_as_a_whole_is_turned_away_before_anything_is_stored(
        profiles, container, tmp_path, name, content, args, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    head = container.app.recorder.max_notification_id()

    code, out, err = profiles("import", path, *args)

    assert code == 2 and out == "" and message in err, err
    assert container.app.recorder.max_notification_id() == head
