"""docker-compose.yml cannot run here (no Docker engine); this keeps its shape honest:
PostgreSQL, Kafka in KRaft mode and the service, each with a healthcheck, the service
starting only once both dependencies are healthy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _mini_yaml(text: str) -> dict[str, Any]:
    """Block mappings, block lists and scalars: enough for a compose file when PyYAML
    is not installed. Flow values (``[...]``) stay strings."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, Any]] = [(-1, root)]
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for n, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        body = re.sub(r"\s+#.*$", "", line.strip())
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if body.startswith("- "):
            parent.append(body[2:].strip().strip("'\""))
            continue
        key, _, value = body.partition(":")
        value = value.strip()
        if value:
            parent[key.strip()] = value.strip("'\"")
            continue
        following = lines[n + 1].strip() if n + 1 < len(lines) else ""
        child: Any = [] if following.startswith("- ") else {}
        parent[key.strip()] = child
        stack.append((indent, child))
    return root


def load() -> dict[str, Any]:
    text = (ROOT / "docker-compose.yml").read_text()
    try:
        import yaml
    except ImportError:
        return _mini_yaml(text)
    return yaml.safe_load(text)


def test_three_services_each_with_a_healthcheck():
    services = load()["services"]
    assert set(services) == {"postgres", "kafka", "profiles"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_the_service_waits_for_healthy_dependencies():
    depends = load()["services"]["profiles"]["depends_on"]
    assert {name: d["condition"] for name, d in depends.items()} == {
        "postgres": "service_healthy", "kafka": "service_healthy"}


def test_postgres_15_or_16_and_kafka_in_kraft_mode():
    services = load()["services"]
    assert re.fullmatch(r"postgres:1[56](\.\d+)?(-\w+)?", services["postgres"]["image"])
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = {k: str(v) for k, v in kafka["environment"].items()}
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:29093"
    assert "CONTROLLER://:29093" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    assert "ZOOKEEPER" not in " ".join(env)


def test_the_service_is_wired_to_both():
    service = load()["services"]["profiles"]
    assert service["build"] == "."
    env = service["environment"]
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
    assert "PLAINTEXT://kafka:19092" in load()["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def test_dockerfile_installs_the_package_and_serves():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "pip install ." in dockerfile
    assert 'CMD ["profiles", "serve"]' in dockerfile
    for package in ("domain", "projections", "consumers", "api", "profiles"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_the_fallback_reader_agrees_with_yaml():
    text = (ROOT / "docker-compose.yml").read_text()
    mini = _mini_yaml(text)["services"]
    assert set(mini) == {"postgres", "kafka", "profiles"}
    assert mini["profiles"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert mini["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
