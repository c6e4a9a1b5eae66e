"""The schema check without Alembic answers as Alembic does, and a command refuses a store
one revision behind."""

from __future__ import annotations

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from dinhdanh.settings import Settings
from dinhdanh.store import revision
from dinhdanh.store.migrate import current_revision, head_revision, upgrade
from dinhdanh.wiring import NotInitialized, build, read_keyring
from tests.store.test_migrations import VERSIONS, _chain


def test_the_head_is_alembics() -> None:
    assert revision.head() == head_revision()
    cfg = Config()
    cfg.set_main_option("script_location", str(VERSIONS.parent))
    assert [revision.head()] == ScriptDirectory.from_config(cfg).get_heads()


def test_the_stamp_is_alembics(engine: Engine) -> None:
    assert revision.stamped(engine) is None is current_revision(engine)
    previous = _chain()[-2]
    upgrade(engine, previous)
    assert revision.stamped(engine) == current_revision(engine) == previous
    upgrade(engine)
    assert revision.stamped(engine) == current_revision(engine) == revision.head()


def test_a_store_one_revision_behind_is_refused(engine: Engine, settings: Settings) -> None:
    read_keyring(settings)  # the test's key ring comes from the settings
    upgrade(engine, _chain()[-2])
    with pytest.raises(NotInitialized, match="not up to date"):
        build(settings)
    upgrade(engine)
    build(settings).close()
