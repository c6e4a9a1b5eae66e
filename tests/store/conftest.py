"""Fixtures of the storage tests: a bare engine on each backend, no schema yet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from dinhdanh.settings import Settings
from dinhdanh.store.db import make_engine


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    settings.data_dir.mkdir(parents=True)
    e = make_engine(settings.effective_database_url)
    try:
        yield e
    finally:
        e.dispose()
