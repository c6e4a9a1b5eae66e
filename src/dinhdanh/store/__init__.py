"""Storage: the SQLAlchemy engine and sessions, the declarative base, Alembic migrations."""

from dinhdanh.store.db import Base, make_engine, make_sessionmaker, unit_of_work
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
