"""B4 profile read: ``GET /contacts/{id}`` and search by email over many contacts.

    python -m bench.b4_read --contacts 1000000 --concurrency 32 --seconds 20

Contacts of one domain are created through the write path (a seed), replicated within
that domain under new identifiers (see ``bench.corpus``) and projected; then the service runs in its own process
(``bench.server``: the product's app, server-side time of every request kept) and a
closed-loop keep-alive load generator (``bench.load``) reads random profiles, then
searches random emails, from loopback. Figures: requests per second and the p99 of the
server-side time, per endpoint, at ``--concurrency`` clients and at each of ``--sweep``
(fewer clients, a shorter run each): a closed loop of N clients keeps N requests in the
service, so past the number it serves at once more clients add only queueing.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from bench import common, corpus, load
from bench.b3_projections import catch_up

TARGET_P99_MS = 5.0
TARGET_RPS = 3000.0


def targets(url: str, schema: str, n: int, seed: int) -> tuple[list[str], list[str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(f'SELECT domain, id, email FROM "{schema}".profile_contacts TABLESAMPLE SYSTEM (5) '
                            "LIMIT %s", (n,)).fetchall()
        if len(rows) < n:
            rows = conn.execute(f'SELECT domain, id, email FROM "{schema}".profile_contacts LIMIT %s', (n,)).fetchall()
    rng = random.Random(seed)
    rng.shuffle(rows)
    by_id = [f"/v1/domains/{d}/contacts/{i}" for d, i, _ in rows]
    by_email = [f"/v1/domains/{d}/contacts?email={e}" for d, _, e in rows if e]
    return by_id, by_email


def measure(port: int, name: str, paths: list[str], concurrency: int, seconds: float,
            pid: int | None = None) -> dict[str, Any]:
    load.closed_loop(port, paths[:200], concurrency, min(2.0, seconds))  # warm pools, plans and caches
    load.timings(port, reset=True)
    cpu_before = common.cpu_seconds(pid)
    run = load.closed_loop(port, paths, concurrency, seconds)
    cpu_used = common.cpu_seconds(pid) - cpu_before
    server = [t for ts in load.timings(port, reset=True).values() for t in ts]
    ok = run["statuses"].get(200, 0)
    requests = len(run["latencies"])
    return {"endpoint": name, "requests": requests, "ok": ok, "statuses": run["statuses"],
            "rps": requests / run["seconds"],
            # The service's CPU per request: steadier than req/s on a shared 2-core box.
            "server_cpu_us_per_request": 1e6 * cpu_used / requests if requests and pid else None,
            "server_p50_ms": 1000 * load.percentile(server, 50), "server_p99_ms": 1000 * load.percentile(server, 99),
            "client_p50_ms": 1000 * load.percentile(run["latencies"], 50),
            "client_p99_ms": 1000 * load.percentile(run["latencies"], 99)}


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--contacts", type=int, default=1_000_000)
    p.add_argument("--seed-contacts", type=int, default=20_000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--sweep", default="1,4,8,16", help="also measure at these client counts (a quarter as long)")
    p.add_argument("--seconds", type=float, default=20.0, help="per endpoint")
    args = p.parse_args(argv)
    if args.smoke:
        args.contacts, args.seed_contacts, args.seconds, args.concurrency, args.sweep = 500, 125, 0.5, 8, "1"
    sweep = [int(n) for n in str(args.sweep).split(",") if n.strip()]
    url = common.database_url()
    with common.scratch_schema(url, "b4") as schema:
        rows = corpus.build_contacts(url, schema, args.contacts, args.seed_contacts, args.seed, args.quiet)
        catch_up(url, schema, schema, 1000, args.quiet, total=rows, desc="projecting")
        by_id, by_email = targets(url, schema, 20_000, args.seed)
        env = {"DATABASE_URL": url, "PROFILES_DB_SCHEMA": schema, "PROFILES_API_KEYS": ""}
        with load.server(env) as served:
            port = served.port
            pid = served.pid
            results = [measure(port, "GET /contacts/{id}", by_id, args.concurrency, args.seconds, pid),
                       measure(port, "GET /contacts?email=", by_email, args.concurrency, args.seconds, pid)]
            swept = [measure(port, f"{name}, {n} client{'s' if n > 1 else ''}", paths, n,
                             max(0.5, args.seconds / 4), pid)
                     for n in sweep for name, paths in (("GET /contacts/{id}", by_id),
                                                        ("GET /contacts?email=", by_email))]
        import psycopg

        with psycopg.connect(url) as conn:
            contacts = conn.execute(f'SELECT count(*) FROM "{schema}".profile_contacts').fetchone()[0]

    figures = []
    for r in results:
        figures.append(common.Figure(f"{r['endpoint']} req/s", r["rps"], "req/s", target=TARGET_RPS,
                                     note=_cpu_note(r)))
        # A closed loop of N clients keeps N requests in the system: at R req/s each spends
        # N/R on average (Little's law), in the server's event loop once it has read them.
        figures.append(common.Figure(f"{r['endpoint']} server p99", r["server_p99_ms"], "ms",
                                     target=TARGET_P99_MS, higher_is_better=False,
                                     note=f"p50 {r['server_p50_ms']:.2f} ms; {args.concurrency}/R = "
                                          f"{1000 * args.concurrency / max(r['rps'], 1):.1f} ms"))
    for r in swept:
        # Both targets at once: the rate these clients got and the p99 they saw.
        figures.append(common.Figure(f"{r['endpoint']}: server p99", r["server_p99_ms"], "ms",
                                     target=TARGET_P99_MS, higher_is_better=False,
                                     note=f"{r['rps']:.0f} req/s (target ≥ {TARGET_RPS:.0f}), client p99 "
                                          f"{r['client_p99_ms']:.2f} ms, {_cpu_note(r)}"))
    results += swept
    params = {"contacts": contacts, "concurrency": args.concurrency, "sweep": sweep, "seconds": args.seconds,
              "smoke": args.smoke}
    common.report("b4", "profile read", params, figures, url=url, extra={"endpoints": results},
                  save=not args.no_save)
    for r in results:
        print(f"{r['endpoint']}: {r['requests']} requests {r['statuses']}, server p50 {r['server_p50_ms']:.2f} ms, "
              f"client p50/p99 {r['client_p50_ms']:.2f}/{r['client_p99_ms']:.2f} ms, {_cpu_note(r)}")
    return 0 if all(r["ok"] == r["requests"] for r in results) else 1


def _cpu_note(r: dict[str, Any]) -> str:
    cpu = r.get("server_cpu_us_per_request")
    return f"server CPU {cpu:.0f} µs/request" if cpu else ""


if __name__ == "__main__":
    sys.exit(main())
