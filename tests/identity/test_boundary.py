"""No domain outside identity reads the registry's table: they go through identity.Registry.

Scans every module under src/dinhdanh except identity itself, the migrations (they are the
table's history) and ``dinhdanh/models.py`` (gathers every table's metadata for Alembic).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "dinhdanh"
EXEMPT = ("identity/", "store/migrations/", "models.py")
PRIVATE_NAMES = {"Citizen", "CITIZENS"}
# The table named in SQL text (keywords in capitals, as this code base writes SQL) or as a
# whole foreign-key string ("citizens.id").
SQL = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:\w+\.)?citizens\b")
FOREIGN_KEY = re.compile(r"citizens\.\w+")


def _text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's with each placeholder read as ``x``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
    return None


def offences(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name == "dinhdanh.identity.models"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "dinhdanh.identity"
        ):
            module = node.module or ""
            names = {a.name for a in node.names}
            if module == "dinhdanh.identity.models":
                found.append(module)
            elif module == "dinhdanh.identity" and "models" in names:
                found.append("dinhdanh.identity.models")
            found += sorted(names & PRIVATE_NAMES)
        elif (text := _text(node)) is not None and (
            SQL.search(text) or FOREIGN_KEY.fullmatch(text)
        ):
            found.append(f"SQL on citizens: {text.strip()[:60]!r}")
    return found


def _modules() -> list[Path]:
    return sorted(
        p for p in SRC.rglob("*.py") if not p.relative_to(SRC).as_posix().startswith(EXEMPT)
    )


def test_no_module_outside_identity_touches_the_citizens_table() -> None:
    assert len(_modules()) > 50  # the scan sees the code base
    bad = {p.relative_to(SRC).as_posix(): o for p in _modules() if (o := offences(p.read_text()))}
    assert bad == {}


@pytest.mark.parametrize(
    "snippet",
    [
        "from dinhdanh.identity.models import Citizen",
        "from dinhdanh.identity import models",
        "import dinhdanh.identity.models",
        "from dinhdanh.identity.service import CITIZENS",
        "q = 'SELECT id FROM store.citizens c'",
        "q = '''SELECT 1 FROM subscriptions s JOIN citizens c ON c.id_bidx = s.id_bidx'''",
        "fk = 'citizens.id'",
        "q = f'SELECT c.id FROM {STORE}.citizens c'",
    ],
)
def test_the_scan_catches_each_way_in(snippet: str) -> None:
    assert offences(snippet)


def test_the_scan_leaves_words_alone() -> None:
    assert offences('"""Citizens see who used their data; citizens from a feed."""') == []
    assert offences("path = 'demo-citizens.json'") == []
    assert offences("from dinhdanh.identity.service import Registry") == []
