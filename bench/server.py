"""The service for the HTTP benchmarks, with the server-side time of every request kept.

    python -m bench.server --port 8123 [--workers]

Configured like ``profiles serve`` from the environment (``DATABASE_URL``,
``PROFILES_DB_SCHEMA``, ``KAFKA_BOOTSTRAP_SERVERS`` …). The application is the product's
``api.app.create_app`` unchanged; an outer ASGI wrapper notes how long each request took
inside the server (first byte in → last byte out) and answers ``GET /__bench/timings``
with them, so latency percentiles are the server's and not the load generator's. Access
logging is off, as on any high-rate deployment. ``--workers`` also runs the background
workers ``serve`` runs (projections, clock, Kafka consumer and relay when configured).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import orjson


class Timed:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.timings: dict[str, list[float]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/__bench/timings":
            await self._answer(send, scope.get("query_string", b"") == b"reset")
            return
        started = time.perf_counter()
        await self.app(scope, receive, send)
        kind = "search" if b"email=" in scope.get("query_string", b"") else scope["path"].rsplit("/", 2)[-2]
        self.timings.setdefault(kind, []).append(time.perf_counter() - started)

    async def _answer(self, send: Any, reset: bool) -> None:
        body = orjson.dumps(self.timings)
        if reset:
            self.timings = {}
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def main(argv: list[str] | None = None) -> int:
    import logging

    import uvicorn

    from api.app import create_app
    from profiles import cli
    from profiles.bootstrap import build
    from profiles.runtime import Runtime
    from profiles.settings import Settings

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    container = build(Settings())
    runtime = Runtime(container)
    if args.workers:
        for area in cli._areas():  # noqa: SLF001 - the same workers `profiles serve` starts
            if hasattr(area, "add_workers"):
                area.add_workers(runtime)
    app = Timed(create_app(container, runtime))
    with runtime:
        # BENCH_UVICORN_LOOP / BENCH_UVICORN_HTTP (e.g. asyncio / h11) compare event loops and
        # HTTP parsers; by default uvicorn picks uvloop and httptools when installed.
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                    loop=os.environ.get("BENCH_UVICORN_LOOP", "auto"), http=os.environ.get("BENCH_UVICORN_HTTP", "auto"))
    container.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
