"""General info, avatar, variables and the derived, read-only fields (DESIGN §2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain import errors
from domain.meta import Meta
from tests.unit.history import head, new_events

T0 = datetime(2026, 1, 1, 10, tzinfo=UTC)
AT = Meta(method="api", actor="tester", occurred_at=T0)


@pytest.fixture
def ann(memory_app):
    contact, _ = memory_app.create_contact("shop", {"email": "ann@example.com"}, {}, AT)
    return contact.id


def test_valid_general_info_is_normalised(memory_app):
    contact, _ = memory_app.create_contact("shop", {
        "email": "ann@example.com", "firstName": " Ann ", "lastName": "Lee", "language": "ET",
        "timezone": "Europe/Tallinn", "birthday": "1990-05-01", "avatarLink": "https://cdn.example.com/a.png",
    }, {}, AT)
    assert contact.info == {"firstName": "Ann", "lastName": "Lee", "language": "et", "timezone": "Europe/Tallinn",
                            "birthday": "1990-05-01", "avatarLink": "https://cdn.example.com/a.png"}


@pytest.mark.parametrize(("field", "value"), [
    ("language", "eng"), ("language", "xx"), ("language", "en-US"), ("language", 7),
    ("timezone", "Mars/Olympus"), ("timezone", "../../etc/passwd"), ("timezone", "/etc/localtime"), ("timezone", ""),
    ("birthday", "1990-13-01"), ("birthday", "yesterday"), ("birthday", "01.05.1990"),
    ("firstName", "x" * 257), ("firstName", 5),
])
def test_invalid_general_info_is_refused(memory_app, ann, field, value):
    before = head(memory_app)
    with pytest.raises(errors.InvalidInput):
        memory_app.update_contact("shop", ann, {field: value}, None, AT)
    assert new_events(memory_app, before) == []


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "ftp://files.example.com/a.png",
    "data:image/png;base64,iVBORw0KGgo=", "file:///etc/passwd", "//example.com/a.png", "https://",
    "https://example.com/" + "a" * 2030, "example.com/a.png",
    # no spaces or invisible characters, no credentials, a real port
    "https://ex ample.com/a.png", "https://example.com/a b.png", "https://example.com/\u202egnp.exe",
    "https://example.com/a\tb.png", "https://shop.example.com@evil.example/a.png",
    "https://user:pass@example.com/a.png", "https://example.com:99999/a.png",
])
def test_avatar_must_be_an_http_url_of_at_most_2048_chars(memory_app, ann, url):
    before = head(memory_app)
    with pytest.raises(errors.InvalidInput):
        memory_app.set_avatar("shop", ann, url, AT)
    assert new_events(memory_app, before) == []


def test_avatar_http_and_https_are_accepted(memory_app, ann):
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    contact, _ = memory_app.set_avatar("shop", ann, url, AT)
    assert contact.info["avatarLink"] == url
    contact, _ = memory_app.set_avatar("shop", ann, "http://example.com/a.png", AT)
    assert contact.info["avatarLink"] == "http://example.com/a.png"
    for fine in ("https://cdn.example.com:8443/a%20b.png?size=64#x", "https://[2001:db8::1]/a.png"):
        assert memory_app.set_avatar("shop", ann, f" {fine} ", AT)[0].info["avatarLink"] == fine


def test_null_clears_a_general_info_field(memory_app, ann):
    memory_app.update_contact("shop", ann, {"firstName": "Ann", "language": "en"}, None, AT)
    before = head(memory_app)
    contact, _ = memory_app.update_contact("shop", ann, {"firstName": None}, None, AT)
    (event,) = new_events(memory_app, before)
    assert type(event).__qualname__ == "Contact.Updated" and event.info == {"firstName": None}
    assert contact.info == {"language": "en"}


def test_an_update_that_changes_nothing_records_nothing(memory_app, ann):
    memory_app.update_contact("shop", ann, {"firstName": "Ann"}, {"city": "Tallinn"}, AT)
    before = head(memory_app)
    memory_app.update_contact("shop", ann, {"firstName": "Ann", "email": "ANN@example.com"}, {"city": "Tallinn"}, AT)
    assert new_events(memory_app, before) == []


def test_variables_are_typed_merged_and_null_removes(memory_app, ann):
    memory_app.set_variables("shop", ann, {"city": "Tallinn", "score": 42, "vip": True, "ratio": 0.5,
                                           "since": date(2020, 1, 2)}, AT)
    before = head(memory_app)
    contact, _ = memory_app.set_variables("shop", ann, {"city": None, "score": 43, "missing": None}, AT)
    (event,) = new_events(memory_app, before)
    assert type(event).__qualname__ == "Contact.VariablesChanged"
    assert event.variables == {"city": None, "score": 43}
    assert contact.variables == {"score": 43, "vip": True, "ratio": 0.5, "since": "2020-01-02"}


@pytest.mark.parametrize("name", ["1city", "_city", "ci-ty", "", "c" * 65, "city name", "ciτy"])
def test_variable_names_are_validated(memory_app, ann, name):
    with pytest.raises(errors.InvalidInput):
        memory_app.set_variables("shop", ann, {name: "x"}, AT)


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, object(), float("nan"), float("inf"), "x" * 4097])
def test_variable_values_are_typed(memory_app, ann, value):
    before = head(memory_app)
    with pytest.raises(errors.InvalidInput):
        memory_app.set_variables("shop", ann, {"v": value}, AT)
    assert new_events(memory_app, before) == []


@pytest.mark.parametrize("field", ["createdAt", "createdMethod", "updatedAt", "updatedMethod", "id", "version"])
def test_derived_fields_are_read_only(memory_app, ann, field):
    with pytest.raises(errors.ReadOnlyField) as refused:
        memory_app.update_contact("shop", ann, {field: "2020-01-01T00:00:00Z"}, None, AT)
    assert refused.value.code == "read_only_field"
    with pytest.raises(errors.ReadOnlyField):
        memory_app.create_contact("shop", {"email": "bob@example.com", field: "api"}, {}, AT)


def test_unknown_fields_are_refused(memory_app, ann):
    with pytest.raises(errors.InvalidInput):
        memory_app.update_contact("shop", ann, {"nickname": "A"}, None, AT)


def test_created_and_updated_metadata_derive_from_events(memory_app, ann):
    later = Meta(method="kafka", actor="kafka", occurred_at=T0 + timedelta(hours=1))
    contact, _ = memory_app.update_contact("shop", ann, {"firstName": "Ann"}, None, later)
    assert (contact.created_on, contact.created_method) == (T0, "api")
    assert (contact.updated_at, contact.updated_method) == (T0 + timedelta(hours=1), "kafka")


def test_meta_refuses_unknown_method_and_naive_time():
    with pytest.raises(errors.InvalidInput):
        Meta(method="carrier-pigeon")
    with pytest.raises(errors.InvalidInput):
        Meta(occurred_at=datetime(2026, 1, 1))


@pytest.mark.parametrize(("old", "new"), [(1, True), (0, False), (True, 1), (1, 1.0), ("1", 1)])
def test_a_variable_changing_type_is_a_change(memory_app, ann, old, new):
    memory_app.set_variables("shop", ann, {"v": old}, AT)
    before = head(memory_app)
    contact, _ = memory_app.set_variables("shop", ann, {"v": new}, AT)
    (event,) = new_events(memory_app, before)
    assert type(event.variables["v"]) is type(new)
    assert type(contact.variables["v"]) is type(new)


@pytest.mark.parametrize("value", [
    "1899-12-31", (date.today() + timedelta(days=30)).isoformat(), datetime(1990, 5, 1, tzinfo=UTC)])
def test_implausible_birthdays_are_refused(memory_app, ann, value):
    with pytest.raises(errors.InvalidInput):
        memory_app.update_contact("shop", ann, {"birthday": value}, None, AT)


def test_a_date_object_is_a_birthday(memory_app, ann):
    contact, _ = memory_app.update_contact("shop", ann, {"birthday": date(1990, 5, 1)}, None, AT)
    assert contact.info["birthday"] == "1990-05-01"


@pytest.mark.parametrize("actor", ["", "  ", None, "x" * 201])
def test_meta_names_who_acted(actor):
    with pytest.raises(errors.InvalidInput):
        Meta(actor=actor)


def test_a_birthday_is_checked_against_today_however_many_came_before():
    # The clock is read only for days after the latest today seen (values._not_future).
    from domain import values

    today = date.today()
    assert values.birthday(today.isoformat()) == today.isoformat()
    assert values.birthday(today + timedelta(days=1)) == (today + timedelta(days=1)).isoformat()  # time zones
    for later in (today + timedelta(days=2), today + timedelta(days=400)):
        with pytest.raises(errors.InvalidInput, match="between 1900-01-01 and today"):
            values.birthday(later)
    assert values.variables({"city": "Tartu", "n": 2, "ok": True, "x": 0.5, "d": date(2026, 1, 2), "gone": None}) == {
        "city": "Tartu", "n": 2, "ok": True, "x": 0.5, "d": "2026-01-02", "gone": None}
    with pytest.raises(errors.InvalidInput):
        values.variables({"9lives": 1})
