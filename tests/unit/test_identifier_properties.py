"""Normalisation is what makes identifiers unique per person: it must be idempotent and
blind to the spellings clients send."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import errors, values

REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.example_number(r))


@settings(max_examples=150, deadline=None)
@given(st.emails(), st.sampled_from([str.upper, str.lower, str.title, lambda s: f"  {s}\t"]))
def test_email_normalisation_is_idempotent_and_spelling_blind(address, respell):
    try:
        canonical = values.email(address)
    except errors.InvalidInput:
        return  # syntax the validator refuses (e.g. special-use domains): refused, fine
    assert values.email(canonical) == canonical
    assert values.email(respell(address)) == canonical
    assert canonical == canonical.strip().lower()


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(REGIONS), st.sampled_from(["E164", "INTERNATIONAL"]))
def test_phone_normalisation_is_idempotent_across_formats(region, style):
    number = phonenumbers.example_number(region)
    spelled = phonenumbers.format_number(number, getattr(phonenumbers.PhoneNumberFormat, style))
    canonical = values.phone(spelled)
    assert canonical.startswith("+") and canonical[1:].isdigit()
    assert values.phone(canonical) == canonical == values.phone(f" {spelled} ")


@pytest.mark.parametrize("spelled", ["+372 5551 2345", "+372-5551-2345", "+372 (5551) 2345", "+37255512345"])
def test_common_phone_spellings_are_one_number(spelled):
    assert values.phone(spelled) == "+37255512345"
