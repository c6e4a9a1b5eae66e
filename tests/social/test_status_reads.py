"""The per-day read counter in slots: parallel reads spread over slots on PostgreSQL, yet add
up exactly (tests/store/test_read_counter_migration.py: counts made before the slots)."""

from __future__ import annotations

import sqlalchemy as sa

from dinhdanh.social.models import StatusReads
from dinhdanh.social.service import Status
from dinhdanh.wiring import Container
from tests.parallel import BURST, burst, only
from tests.social.conftest import add_platform


def test_parallel_reads_add_up_across_slots(container: Container, backend: str) -> None:
    add_platform(container, "zalo")
    today = container.clock().date()

    def read(_i: int) -> list[Status]:
        with container.unit_of_work() as s:
            return container.social.status(s, "zalo", ["a", "b"], container.clock())

    only(burst(read))
    with container.unit_of_work() as s:
        assert container.social.reads(s, "zalo", today) == 2 * BURST
        slots = s.execute(sa.select(sa.func.count()).select_from(StatusReads)).scalar_one()
    # The pool's connections at once: on PostgreSQL their reads did not share one row.
    assert slots > 1 if backend == "postgres" else slots == 1
