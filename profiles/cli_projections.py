"""Verbs of the read side: ``project``, ``replay``, ``export-events``; and the workers
``serve`` runs beside the API (the projection runner and the clock)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from profiles.settings import Settings

log = logging.getLogger("profiles.projections")


def register(verbs: Any) -> None:
    project = verbs.add_parser("project", help="run the projections and the clock until Ctrl-C")
    project.add_argument("--batch-size", type=int, default=1000)
    project.set_defaults(func=_project)
    replay = verbs.add_parser("replay", help="rebuild every projection from position 0 (in bulk), switch over, verify")
    replay.add_argument("--batch-size", type=int, default=1000,
                        help="events per transaction while catching up at the switch-over")
    replay.add_argument("--memory-mb", type=int, default=None,
                        help="memory the bulk rebuild may hold its contacts in (default: half of what the machine "
                             "has available); above it replay goes batch by batch, slower but in constant memory")
    replay.set_defaults(func=_replay)
    export = verbs.add_parser("export-events", help="the full event log as NDJSON (for analysts)")
    export.add_argument("--domain", default=None)
    export.add_argument("--since", type=_time, default=None, help="ISO date/time (UTC unless given), inclusive")
    export.add_argument("--until", type=_time, default=None, help="ISO date/time (UTC unless given), exclusive")
    export.add_argument("--output", "-o", default="-", help="file path, '-' for stdout")
    export.set_defaults(func=_export)


def add_workers(runtime: Any) -> None:
    from projections.clock import ClockWorker
    from projections.runner import ProjectionRunner

    container = runtime.container
    runtime.add(ProjectionRunner(container.database_url, container.settings.db_schema))
    runtime.add(ClockWorker(container.app, container.settings.clock_tick_seconds))


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # event times are UTC


def _container() -> Any:
    from profiles.bootstrap import build

    return build(Settings())


def _project(args: argparse.Namespace) -> int:
    from projections.clock import ClockWorker
    from projections.runner import ProjectionRunner

    container = _container()
    runner = ProjectionRunner(container.database_url, container.settings.db_schema, batch_size=args.batch_size,
                              progress=sys.stderr.isatty())
    # Beside `serve --api-only` this is the read side's process: time-relative segments
    # need the clock's ticks as they do under `serve`.
    clock = ClockWorker(container.app, container.settings.clock_tick_seconds)
    log.info("projecting schema=%s (Ctrl-C to stop)", container.settings.db_schema)
    clock.start()
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        clock.stop()
        container.close()
    return 0


def _replay(args: argparse.Namespace) -> int:
    from projections.replay import ReplayBusy, replay

    container = _container()
    try:
        result = replay(container.database_url, container.settings.db_schema, batch_size=args.batch_size,
                        memory_budget=None if args.memory_mb is None else args.memory_mb << 20)
    except ReplayBusy as busy:
        print(f"{busy}; try again when it has finished", file=sys.stderr)
        return 1
    finally:
        container.close()
    print(f"replayed {result.events} events (log position {result.position})")
    if not result.compared:
        print("the projections had never run: nothing to compare, rebuilt tables switched in")
        return 0
    if result.mismatched:
        print(f"checksum mismatch: {', '.join(result.mismatched)} (previous tables kept in "
              f"{container.settings.db_schema}__replaced)", file=sys.stderr)
        return 1
    print("checksums match: rebuilt tables equal the live ones")
    return 0


def _export(args: argparse.Namespace) -> int:
    from projections.export import write

    container = _container()
    try:
        if args.output == "-":
            count = write(container.database_url, container.settings.db_schema, sys.stdout.buffer,
                          domain=args.domain, since=args.since, until=args.until)
            sys.stdout.buffer.flush()
        else:
            with open(args.output, "wb") as out:
                count = write(container.database_url, container.settings.db_schema, out,
                              domain=args.domain, since=args.since, until=args.until)
    finally:
        container.close()
    print(f"exported {count} events", file=sys.stderr)
    return 0
