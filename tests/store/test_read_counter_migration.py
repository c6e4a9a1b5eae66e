"""Migration 0015 puts the platforms' read counters in slots: counts made before it survive,
and its downgrade folds the slots of a day back into one row."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import Engine

from dinhdanh.store.migrate import downgrade, upgrade

DAY = date(2026, 12, 1)
READS = sa.table(
    "platform_status_reads", *(sa.column(c) for c in ("platform", "day", "slot", "reads"))
)
BEFORE = sa.table("platform_status_reads", *(sa.column(c) for c in ("platform", "day", "reads")))


def _rows(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        q = sa.select(READS.c.platform, READS.c.reads).order_by(READS.c.platform)
        return [(p, int(n)) for p, n in conn.execute(q)]


def test_counts_survive_the_slots_and_their_removal(engine: Engine) -> None:
    upgrade(engine, "0019_phone_checks")
    with engine.begin() as conn:
        conn.execute(
            sa.insert(BEFORE),
            [
                {"platform": "zalo", "day": DAY, "reads": 7},
                {"platform": "fb", "day": DAY, "reads": 2},
            ],
        )
    upgrade(engine, "0020_feed_order")
    assert _rows(engine) == [("fb", 2), ("zalo", 7)]
    with engine.begin() as conn:  # what parallel reads leave: more slots of one day
        more = [{"platform": "zalo", "day": DAY, "slot": s, "reads": 5} for s in (3, 9)]
        conn.execute(sa.insert(READS), more)
    downgrade(engine, "0019_phone_checks")
    assert _rows(engine) == [("fb", 2), ("zalo", 17)]
