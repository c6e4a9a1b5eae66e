"""The Alembic history: it builds exactly the models' schema, its ids follow the chain, and a
database stamped with an id from before the renumbering still upgrades."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from dinhdanh.store import current_revision, head_revision, upgrade
from dinhdanh.store.migrate import MAX_ID_LENGTH, RENAMED, drift, new_revision, next_revision_id

VERSIONS = Path(__file__).parents[2] / "src/dinhdanh/store/migrations/versions"
ID = re.compile(r"(\d{4})_[a-z0-9]+(_[a-z0-9]+)*")


def _chain() -> list[str]:
    """Revision ids from the first to the head."""
    cfg = Config()
    cfg.set_main_option("script_location", str(VERSIONS.parent))
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, "the history has branched: rebase it into one chain"
    ids = [rev.revision for rev in script.walk_revisions("base", "heads")]
    return ids[::-1]


def _stamp(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_models_match_the_migrations(engine: Engine) -> None:
    upgrade(engine)
    assert drift(engine) == []


def test_the_comparison_sees_what_the_last_revision_adds(engine: Engine) -> None:
    # A control: one revision short of head, what the last revision adds is reported missing
    # (tables or columns, whichever the newest revision brings).
    chain = _chain()
    upgrade(engine, chain[-2])
    assert drift(engine) != []
    upgrade(engine)
    assert drift(engine) == []


@pytest.mark.parametrize("old", ["0003", "0007_atomic_counters", "0006_telecom_ranges"])
def test_a_database_at_an_old_revision_id_upgrades(engine: Engine, old: str) -> None:
    upgrade(engine, RENAMED[old])
    _stamp(engine, old)  # as the history named this revision before the renumbering
    assert current_revision(engine) == RENAMED[old]
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert drift(engine) == []


def test_revision_ids_follow_the_chain_order() -> None:
    chain = _chain()
    for position, rev in enumerate(chain, start=1):
        m = ID.fullmatch(rev)
        assert m, f"{rev}: revision ids are NNNN_slug (lower case)"
        assert int(m.group(1)) == position, f"{rev} is number {position} in the chain"
        assert len(rev) <= MAX_ID_LENGTH
    assert sorted(p.stem for p in VERSIONS.glob("*.py")) == chain  # files named as their ids


def test_old_ids_are_not_reused() -> None:
    chain = _chain()
    assert not set(RENAMED) & set(chain)
    assert set(RENAMED.values()) <= set(chain)


def test_new_revision_takes_the_next_number(tmp_path: Path) -> None:
    chain = _chain()
    expected = f"{len(chain) + 1:04d}_add_a_thing"
    assert next_revision_id("Add a thing!") == expected
    path = new_revision("Add a thing!", tmp_path)
    assert path == tmp_path / f"{expected}.py"
    text = path.read_text(encoding="utf-8")
    assert f"revision: str = '{expected}'" in text
    assert f"down_revision: str | None = '{chain[-1]}'" in text
    # The models match the history, so autogenerate has nothing to write.
    upgrade_body = text.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    code = [s for line in upgrade_body.splitlines() if (s := line.strip()) and s[0] != "#"]
    assert code == ["pass"]


def test_a_long_message_keeps_the_id_within_the_version_column() -> None:
    rev = next_revision_id("a very long description of what this revision changes " * 3)
    assert len(rev) <= MAX_ID_LENGTH
    assert ID.fullmatch(rev)
