"""Runs ``profiles serve --demo`` as a subprocess for the browser tests: embedded
PostgreSQL in a temporary data dir, a free loopback port, ready when ``/readyz`` says so."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROFILES = Path(sys.executable).with_name("profiles")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PageServer:
    """``with PageServer() as server: server.url``. Logs go to a file kept on failure."""

    def __init__(self, *, api_keys: str | None = None, ready_timeout: float = 120.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_keys = api_keys
        self.ready_timeout = ready_timeout
        self.data_dir = Path(tempfile.mkdtemp(prefix="profiles-page-"))
        self.log_path = self.data_dir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PageServer:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "PROFILES_API_KEYS", "PROFILES_DB_SCHEMA")}
        env["PROFILES_DATA_DIR"] = str(self.data_dir / "data")
        if self.api_keys:
            env["PROFILES_API_KEYS"] = self.api_keys
        command = [str(PROFILES) if PROFILES.exists() else "profiles", "serve", "--demo",
                   "--host", "127.0.0.1", "--port", str(self.port)]
        log = self.log_path.open("wb")
        # Own process group: stopping the server also stops the embedded PostgreSQL it started.
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"profiles serve exited with {self.process.returncode}:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                    head = json.load(response)["position"]
                # Ready means "within 10 000 events"; the tests want the demo fully projected.
                probe = urllib.request.Request(f"{self.url}/v1/domains?minPosition={head}", headers=self._auth())
                with urllib.request.urlopen(probe, timeout=10):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"profiles serve not ready after {self.ready_timeout}s:\n{self.logs()}")

    def _auth(self) -> dict[str, str]:
        if not self.api_keys:
            return {}
        key = self.api_keys.split(",")[0].partition(":")[2]
        return {"Authorization": f"Bearer {key}"}

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.data_dir, ignore_errors=True)
