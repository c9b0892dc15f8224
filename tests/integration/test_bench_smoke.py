"""Every benchmark at its tiny ``--smoke`` size, so none of them can rot unnoticed.

These check that a benchmark runs end to end and records sane figures, not that it is
fast: the figures themselves come from ``make bench`` on a quiet machine.
"""

from __future__ import annotations

import importlib
import json

import pytest

from bench.run_all import BENCHMARKS


# The floor measured for a proposal (bench/proposals/README.md) is not part of `make bench`.
@pytest.mark.parametrize("module", [*BENCHMARKS, "bench.proposals.lean_floor"])
def test_benchmark_smoke_run_records_its_figures(module, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path))
    bench = importlib.import_module(module)

    assert bench.main(["--smoke", "--quiet"]) == 0

    (written,) = tmp_path.glob("*-smoke.json")
    record = json.loads(written.read_text())
    assert record["params"]["smoke"] is True
    assert record["machine"]["nproc"] >= 1 and record["machine"]["postgresql"]
    assert record["figures"], "a benchmark must report at least one figure"
    for figure in record["figures"]:
        assert figure["value"] > 0, figure
        assert figure["baseline"] is None or figure["baseline"] > 0, figure
    if module == "bench.b1_write":  # the CPU split the README quotes, with PostgreSQL on this machine
        cpu = record["extra"]["cpu_us_per_envelope"]
        # PostgreSQL's is read in clock ticks (10 ms): at this size it may round to none.
        assert cpu["python"] > 0 and cpu["wall"] > 0 and cpu["postgresql"] is not None, cpu
