"""No personal data in any log line, tracebacks included (profiles.logs)."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

import pytest

from profiles import logs


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.RedactingFormatter(logs.FORMAT))
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_a_database_error_quoting_a_row_is_logged_without_the_email(captured):
    logger, stream = captured
    try:
        raise RuntimeError('duplicate key value violates unique constraint "profile_contacts_email_key"\n'
                           "DETAIL:  Key (domain, email)=(shop, Ann.Tamm+news@mail.example.com) already exists.")
    except RuntimeError:
        logger.exception("projection batch failed; retrying position=%d", 4200)
    line = stream.getvalue()
    assert "Ann.Tamm" not in line and "mail.example.com" not in line
    assert "(shop, <email>)" in line and "position=4200" in line and "Traceback" in line


@pytest.mark.parametrize("phone", ["+37255512345", "+372 5551 2345", "+1 (415) 555-0100"])
def test_phone_numbers_are_masked(captured, phone):
    logger, stream = captured
    logger.warning("refused phoneNumber %s for contact", phone)
    assert phone not in stream.getvalue() and "phoneNumber <phone> for contact" in stream.getvalue()


def test_what_operators_need_is_kept(captured):
    logger, stream = captured
    kept = ("dead letter topic=contact-events partition=2 offset=1234567 code=identifier_conflict "
            "at=2026-11-29T08:00:00+00:00 contact=3633867f-25b6-4df0-956b-f72c14594509")
    logger.info(kept)
    assert kept in stream.getvalue()


def test_the_command_line_logs_through_the_redaction():
    """What ``profiles`` sets up at start (``logs.configure``), as a process of its own."""
    script = ("from profiles import logs; logs.configure(); import logging; "
              "logging.getLogger('uvicorn.error').error('bad request from ann@example.com, +37255512345')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "uvicorn.error bad request from <email>, <phone>" in done.stderr
    assert "ann@example.com" not in done.stderr and "+37255512345" not in done.stderr
