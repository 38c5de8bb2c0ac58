"""The domain core stays pure: no web, database, template or file I/O imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[1] / "src" / "evalsvc" / "domain"
FORBIDDEN = {
    "litestar",
    "aiosqlite",
    "sqlite3",
    "jinja2",
    "uvicorn",
    "httpx",
    "xlsxwriter",
    "pathlib",
    "os",
    "io",
    "shutil",
    "subprocess",
    "socket",
    "asyncio",
    "tomllib",
    "evalsvc.storage",
    "evalsvc.web",
    "evalsvc.exports",
    "evalsvc.app",
    "evalsvc.catalog",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_is_pure(module: Path) -> None:
    bad = {
        name
        for name in imported_modules(module)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{module.name} imports {sorted(bad)}"


def test_domain_does_not_call_open() -> None:
    for module in DOMAIN.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open"
        ]
        assert not calls, module.name


SOURCE = Path(__file__).resolve().parents[1] / "src" / "evalsvc"
SQL_MODULES = {"storage/sqlite.py", "storage/postgres.py", "storage/migrations.py"}


def test_all_sql_lives_in_the_storage_package() -> None:
    keywords = ("SELECT ", "INSERT INTO", "CREATE TABLE", "UPDATE ", "DELETE FROM")
    holders = {
        path.relative_to(SOURCE).as_posix()
        for path in SOURCE.rglob("*.py")
        if any(k in path.read_text(encoding="utf-8") for k in keywords)
    }
    assert holders == SQL_MODULES


BACKENDS = {"evalsvc.storage.sqlite", "evalsvc.storage.postgres", "aiosqlite", "asyncpg"}


@pytest.mark.parametrize(
    "module",
    sorted(p for p in SOURCE.rglob("*.py") if "storage" not in p.relative_to(SOURCE).parts),
    ids=lambda p: p.relative_to(SOURCE).as_posix(),
)
def test_the_application_depends_on_the_storage_port_only(module: Path) -> None:
    """Outside storage/, nothing imports a backend or its driver, nor the SQLite class
    by its old name: callers get a `Storage` from `open_storage`."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    bad = {name for name in imported_modules(module) if name in BACKENDS}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "evalsvc.storage":
            bad |= {alias.name for alias in node.names} - {"Storage", "open_storage"}
    assert not bad, f"{module.name} imports {sorted(bad)}"
