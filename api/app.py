"""The FastAPI application factory (built by the composition root, never at import)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def create_app(container: Any, runtime: Any = None) -> FastAPI:
    app = FastAPI(title="Contact Profiles", version="0.1.0")
    app.state.container = container

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz() -> dict[str, Any]:
        return {"position": container.app.recorder.max_notification_id() or 0, "projections": {}}

    return app
