"""No personal data in any log line, tracebacks included (profiles.logs)."""

from __future__ import annotations

import io
import logging

import pytest

from profiles import logs


@pytest.fixture
def captured():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure(stream=stream)
    yield stream
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


def test_a_database_error_quoting_a_row_is_logged_without_the_email(captured):
    try:
        raise RuntimeError('duplicate key value violates unique constraint "profile_contacts_email_key"\n'
                           "DETAIL:  Key (domain, email)=(shop, Ann.Tamm+news@mail.example.com) already exists.")
    except RuntimeError:
        logging.getLogger("projections.runner").exception("projection batch failed; retrying position=%d", 4200)
    line = captured.getvalue()
    assert "Ann.Tamm" not in line and "mail.example.com" not in line
    assert "(shop, <email>)" in line and "position=4200" in line and "Traceback" in line


@pytest.mark.parametrize("phone", ["+37255512345", "+372 5551 2345", "+1 (415) 555-0100"])
def test_phone_numbers_are_masked(captured, phone):
    logging.getLogger("x").warning("refused phoneNumber %s for contact", phone)
    assert phone not in captured.getvalue() and "phoneNumber <phone> for contact" in captured.getvalue()


def test_what_operators_need_is_kept(captured):
    kept = ("dead letter topic=contact-events partition=2 offset=1234567 code=identifier_conflict "
            "at=2026-11-29T08:00:00+00:00 contact=3633867f-25b6-4df0-956b-f72c14594509")
    logging.getLogger("consumers.consumer").info(kept)
    assert kept in captured.getvalue()
