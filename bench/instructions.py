"""CPU per envelope of the B1 write path, counted in instructions by valgrind.

    python -m bench.instructions                      # this checkout
    python -m bench.instructions --measure 5000       # more envelopes: steadier, slower

Seconds do not show a change of a few per cent here: machines of this kind differ by up to
2.7 times between sessions and by about 5 % from one run to the next. Callgrind counts the
instructions the Python process executes, which repeat within 1 % for the same code and
data, whatever else the machine does. B1's batched ingest runs twice under it — the
warm-up alone, then the warm-up and the measured envelopes, both runs generating all the
envelopes — and the difference is divided by their number. PostgreSQL's own work is not
counted. About 3 minutes for the defaults; compare two commits by running it in a worktree
of each. (Counts before 2026-11-29 do not compare with these: their warm-up-alone run
generated only the warm-up's number of envelopes, and the workload spreads its contacts
over the number asked for, so that warm-up was other envelopes — twice as many contacts
created — than the one it was subtracted from.)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

from bench import common


def count(warm: int, measure: int, contacts: int, seed: int, *, ingest_measured: bool) -> int:
    """Instructions of one child run under callgrind."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m",
               "bench.instructions", "--child", "--warm", str(warm), "--measure", str(measure),
               "--contacts", str(contacts), "--seed", str(seed)]
    if not ingest_measured:
        command.append("--warm-only")
    # One hash seed: dict and set layouts, hence instruction counts, repeat run to run.
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"},
                          check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or found is None:
        raise SystemExit(f"the run under valgrind failed:\n{done.stderr[-2000:]}")
    return int(found[1])


def child(warm: int, measure: int, contacts: int, seed: int, *, ingest_measured: bool) -> None:
    from bench import b1_write, workload

    # Both runs generate every envelope: the same warm-up then, and the difference is the
    # measured ingest alone (the workload spreads contacts over the number asked for).
    raws = list(workload.envelopes(warm + measure, contacts, seed))
    url = common.database_url()
    with common.scratch_schema(url, "instr") as schema:
        container = common.build_container(url, schema)
        try:
            b1_write.ingest_batched(container.app, raws[:warm], 1000, True, tracking="warm")
            if ingest_measured:
                b1_write.ingest_batched(container.app, raws[warm:], 1000, True, tracking="measured")
        finally:
            container.close()


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--warm", type=int, default=5000, help="envelopes ingested first, not counted")
    p.add_argument("--measure", type=int, default=5000, help="envelopes counted")
    p.add_argument("--contacts", type=int, default=2000)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # the run under valgrind
    p.add_argument("--warm-only", action="store_true", help=argparse.SUPPRESS)  # ... ingesting the warm-up only
    args = p.parse_args(argv)
    if args.child:
        child(args.warm, args.measure, args.contacts, args.seed, ingest_measured=not args.warm_only)
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    bar = common.progress(2, "B1 under callgrind", quiet=args.quiet, unit="run")
    warm_only = count(args.warm, args.measure, args.contacts, args.seed, ingest_measured=False)
    bar.update(1)
    both = count(args.warm, args.measure, args.contacts, args.seed, ingest_measured=True)
    bar.update(1)
    bar.close()
    per_envelope = (both - warm_only) / args.measure
    print(f"B1 write path: {per_envelope:,.0f} instructions per envelope "
          f"({args.measure} envelopes after {args.warm}, {args.contacts} contacts, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
