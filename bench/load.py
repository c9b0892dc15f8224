"""A small keep-alive HTTP/1.1 load generator on asyncio streams, and the server process.

A Python HTTP client (httpx) costs more CPU per request than the service it measures;
on 2 shared cores that would cap the rate at the client. This one writes a request and
reads the status line, headers and ``Content-Length`` body, nothing more, over a fixed
number of connections (``concurrency``), each sending its next request when the
previous answer is in (a closed loop).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    pid: int


@contextmanager
def server(env: dict[str, str], *, workers: bool = False, timeout: float = 60.0) -> Iterator[Server]:
    """``bench.server`` in a subprocess; yields its port and pid once it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.server", "--port", str(port), *(["--workers"] if workers else [])]
    process = subprocess.Popen(cmd, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bench.server exited with {process.returncode}")
            try:
                status, _ = get(port, "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("bench.server did not answer /healthz")
            time.sleep(0.1)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def roles(env: dict[str, str], *verbs: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``profiles <verb>`` processes (``project``, ``consume`` …: the service's roles run
    apart, README Scaling), stopped on the way out."""
    processes = [subprocess.Popen([sys.executable, "-m", "profiles.cli", verb], env={**os.environ, **env},
                                  stdout=subprocess.DEVNULL) for verb in verbs]
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def get(port: int, path: str) -> tuple[int, bytes]:
    return asyncio.run(_one(port, path))


async def _one(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request(path))
        return await _response(reader)
    finally:
        writer.close()


def timings(port: int, *, reset: bool = False) -> dict[str, list[float]]:
    status, body = get(port, "/__bench/timings" + ("?reset" if reset else ""))
    assert status == 200, status
    return orjson.loads(body)


def _request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _closed_loop(port: int, paths: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = offset
        try:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                writer.write(_request(paths[n % len(paths)]))
                status, _ = await _response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                n += concurrency
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return {"seconds": time.perf_counter() - started, "statuses": statuses, "latencies": latencies}


def closed_loop(port: int, paths: list[str], concurrency: int, seconds: float) -> dict[str, Any]:
    return asyncio.run(_closed_loop(port, paths, concurrency, seconds))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]
