"""Dependencies point one way: domain code never imports the web framework or the web layer."""

from __future__ import annotations

import ast
from pathlib import Path

import dinhdanh

SRC = Path(dinhdanh.__file__).parent
EDGES = ("web", "cli")  # the thin layers, which may
FORBIDDEN = ("fastapi", "starlette", "dinhdanh.web", "dinhdanh.cli")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_domain_module_imports_the_web_layer() -> None:
    domain = [p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] not in EDGES]
    assert len(domain) > 50  # the scan sees the tree
    offenders = sorted(
        f"{p.relative_to(SRC)}: {name}"
        for p in domain
        for name in _imports(p)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )
    assert offenders == []


def test_the_scan_finds_such_an_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from starlette.requests import Request\nimport fastapi.routing\n")
    assert {"starlette.requests", "fastapi.routing"} <= _imports(module)
