"""``profiles bench``: the benchmarks of ``bench/`` from the service's own command line.

``profiles bench`` runs them all at full size (as ``make bench``); ``profiles bench b1
b3 --smoke`` runs a few at their tiny sizes. Figures land in ``bench/results/``.
The ``bench`` package lives in the source tree, not in the installed wheel, so the verb
says so instead of failing when it is missing.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(verbs: Any) -> None:
    bench = verbs.add_parser("bench", help="run the benchmarks (bench/), print and store their figures")
    bench.add_argument("ids", nargs="*", help="b1 … b7; all when none")
    bench.add_argument("--smoke", action="store_true", help="tiny sizes")
    bench.add_argument("--quiet", action="store_true", help="no progress bars")
    bench.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    try:
        from bench import run_all
    except ModuleNotFoundError:
        print("the bench/ folder is not importable here: run from the source tree (make bench)")
        return 2
    argv = [*(["--smoke"] if args.smoke else []), *(["--quiet"] if args.quiet else [])]
    if args.ids:
        argv += ["--only", *args.ids]
    return run_all.main(argv)
