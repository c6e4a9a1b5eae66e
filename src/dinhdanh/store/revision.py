"""The schema check every command makes, without Alembic (a tenth of a second to import).

The history's files are named as their revision ids, ``NNNN_slug`` in chain order
(tests/store/test_migrations.py holds both), so the head is the greatest file name; the
database's revision is the one row Alembic keeps in ``alembic_version``. Migrating still goes
through Alembic (``store.migrate``); tests/store/test_revision.py holds both answers equal.
"""

from __future__ import annotations

from importlib.resources import files

import sqlalchemy as sa
from sqlalchemy import Engine

VERSION = sa.table("alembic_version", sa.column("version_num", sa.String))


def head() -> str:
    """The newest revision id of the history shipped with this code."""
    versions = files("dinhdanh.store") / "migrations" / "versions"
    names = (p.name for p in versions.iterdir() if p.name.endswith(".py"))
    return max(n.removesuffix(".py") for n in names if n[:4].isdigit())


def stamped(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.scalar(sa.select(VERSION.c.version_num))
