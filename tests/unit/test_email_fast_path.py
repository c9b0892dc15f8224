"""The regular-expression fast path for everyday emails never disagrees with email_validator."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.values import _plain_email

_LOCAL = st.text(alphabet="abcz09.+-_!#'~", min_size=1, max_size=70)
_LABEL = st.text(alphabet="abz09-", min_size=1, max_size=66)
_TLD = st.sampled_from(["com", "ee", "co", "io", "museum", "test", "localhost", "x", "c0m", "example"])


@settings(max_examples=3000, deadline=None)
@given(local=_LOCAL, labels=st.lists(_LABEL, min_size=1, max_size=3), tld=_TLD)
def test_whatever_the_fast_path_accepts_the_library_accepts_identically(local, labels, tld):
    address = f"{local}@{'.'.join(labels)}.{tld}"
    fast = _plain_email(address)
    if fast is None:
        return  # the library decides these
    try:
        expected = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError as e:  # pragma: no cover - a failure shows the disagreement
        raise AssertionError(f"fast path accepted {address!r}, library refused: {e}") from None
    assert fast == expected


def test_everyday_addresses_take_the_fast_path():
    assert _plain_email("ann.lee+news@mail.example.co.uk") == "ann.lee+news@mail.example.co.uk"
    for tricky in ("a..b@x.com", ".a@x.com", "a@x", "a@x.test", "a@xn--bcher-kva.com", "ann@example.com.", '"a b"@x.com'):
        assert _plain_email(tricky) is None
