"""A large event store, quickly: real events from the write path, replicated by tenant.

Writing 1 000 000 events through the domain takes many minutes here, and B3–B7 measure
the read side, not the write path. So a seed workload goes through the real write path
(``ContactProfiles.ingest``) once, and its stored rows are then copied (binary COPY) as
further domains: every aggregate id is mapped to a new one (XOR with a per-copy mask,
so references between events stay consistent) and ``"domain":"shop"`` becomes
``"domain":"shop-c3"``. Each copy is a tenant with the same traffic pattern; identifiers
are unique per domain, so nothing collides.
"""

from __future__ import annotations

import random
import re
import sys
from typing import Any
from uuid import UUID

from bench import common, workload

_UUID_HEX = re.compile(rb'"_data_":"([0-9a-f]{32})"')
_DOMAIN = re.compile(rb'"domain":"([a-z0-9-]+)"')
# Identifier values as the workload writes them, for copies within the same domain.
_EMAIL = re.compile(rb'@mail\.example\.com"')
_USER = re.compile(rb'"u-(\d+)"')
_PHONE = re.compile(rb'"\+3725(\d{7})"')


def seed_store(app: Any, envelopes: int, contacts: int, seed: int, quiet: bool) -> None:
    from bench.b1_write import ingest_batched

    raws = list(workload.envelopes(envelopes, contacts, seed, prefix="seed"))
    ingest_batched(app, raws, 1000, quiet)


def replicate(url: str, schema: str, target_rows: int, quiet: bool, seed: int = 7, *,
              same_domain: bool = False) -> int:
    """Copy the stored rows as new domains until the store holds ``target_rows``; returns
    the row count. ``same_domain`` keeps each copy in its domain and gives its contacts
    new identifiers instead (``….k3@mail.example.com``, ``u3-…``, ``+4915003…``), to grow
    one domain to a million contacts."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(f'SELECT originator_id, originator_version, topic, state FROM "{schema}".profiles_events '
                            "ORDER BY notification_id").fetchall()
        have = len(rows)
        if have >= target_rows:
            return have
        rng = random.Random(seed)
        bar = common.progress(target_rows - have, "replicating the seed as more domains", quiet=quiet, unit="row")
        copy_no = 0
        while have < target_rows:
            copy_no += 1
            mask = rng.getrandbits(128) & ~(0xF << 76)  # keep the UUID version nibble
            suffix = f"-c{copy_no}".encode()

            def new_id(old: UUID, mask: int = mask) -> UUID:
                return UUID(int=old.int ^ mask)

            def map_hex(m: re.Match[bytes], mask: int = mask) -> bytes:
                return b'"_data_":"%s"' % new_id(UUID(m.group(1).decode())).hex.encode()

            take = rows[: target_rows - have]
            with conn.transaction(), conn.cursor() as cur, cur.copy(
                    f'COPY "{schema}".profiles_events (originator_id, originator_version, topic, state) '
                    "FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for originator_id, version, topic, state in take:
                    state = _UUID_HEX.sub(map_hex, bytes(state))
                    if same_domain:
                        state = _rewrite_identifiers(state, copy_no)
                    else:
                        state = _DOMAIN.sub(lambda m, suffix=suffix: b'"domain":"%s%s"' % (m.group(1), suffix), state)
                    copy.write_row((new_id(originator_id), version, topic, state))
            have += len(take)
            bar.update(len(take))
        bar.close()
        # As autovacuum leaves a store's older events: hint bits set, statistics current.
        # Otherwise the first benchmark to read a million just-copied rows pays for it.
        conn.execute(f'VACUUM (ANALYZE) "{schema}".profiles_events')
    return have


def _rewrite_identifiers(state: bytes, copy_no: int) -> bytes:
    if b"@mail" in state:
        state = _EMAIL.sub(b'.k%d@mail.example.com"' % copy_no, state)
    if b'"u-' in state:
        state = _USER.sub(lambda m: b'"u%d-%s"' % (copy_no, m.group(1)), state)
    if b'"+3725' in state:
        state = _PHONE.sub(lambda m: b'"+4915%03d%s"' % (copy_no, m.group(1)), state)
    return state


def build(url: str, schema: str, rows: int, *, seed_envelopes: int, seed_contacts: int, seed: int,
          quiet: bool) -> int:
    """A store of about ``rows`` events in ``schema``; returns the exact count."""
    container = common.build_container(url, schema)
    try:
        print(f"seeding {seed_envelopes} envelopes over {seed_contacts} contacts through the write path …",
              file=sys.stderr)
        seed_store(container.app, seed_envelopes, seed_contacts, seed, quiet)
    finally:
        container.close()
    return replicate(url, schema, rows, quiet)


def build_contacts(url: str, schema: str, contacts: int, seed_contacts: int, seed: int, quiet: bool,
                   domain: str = "shop") -> int:
    """About ``contacts`` contacts, all in ``domain``: every seed envelope creates one, the
    seed is then replicated within the domain. Returns the stored row count."""
    import psycopg

    from bench.b1_write import ingest_batched

    container = common.build_container(url, schema)
    try:
        raws = list(workload.envelopes(seed_contacts, seed_contacts, seed, prefix="c", domain=domain))
        ingest_batched(container.app, raws, 1000, quiet)
    finally:
        container.close()
    with psycopg.connect(url) as conn:
        rows = conn.execute(f'SELECT count(*) FROM "{schema}".profiles_events').fetchone()[0]
    return replicate(url, schema, rows * contacts // seed_contacts, quiet, same_domain=True)
