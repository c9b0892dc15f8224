"""Contact events from a file, for ``profiles import``: NDJSON (one Kafka envelope per
line, DESIGN §3) or CSV (a contact list: one ``contact.upserted`` per row).

Reading never raises on a bad line: each line becomes its envelope or the ``Refusal``
the Kafka consumer would have sent to the dead-letter topic, so one bad row is reported
and the rest go in. A file whose shape is wrong as a whole (a CSV header naming no
identifier, or columns that cannot be variables) raises ``UnreadableFile`` before any
line is read, so nothing is half-imported for a reason the first look could see.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from consumers.records import Refusal, decode
from domain import ingest, values
from domain.errors import DomainError
from domain.meta import Meta

IDENTIFIERS, INFO = values.IDENTIFIER_KINDS, values.INFO_FIELDS
# Header spellings that name a contact field: any case, with or without _ - or spaces
# (first_name, First Name, FIRSTNAME), and "phone" for phoneNumber.
_FIELDS = {name.lower(): name for name in (*IDENTIFIERS, *INFO)} | {"phone": "phoneNumber"}
# A number as a person writes one; a leading zero (a zip code, "007") makes the column text.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")
_BOOLEAN = ("true", "false")


class UnreadableFile(ValueError):
    """The file cannot be imported as a whole; nothing was read into the store."""


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line of the file (a CSV row's first line)
    read: ingest.Envelope | Refusal


@dataclass
class Outcome:
    applied: int = 0
    duplicates: int = 0  # applied by an earlier import of the same lines
    refused: int = 0
    through: int = 0  # the last line of the last batch stored


def scan(path: Path, *, text: bool) -> tuple[str, int]:
    """(digest, line count) in one pass. The digest names a file's rows in their eventIds:
    the same file imported again (after a crash, or by mistake) applies nothing twice, and
    a changed file is a new import. ``text`` also checks the bytes are UTF-8, so a CSV
    saved in another encoding is turned away before its first row goes in."""
    digest, lines, read, last = hashlib.sha256(), 0, 0, b"\n"
    utf8 = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            if text:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as e:
                    raise UnreadableFile(f"not UTF-8 at byte {read + e.start}: save the file as UTF-8") from None
            read, last = read + len(chunk), chunk[-1:]
    return digest.hexdigest()[:16], lines + (last != b"\n")


def apply(app: Any, lines: Iterator[Line], meta: Meta, *, batch_size: int = 1000,
          refused: Callable[[int, str, str], None], outcome: Outcome | None = None) -> Outcome:
    """Apply the lines' envelopes in batches through ``app.ingest`` (the Kafka consumer's
    path: one transaction per batch, eventIds applied once); ``refused(line, code,
    message)`` hears of each line that was not. ``outcome`` is kept up to date as batches
    are stored, so a caller still has it when a batch fails."""
    outcome = outcome or Outcome()
    batch: list[tuple[int, ingest.Envelope]] = []

    def flush() -> None:
        result = app.ingest([e for _, e in batch], lambda e: meta.at(e.occurredAt))
        for (number, _), done in zip(batch, result.results, strict=True):
            if isinstance(done, DomainError):
                outcome.refused += 1
                refused(number, done.code, done.detail)
            elif isinstance(done, ingest.Duplicate):
                outcome.duplicates += 1
            else:
                outcome.applied += 1
        outcome.through = batch[-1][0]
        batch.clear()

    for line in lines:
        if isinstance(line.read, Refusal):
            outcome.refused += 1
            refused(line.number, line.read.code, line.read.message)
            continue
        batch.append((line.number, line.read))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return outcome


def ndjson_lines(stream: IO[bytes], domain: str | None) -> Iterator[Line]:
    """Envelopes as Kafka carries them; ``domain`` fills in one a line leaves out, and
    refuses a line naming another."""
    for number, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        read = decode(raw, domain)
        if domain is not None and isinstance(read, ingest.Envelope) and read.domain != domain:
            read = Refusal("invalid_domain", f"the line is for domain {read.domain!r}, the import for {domain!r}")
        yield Line(number, read)


class ContactList:
    """A CSV contact list: its header checked and each variable column typed up front (a
    first pass), then one envelope per row."""

    def __init__(self, stream: IO[str], domain: str, *, digest: str, occurred_at: datetime) -> None:
        self.domain = domain
        self.digest = digest
        self.occurred_at = occurred_at.isoformat()
        self._stream = stream
        sample = stream.read(64 * 1024)
        stream.seek(0)
        try:
            self._dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            self._dialect = csv.excel  # one column, or nothing to tell by: commas
        rows = csv.reader(stream, self._dialect)
        self.columns = self._columns(next(rows, None))
        self.types = _column_types(self.columns, rows)

    @staticmethod
    def _columns(header: list[str] | None) -> list[tuple[str, str]]:
        """(kind, name) per column: ("field", "email") or ("variable", "city")."""
        if not header:
            raise UnreadableFile("the file is empty: a CSV contact list starts with a header row")
        columns, bad = [], []
        for title in header:
            plain = re.sub(r"[\s_-]", "", title).lower()
            if plain in _FIELDS:
                columns.append(("field", _FIELDS[plain]))
                continue
            name = title.strip().removeprefix("variables.")
            try:
                columns.append(("variable", values.variable_name(name)))
            except DomainError:
                bad.append(title)
        if bad:
            raise UnreadableFile(f"columns {bad} are neither contact fields ({', '.join((*IDENTIFIERS, *INFO))}) "
                                 "nor variable names ([A-Za-z][A-Za-z0-9_]{0,63})")
        named = [name for _, name in columns]
        if not set(named) & set(IDENTIFIERS):
            raise UnreadableFile(f"no identifier column: the header needs one of {', '.join(IDENTIFIERS)}")
        if len(set(named)) != len(named):
            raise UnreadableFile(f"a column appears twice in the header: {named}")
        return columns

    def __iter__(self) -> Iterator[Line]:
        self._stream.seek(0)
        rows = csv.reader(self._stream, self._dialect)
        next(rows)  # the header
        last = rows.line_num
        for cells in rows:
            number, last = last + 1, rows.line_num  # a quoted cell may span lines
            if any(c.strip() for c in cells):
                yield Line(number, self._envelope(number, cells))

    def _envelope(self, number: int, cells: list[str]) -> ingest.Envelope | Refusal:
        if len(cells) > len(self.columns):
            return Refusal("validation_error", f"the row has {len(cells)} cells, the header {len(self.columns)}")
        if any("\x00" in c for c in cells):
            return Refusal("validation_error", values.NUL_REFUSAL)
        contact: dict[str, str] = {}
        data: dict[str, Any] = {}
        variables: dict[str, Any] = {}
        for (kind, name), type_, cell in zip(self.columns, self.types, cells, strict=False):
            cell = cell.strip()
            if not cell:
                continue  # an empty cell leaves the field as it is
            if kind == "variable":
                variables[name] = type_(cell)
            elif name in IDENTIFIERS:
                contact[name] = data[name] = cell
            else:
                data[name] = cell
        if variables:
            data["variables"] = variables
        try:
            return ingest.parse({"eventId": f"import-{self.digest}-{number}", "domain": self.domain,
                                 "type": "contact.upserted", "occurredAt": self.occurred_at,
                                 "contact": contact, "data": data})
        except DomainError as e:
            return Refusal(e.code, e.detail)


def _column_types(columns: list[tuple[str, str]], rows: Iterator[list[str]]) -> list[Callable[[str], Any]]:
    """How each column's cells become values. A variable column whose every cell is a
    number holds numbers, one of only true/false holds booleans, so segment rules such as
    ``gt`` work on them; any other column is text, so a zip code keeps its zeros."""
    numbers = [kind == "variable" for kind, _ in columns]
    booleans = list(numbers)
    for cells in rows:
        for i, cell in enumerate(cells[:len(columns)]):
            cell = cell.strip()
            if cell:
                numbers[i] = numbers[i] and _NUMBER.fullmatch(cell) is not None
                booleans[i] = booleans[i] and cell.lower() in _BOOLEAN
    return [_number if number else _boolean if boolean else str for number, boolean in zip(numbers, booleans, strict=True)]


def _number(cell: str) -> int | float:
    return float(cell) if "." in cell else int(cell)


def _boolean(cell: str) -> bool:
    return cell.lower() == "true"
