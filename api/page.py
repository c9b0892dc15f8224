"""The profile page: one HTML shell and its hand-written static modules.

The page talks to the public HTTP API only (DESIGN §4), from the browser, so this router
does nothing but hand out files. No build step, nothing fetched from the internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"
# Explicit types: module scripts are refused by browsers when served as text/plain, and
# the platform's mimetypes table cannot be trusted to know .js or .mjs.
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
         ".ico": "image/x-icon", ".json": "application/json"}
# The page may load its own files and call its own API; avatars are external links by design.
POLICY = ("default-src 'self'; img-src 'self' https: http: data:; style-src 'self'; "
          "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Cache-Control": "no-cache", "Content-Security-Policy": POLICY,
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

router = APIRouter(include_in_schema=False)


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type=TYPES[".html"], headers=HEADERS)


@router.get("/static/{path:path}", include_in_schema=False)
def asset(path: str) -> FileResponse:
    root = STATIC.resolve()
    target = (root / path).resolve()
    # Resolve first, then check containment: "..", symlinks and encoded slashes all end here.
    if not target.is_relative_to(root) or not target.is_file() or target.suffix not in TYPES:
        raise HTTPException(status_code=404, detail="Not Found")
    return FileResponse(target, media_type=TYPES[target.suffix], headers=HEADERS)
