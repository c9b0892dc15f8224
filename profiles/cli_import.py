"""``profiles import``: a CSV contact list or an NDJSON file of contact events, applied
through the batch path the Kafka consumer uses, recorded with method ``import``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from profiles import logs
from profiles.settings import Settings

SHOWN_REFUSALS = 10  # on stderr; --rejects keeps them all


def register(verbs: Any) -> None:
    p = verbs.add_parser("import", help="apply a CSV contact list or an NDJSON file of contact events",
                         description="A CSV file is a contact list: a header row naming userId, email and/or "
                                     "phoneNumber (and any of firstName, lastName, language, timezone, birthday, "
                                     "avatarLink), every other column a variable; each row creates or updates its "
                                     "contact, and an empty cell leaves that field as it is. An NDJSON file holds "
                                     "one Kafka envelope per line (README, Kafka). Importing the same file again "
                                     "applies nothing twice.")
    p.add_argument("file", type=Path)
    p.add_argument("--domain", help="the domain to import into (required for CSV; "
                                    "fills in NDJSON lines that name none)")
    p.add_argument("--format", choices=("csv", "ndjson"), default=None,
                   help="default: csv for a .csv/.tsv/.txt file, else ndjson")
    p.add_argument("--rejects", type=Path, default=None,
                   help="write every refused line here as NDJSON {line, code, message}")
    p.add_argument("--actor", default="import", help="who the changes are recorded as made by (default: import)")
    p.add_argument("--batch-size", type=int, default=1000, help="lines per transaction")
    p.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    from consumers import files
    from domain import values
    from domain.errors import DomainError
    from domain.meta import Meta

    csv_file = (args.format or ("csv" if args.file.suffix.lower() in (".csv", ".tsv", ".txt") else "ndjson")) == "csv"
    try:
        if args.domain is not None:
            values.domain_slug(args.domain)
        elif csv_file:
            raise files.UnreadableFile("a CSV contact list needs --domain")
        meta = Meta(method="import", actor=args.actor)
        digest, total = files.scan(args.file, text=csv_file)
    except (DomainError, files.UnreadableFile, OSError) as e:
        print(f"profiles import: {getattr(e, 'detail', None) or e}", file=sys.stderr)
        return 2

    from api.errors import DATABASE_UNAVAILABLE
    from profiles.bootstrap import build

    container = build(Settings())
    outcome = files.Outcome()
    try:
        with _Report(total, args.rejects) as report:
            if csv_file:
                with open(args.file, encoding="utf-8-sig", newline="") as f:
                    rows = files.ContactList(f, args.domain, digest=digest, occurred_at=datetime.now(tz=UTC))
                    files.apply(container.app, report.follow(rows), meta, batch_size=args.batch_size,
                                refused=report.refused, outcome=outcome)
            else:
                with open(args.file, "rb") as f:
                    files.apply(container.app, report.follow(files.ndjson_lines(f, args.domain)), meta,
                                batch_size=args.batch_size, refused=report.refused, outcome=outcome)
    except files.UnreadableFile as e:
        print(f"profiles import: {e}", file=sys.stderr)
        return 2
    except DATABASE_UNAVAILABLE as e:
        print(f"profiles import: the database went away ({type(e).__name__}) after line {outcome.through}; "
              f"{_summary(outcome, args.rejects)}. Run the same command again to go on: the lines "
              "already applied are skipped.", file=sys.stderr)
        return 1
    finally:
        container.close()
    print(_summary(outcome, args.rejects))
    return 1 if outcome.refused else 0


def _summary(outcome: Any, rejects: Path | None) -> str:
    return (f"{outcome.applied} applied, {outcome.duplicates} already applied before, {outcome.refused} refused"
            + (f" (all listed in {rejects})" if rejects and outcome.refused else ""))


class _Report:
    """The progress bar (on a terminal), the first refusals on stderr, all of them in
    the ``--rejects`` file."""

    def __init__(self, total: int, rejects: Path | None) -> None:
        self.total = total
        self.rejects_path = rejects
        self.shown = 0

    def __enter__(self) -> _Report:
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, unit="line", unit_scale=True, file=sys.stderr,
                        disable=not sys.stderr.isatty())
        self.rejects = open(self.rejects_path, "wb") if self.rejects_path else None  # noqa: SIM115 - closed in __exit__
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
        if self.rejects is not None:
            self.rejects.close()

    def follow(self, lines: Iterator[Any]) -> Iterator[Any]:
        for line in lines:
            self.bar.update(line.number - self.bar.n)
            yield line
        self.bar.update(self.total - self.bar.n)

    def refused(self, line: int, code: str, message: str) -> None:
        if self.rejects is not None:
            self.rejects.write(orjson.dumps({"line": line, "code": code, "message": message}) + b"\n")
        if self.shown < SHOWN_REFUSALS:
            # stderr is often a log (a job's, a container's): addresses masked as in the
            # service's log lines; the line number finds the row, --rejects keeps it whole.
            self.shown += 1
            self.bar.write(logs.redact(f"line {line}: {code}: {message}"), file=sys.stderr)
