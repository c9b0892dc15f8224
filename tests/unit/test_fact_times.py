"""A stored event's time, as every projection reads it: in UTC, whatever offset the
upstream sent; and a time no UTC reader can hold is read as stored, not a stuck log."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from projections.events import decode


def _state(at: str) -> bytes:
    return orjson.dumps({"timestamp": {"_type_": "datetime_iso", "_data_": at}, "originator_topic": "x",
                         "method": "kafka", "actor": "kafka", "domain": "shop"})


@pytest.mark.parametrize(("stored", "read"), [
    ("2026-11-28T12:00:00+02:00", "2026-11-28T10:00:00+00:00"),
    ("2026-11-28T05:00:00.250000-05:00", "2026-11-28T10:00:00.250000+00:00"),
    ("2026-11-28T10:00:00+00:00", "2026-11-28T10:00:00+00:00"),
    ("0001-01-01T00:30:00+01:00", "0001-01-01T00:30:00+01:00"),  # year 0 in UTC: stored before ingest refused it
])
def test_a_fact_reads_its_time_in_utc(stored, read):
    fact = decode(7, "b2f0a2c4-5a40-4d8e-9d6c-1f1f1f1f1f1f", 1, "domain.contact:Contact.Updated", _state(stored))
    assert fact.at == read
    assert fact.when == datetime.fromisoformat(stored)
    if read.endswith("+00:00"):
        assert fact.when.tzinfo == UTC
