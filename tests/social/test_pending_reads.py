"""The status routes' read counts, gathered in the process and written a moment later: the
platform-day's count is exact at every moment in the process (written plus pending), the
table catches up within the flush interval, at shutdown, and after a failed write."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dinhdanh.social.models import StatusReads
from dinhdanh.social.pending_reads import Day, PendingReads
from dinhdanh.social.service import Status
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.parallel import BURST, burst, only
from tests.social.conftest import add_platform

BATCH = "/api/v1/platforms/zalo/accounts:status"


def written(c: Container, code: str = "zalo") -> int:
    """The platform's reads of today in the table (not this process's pending ones)."""
    r = StatusReads
    with c.unit_of_work() as s:
        stmt = sa.select(sa.func.sum(r.reads)).where(r.platform == code, r.day == c.clock().date())
        return int(s.scalar(stmt) or 0)


def test_counts_are_pending_then_written_once(container: Container) -> None:
    zalo = add_platform(container, "zalo")
    container.social.pending_reads = PendingReads(flush_seconds=3600)  # written by hand here
    today = container.clock().date()
    with TestClient(create_app(container), base_url="https://testserver") as tc:
        assert tc.post(BATCH, json={"account_ids": ["a", "b", "c"]}, headers=zalo.auth).is_success
        assert tc.get("/api/v1/platforms/zalo/accounts/a/status", headers=zalo.auth).is_success
        with container.unit_of_work() as s:
            assert container.social.reads(s, "zalo", today) == 4
        assert written(container) == 0  # the request wrote nothing
        assert container.flush_status_reads() == 4
        assert written(container) == 4
        with container.unit_of_work() as s:
            assert container.social.reads(s, "zalo", today) == 4  # not counted twice
        assert container.flush_status_reads() == 0


def test_the_app_writes_its_pending_counts_at_shutdown(container: Container) -> None:
    zalo = add_platform(container, "zalo")
    container.social.pending_reads = PendingReads(flush_seconds=3600)
    with TestClient(create_app(container), base_url="https://testserver") as tc:
        assert tc.post(BATCH, json={"account_ids": ["a", "b"]}, headers=zalo.auth).is_success
        assert written(container) == 0
    assert written(container) == 2


def test_the_timer_writes_them_within_the_interval(
    container: Container, app_client: TestClient
) -> None:
    zalo = add_platform(container, "zalo")
    container.social.pending_reads = PendingReads(flush_seconds=0.05)
    assert app_client.post(BATCH, json={"account_ids": ["a", "b"]}, headers=zalo.auth).is_success
    deadline = time.monotonic() + 30  # a loaded machine may delay the timer's thread
    while written(container) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert written(container) == 2
    assert container.social.pending_reads.pending("zalo", container.clock().date()) == 0


def test_parallel_counts_add_up_while_the_timer_writes(container: Container) -> None:
    add_platform(container, "zalo")
    container.social.pending_reads = PendingReads(flush_seconds=0.01)
    c = container

    def read(_i: int) -> list[Status]:
        total: list[Status] = []
        for _ in range(5):  # several rounds of the timer meanwhile
            with c.read_work() as s:
                total += c.social.status(
                    s, "zalo", ["a", "b"], c.clock(), count_later=c.unit_of_work
                )
        return total

    only(burst(read))
    c.flush_status_reads()
    assert written(c) == BURST * 5 * 2


def test_a_failed_write_keeps_the_counts() -> None:
    pending = PendingReads(flush_seconds=3600)
    day = date(2026, 12, 1)
    assert pending.add("zalo", day, 3) is True  # the first count schedules a write
    assert pending.add("zalo", day, 2) is False  # one is on its way already

    def refuse(_taken: Counter[Day]) -> None:
        raise RuntimeError("database unreachable")

    with pytest.raises(RuntimeError):
        pending.write(refuse)
    assert pending.pending("zalo", day) == 5
    assert pending.add("zalo", day, 1) is True  # nothing scheduled since the failure
    stored: list[Counter[Day]] = []
    assert pending.write(stored.append) == 6
    assert stored == [Counter({("zalo", day): 6})]
    assert pending.pending("zalo", day) == 0


def test_a_flush_waits_for_the_write_in_flight() -> None:
    # At shutdown the timer's thread may be halfway through a write: the flush must not
    # return (and the process end) before those counts are in the table.
    pending = PendingReads(flush_seconds=3600)
    day = date(2026, 12, 1)
    pending.add("zalo", day, 3)
    table: Counter[Day] = Counter()
    entered, release = threading.Event(), threading.Event()

    def slow(taken: Counter[Day]) -> None:
        entered.set()
        release.wait(10)
        table.update(taken)

    timer = threading.Thread(target=pending.write, args=(slow,))
    timer.start()
    assert entered.wait(10)
    flush = threading.Thread(target=pending.write, args=(table.update,))
    flush.start()
    flush.join(0.2)
    assert flush.is_alive()  # waiting for the write in flight
    release.set()
    flush.join(10)
    timer.join(10)
    assert table == {("zalo", day): 3}
