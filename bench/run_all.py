"""Every benchmark at full size, one after another: ``make bench`` / ``python -m bench.run_all``.

Each writes ``bench/results/<id>.json``; at the end the tables are printed together,
ready for the README's Performance section. ``--smoke`` runs the tiny sizes instead.
Extra arguments after ``--`` go to every benchmark (e.g. ``-- --quiet``).
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path

from bench import common

BENCHMARKS = tuple(
    f"bench.{p.stem}" for p in sorted(Path(__file__).resolve().parent.glob("b[0-9]_*.py"))
)


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=None, help="ids such as b1 b3")
    p.add_argument("rest", nargs="*", help="passed to every benchmark")
    args = p.parse_args(argv)
    chosen = [m for m in BENCHMARKS if not args.only or m.split(".")[1].split("_")[0] in args.only]
    passed = [*(["--smoke"] if args.smoke else []), *(["--quiet"] if args.quiet else []),
              *(["--no-save"] if args.no_save else []), *args.rest]
    failed = []
    for module in chosen:
        print(f"\n=== {module} {' '.join(passed)}", flush=True)
        try:
            code = importlib.import_module(module).main(passed)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            code = 1
        if code:
            failed.append(module)
    print("\n=== summary")
    for module in chosen:
        bench_id = module.split(".")[1].split("_")[0]
        path = common.RESULTS / f"{bench_id}{'-smoke' if args.smoke else ''}.json"
        if path.exists():
            record = json.loads(path.read_text())
            figures = [common.Figure(**{k: v for k, v in f.items() if k not in ("ratio", "met")})
                       for f in record["figures"]]
            print(f"\n{bench_id} {record['title']} ({record['params']})\n{common.table(figures)}")
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
