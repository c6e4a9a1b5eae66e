"""Storage: the SQLAlchemy engine and sessions, the declarative base, Alembic migrations."""

from typing import TYPE_CHECKING, Any

from dinhdanh.store.db import Base, make_engine, make_sessionmaker, unit_of_work

if TYPE_CHECKING:
    from dinhdanh.store.migrate import current_revision, head_revision, upgrade

__all__ = [
    "Base",
    "current_revision",
    "head_revision",
    "make_engine",
    "make_sessionmaker",
    "unit_of_work",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    # Alembic is imported on first use: a command that only opens the store never migrates.
    if name in {"current_revision", "head_revision", "upgrade"}:
        from dinhdanh.store import migrate

        return getattr(migrate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
