"""What every benchmark shares: a scratch schema, the machine it ran on, a progress bar,
and one way to print and store figures.

A figure is compared with a baseline measured *in the same run* on the same machine, so
the ratio means something even when the absolute number is noisy (2 shared cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def parser(description: str) -> argparse.ArgumentParser:
    _exit_cleanly_on_sigterm()
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--smoke", action="store_true", help="tiny size, for the test suite")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-save", action="store_true", help="do not write bench/results/<id>.json")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _exit_cleanly_on_sigterm() -> None:
    """A terminated benchmark still drops its schema and stops its broker and server
    (``finally`` blocks run on SystemExit, not on the default SIGTERM death)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# -- the scratch schema ------------------------------------------------------------------


@contextmanager
def scratch_schema(url: str, bench_id: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL schema owned by one benchmark run, dropped afterwards."""
    import psycopg

    name = f"bench_{bench_id}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        if not keep:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def build_container(url: str, schema: str, **overrides: Any) -> Any:
    from profiles.bootstrap import build
    from profiles.settings import Settings

    given = {"DATABASE_URL": url, "PROFILES_DB_SCHEMA": schema, "KAFKA_BOOTSTRAP_SERVERS": None,
             "PROFILES_API_KEYS": None, **overrides}
    settings = Settings(**given)
    return build(settings)


# -- progress ----------------------------------------------------------------------------


def progress(total: int | None, desc: str, *, quiet: bool = False, unit: str = "ev") -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, disable=quiet, dynamic_ncols=True,
                mininterval=0.5, smoothing=0.1)


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def cpu_seconds(pid: int | None) -> float:
    """CPU time the process has used (user + system), 0 where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """CPU time the PostgreSQL processes on this machine have used, or None when none is
    visible (a server elsewhere): with ``time.process_time`` it splits a benchmark's
    CPU between Python and the database. A backend that exits between two readings
    takes its share with it, so keep the connections open across them (a pool does)."""
    try:
        pids = [int(entry.name) for entry in os.scandir("/proc") if entry.name.isdigit()]
    except OSError:
        return None
    total, seen = 0.0, False
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != "postgres":
                    continue
        except OSError:
            continue  # gone since the listing
        seen = True
        total += cpu_seconds(pid)
    return total if seen else None


# -- the machine -------------------------------------------------------------------------


def machine_info(url: str | None = None) -> dict[str, Any]:
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if url:
        import psycopg

        try:
            with psycopg.connect(url, autocommit=True) as conn:
                info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
                info["pg_fsync"] = conn.execute("SHOW fsync").fetchone()[0]
                info["pg_synchronous_commit"] = conn.execute("SHOW synchronous_commit").fetchone()[0]
        except Exception as e:  # noqa: BLE001 - machine info must never sink a run
            info["postgresql"] = f"unavailable: {type(e).__name__}"
    try:
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                            text=True, check=False, cwd=ROOT).stdout.strip()
    except OSError:
        pass
    return info


# -- figures -----------------------------------------------------------------------------


@dataclass
class Figure:
    """One measured number, its baseline and its target.

    ``ratio`` is value / baseline (or baseline / value, a speed-up, when
    ``ratio_is_value_over_baseline`` is False). ``higher_is_better`` says how ``target``
    reads, and for a value/baseline ratio also how ``ratio_target`` reads.
    """

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: float | None = None
    ratio_target: float | None = None
    higher_is_better: bool = True
    ratio_is_value_over_baseline: bool = True
    note: str = ""
    ratio: float | None = field(default=None, init=False)
    met: bool | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.baseline:
            self.ratio = (self.value / self.baseline if self.ratio_is_value_over_baseline
                          else self.baseline / self.value if self.value else None)
        checks: list[bool] = []
        if self.target is not None:
            checks.append(self.value >= self.target if self.higher_is_better else self.value <= self.target)
        if self.ratio_target is not None and self.ratio is not None:
            checks.append(self.ratio <= self.ratio_target if self._ratio_at_most() else self.ratio >= self.ratio_target)
        self.met = all(checks) if checks else None

    def _ratio_at_most(self) -> bool:
        """value/baseline of a latency must stay under the target (``≤ 2×`` the new
        contact); a rate's ratio, or a speed-up, must reach it."""
        return self.ratio_is_value_over_baseline and not self.higher_is_better

    def target_text(self) -> str:
        parts = []
        if self.target is not None:
            parts.append(f"{'≥' if self.higher_is_better else '≤'} {_num(self.target)} {self.unit}")
        if self.ratio_target is not None:
            sym = "≤" if self._ratio_at_most() else "≥"
            parts.append(f"ratio {sym} {_num(self.ratio_target)}×")
        return "; ".join(parts) or "—"


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}".replace(",", " ")
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def table(figures: list[Figure]) -> str:
    header = ["figure", "value", "baseline", "ratio", "target", "met?"]
    rows = [header]
    for f in figures:
        base = f"{_num(f.baseline)} {f.unit} ({f.baseline_name})" if f.baseline is not None else "—"
        rows.append([f.name, f"{_num(f.value)} {f.unit}", base,
                     f"{f.ratio:.2g}×" if f.ratio is not None and f.ratio < 1 else f"{f.ratio:.1f}×" if f.ratio is not None else "—", f.target_text(),
                     {True: "yes", False: "NO", None: "—"}[f.met]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(bench_id: str, title: str, params: dict[str, Any], figures: list[Figure], *,
           url: str | None = None, extra: dict[str, Any] | None = None, save: bool = True) -> dict[str, Any]:
    """Print the table and write ``bench/results/<bench_id>.json``; returns the record."""
    record = {
        "id": bench_id,
        "title": title,
        "finished_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "params": params,
        "machine": machine_info(url),
        "figures": [asdict(f) for f in figures],
        "extra": extra or {},
    }
    print(f"\n{bench_id}: {title}  ({', '.join(f'{k}={v}' for k, v in params.items())})")
    print(table(figures))
    m = record["machine"]
    print(f"machine: {m.get('nproc')} cores, {m.get('ram_gib')} GiB, {m.get('cpu')}, "
          f"PostgreSQL {m.get('postgresql')}, load {m.get('load_avg_1m')}")
    if save:
        # BENCH_RESULTS_DIR lets the smoke test keep its records out of the repository.
        out = Path(os.environ.get("BENCH_RESULTS_DIR") or RESULTS)
        out.mkdir(parents=True, exist_ok=True)
        suffix = "-smoke" if params.get("smoke") else ""
        path = out / f"{bench_id}{suffix}.json"
        path.write_text(json.dumps(record, indent=2, default=str) + "\n")
        print(f"written {path}")
    return record
