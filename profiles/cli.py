"""``profiles``: the command line of the service.

Each area registers its own verbs (``register(verbs)``) and its background workers for
``serve`` (``add_workers(runtime)``), so this file stays the small switchboard.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from types import ModuleType

from profiles import logs
from profiles.settings import Settings

# Areas in the order their workers start: projections before the consumer and relay.
AREAS = ("profiles.cli_projections", "profiles.cli_kafka", "profiles.cli_import", "profiles.cli_bench")


def _areas() -> list[ModuleType]:
    found = []
    for name in AREAS:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
    return found


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from profiles.bootstrap import build
    from profiles.runtime import Runtime

    settings = Settings()
    container = build(settings)
    runtime = Runtime(container)
    if args.demo:
        from profiles.demo import load_demo

        loaded = load_demo(container.app)
        logging.getLogger("profiles").info("demo domain %s", "loaded" if loaded else "already present")
    if not args.api_only:
        for area in _areas():
            if hasattr(area, "add_workers"):
                area.add_workers(runtime)
    app = create_app(container, runtime)
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler that
    # would kill the process before the workers stop, so turn it into a normal exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with runtime:
            # URLs of searches carry emails and phones: no access log. Its own loggers go
            # through ours (log_config=None), whose lines are redacted (profiles.logs).
            uvicorn.run(app, host=args.host or settings.host, port=args.port or settings.port, log_level="info",
                        access_log=False, log_config=None)
    finally:
        container.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    parser = argparse.ArgumentParser(prog="profiles", description="Contact Profiles service")
    verbs = parser.add_subparsers(dest="verb", required=True)
    serve = verbs.add_parser("serve", help="run the HTTP API with projections (and Kafka when configured)")
    serve.add_argument("--demo", action="store_true", help="load the sample domain 'demo' once")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    # One process per role uses every core (the GIL lets one process use about one):
    # `serve --api-only` beside `profiles project` and `profiles consume` (README, Scaling).
    serve.add_argument("--api-only", action="store_true",
                       help="only the HTTP API; run `profiles project` and `profiles consume` beside it")
    serve.set_defaults(func=_serve)
    for area in _areas():
        area.register(verbs)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
