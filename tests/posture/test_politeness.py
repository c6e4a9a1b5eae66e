"""The scanner's limits: never more than N probes per host nor M in all, and retries with
back-off until a probe answers. ``observe`` is replaced by a probe that only counts (no
network), the run itself is the real one, over the real database."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from dinhdanh.posture.checks.kev import KevEntry
from dinhdanh.posture.checks.tls import load_roots
from dinhdanh.posture.probes import ProbeError, Sslyze, resolver_for
from dinhdanh.posture.register import SystemView
from dinhdanh.posture.scan import Observed, ScanConfig, Scanner
from dinhdanh.wiring import Container
from tests.posture.factories import agencies, system
from tests.posture.servers import make_ca

PORTS = frozenset(range(7000, 7012))


class Counting(Scanner):
    def __init__(self, *args: object, fail_first: int = 0) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.total = self.peak_total = 0
        self.calls: Counter[str] = Counter()
        self.fail_first = fail_first

    async def observe(
        self,
        system: SystemView,
        target: str,
        kev: Sequence[KevEntry],
        now: datetime,
        tls: object = None,
    ) -> Observed:
        host = target.rsplit("//", maxsplit=1)[-1].rsplit(":", 1)[0]
        self.calls[target] += 1
        self.now[host] += 1
        self.total += 1
        self.peak[host] = max(self.peak[host], self.now[host])
        self.peak_total = max(self.peak_total, self.total)
        try:
            await asyncio.sleep(0.02)
            if self.calls[target] <= self.fail_first:
                raise ProbeError("not yet")
            return frozenset({"port"}), []
        finally:
            self.now[host] -= 1
            self.total -= 1


def make(c: Container, **kw: object) -> Counting:
    config = ScanConfig(risky_ports=PORTS, backoff=0.01, **kw)  # type: ignore[arg-type]
    return Counting(
        c.posture.register, config, Sslyze("python", None), load_roots(make_ca().pem()),
        resolver_for("127.0.0.1:9", 1), fail_first=0,
    )  # fmt: skip


def test_limits_per_host_and_overall(container: Container, tmp_path: Path) -> None:
    agencies(container, tmp_path)
    system(
        container, "tcp://127.10.7.1:22", "tcp://127.10.7.2:22", "tcp://127.10.7.3:22", domains=()
    )
    sc = make(container, per_host=2, concurrency=5)
    report = sc.run(container.unit_of_work, container.clock)
    assert report.done == report.items == 3 * 13  # 12 risky ports and the endpoint, per host
    assert max(sc.peak.values()) == 2  # reached, never exceeded
    assert sc.peak_total <= 5


def test_retries_then_gives_up(container: Container, tmp_path: Path) -> None:
    agencies(container, tmp_path)
    system(container, "tcp://127.10.7.1:22", domains=())
    sc = make(container, retries=2)
    sc.fail_first = 2  # answers at the third attempt
    report = sc.run(container.unit_of_work, container.clock)
    assert (report.done, report.failed) == (13, 0)
    assert set(sc.calls.values()) == {3}
    sc = make(container, retries=1)
    sc.fail_first = 5  # never within two attempts
    report = sc.run(container.unit_of_work, container.clock)
    assert (report.done, report.failed) == (0, 13)
    assert set(sc.calls.values()) == {2}


def test_due_skips_systems_checked_recently(container: Container, tmp_path: Path) -> None:
    agencies(container, tmp_path)
    system(container, "tcp://127.10.7.1:22", domains=())
    sc = make(container)
    every = timedelta(hours=24)
    first = sc.run(container.unit_of_work, container.clock, due_every=every)
    assert first.items == 13
    again = sc.run(container.unit_of_work, container.clock, due_every=every)
    assert again.items == 0
    later = sc.run(
        container.unit_of_work, lambda: container.clock() + timedelta(hours=25), due_every=every
    )
    assert later.items == 13


def test_tls_batches_hold_each_host_once() -> None:
    from dinhdanh.posture.scan import _batches

    urls = [f"https://127.10.8.{i % 3}:{443 + i}" for i in range(9)]
    batches = _batches(urls, size=2)
    assert sorted(t.url for b in batches for t in b) == sorted(urls)
    for b in batches:
        assert len(b) <= 2
        assert len({t.host for t in b}) == len(b)
