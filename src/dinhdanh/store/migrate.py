"""Run Alembic migrations programmatically; the same history serves SQLite and PostgreSQL.

Revision ids are ``NNNN_slug``, NNNN following the chain order (tests/store/test_migrations.py
holds them to it). ``make revision m="..."`` calls :func:`new_revision`.
"""

from __future__ import annotations

import re
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

# Ids the history had before they followed the chain order (branches merged out of order).
# A database stamped with one is moved to the new name before Alembic reads it.
RENAMED = {
    "0001": "0001_citizens_audit_keys",
    "0002": "0002_telecom",
    "0003": "0003_auth_oidc",
    "0007_atomic_counters": "0006_atomic_counters",
    "0010_api_keys_expiry": "0007_api_keys_expiry",
    "0006_telecom_ranges": "0010_telecom_ranges",
}

# alembic_version.version_num is VARCHAR(32).
MAX_ID_LENGTH = 32

# How autogenerate compares the models with a database, for `make revision` and the test that
# the history builds the models' schema. Both backends agree on types and server defaults.
COMPARE: dict[str, Any] = {"compare_type": True, "compare_server_default": True}

_VERSION = sa.table("alembic_version", sa.column("version_num", sa.String))


def _config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("dinhdanh.store") / "migrations"))
    cfg.set_main_option("file_template", "%%(rev)s")  # the file is named as its revision id
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def _rename_old_revision(engine: Engine) -> None:
    with engine.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current in RENAMED:
            conn.execute(sa.update(_VERSION).values(version_num=RENAMED[current]))


def upgrade(engine: Engine, revision: str = "head") -> None:
    _rename_old_revision(engine)
    command.upgrade(_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Back to ``revision`` (tests of a migration's data path; no command offers it)."""
    command.downgrade(_config(engine), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return RENAMED.get(current, current) if current is not None else None


def drift(engine: Engine) -> list[Any]:
    """What autogenerate finds between the database and the models (empty when they match)."""
    from dinhdanh.models import metadata

    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts=COMPARE), metadata))


def next_revision_id(message: str) -> str:
    """``NNNN_slug``: the number after the head's, the message in lower case as the slug."""
    head = head_revision()
    number = int(head.split("_", 1)[0]) + 1 if head else 1
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_") or "revision"
    return f"{number:04d}_{slug}"[:MAX_ID_LENGTH].rstrip("_")


def new_revision(message: str, version_path: Path | None = None) -> Path:
    """Autogenerate the next revision: a scratch SQLite database is upgraded to head and
    compared with the models. Returns the new file (in the package's history by default)."""
    from dinhdanh.store.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'head.db'}")
        try:
            upgrade(engine)
            cfg = _config(engine)
            if version_path is not None:
                # Alembic writes only into a known version location: add the given one.
                versions = ScriptDirectory.from_config(cfg).versions
                cfg.set_main_option("version_locations", f"{versions} {version_path}")
                cfg.set_main_option("path_separator", "space")
            script = command.revision(
                cfg,
                message,
                autogenerate=True,
                rev_id=next_revision_id(message),
                version_path=str(version_path) if version_path is not None else None,
            )
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):  # one revision in, one out
        raise RuntimeError(f"alembic made no single revision: {script!r}")
    return Path(script.path)
