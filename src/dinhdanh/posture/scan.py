"""The scanner: registered endpoints only, asyncio with bounded concurrency, at most N
connections per host, timeouts, retries, and runs that resume where they stopped.

A run is planned from the register (targets of registered systems of registered agencies;
nothing else can be named) and stored as items before any probe; each item's findings are
stored with the item marked done in one transaction, so a run killed half-way resumes with
the items still pending, and a finished item is never probed twice in a run.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import TypeVar

import dns.resolver
from cryptography.x509.verification import Store
from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.posture import aio
from dinhdanh.posture import models as m
from dinhdanh.posture.checks import Found
from dinhdanh.posture.checks.dns import check_dns
from dinhdanh.posture.checks.http import (
    HttpObservation,
    check_headers,
    check_redirect,
    products,
)
from dinhdanh.posture.checks.kev import AffectedRange, KevEntry, check_kev
from dinhdanh.posture.checks.ports import check_port
from dinhdanh.posture.checks.tls import TlsObservation, check_tls
from dinhdanh.posture.errors import NotRegistered, UnknownSystem
from dinhdanh.posture.findings import record
from dinhdanh.posture.kev import catalogue
from dinhdanh.posture.probes import (
    ProbeError,
    Sslyze,
    probe_dns,
    probe_http,
    probe_port,
    probe_tls,
)
from dinhdanh.posture.register import Register, SystemView
from dinhdanh.posture.rules import DeadlinePolicy
from dinhdanh.posture.targets import Target, TargetError, belongs, parse_endpoint
from dinhdanh.store.ids import uuid7s

T = TypeVar("T")
Observed = tuple[frozenset[str], list[Found]]  # families that ran, what they found


@dataclass(frozen=True, slots=True)
class ScanConfig:
    concurrency: int = 32
    per_host: int = 2
    timeout: float = 10.0
    retries: int = 1
    backoff: float = 0.5  # seconds before a retry, doubled each time
    risky_ports: frozenset[int] = frozenset()
    warn_days: int = 30
    tls_batch: int = 25  # endpoints per sslyze process (1: one process per endpoint)
    tls_parallel: int = 2  # sslyze processes at once
    policy: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    kev_ranges: tuple[AffectedRange, ...] = ()  # settings.posture_kev_versions


@dataclass(frozen=True, slots=True)
class RunReport:
    run_id: str
    resumed: bool
    items: int
    done: int
    failed: int
    opened: int
    fixed: int


def plan(system: SystemView, risky_ports: frozenset[int]) -> list[str]:
    """Targets of one system: its endpoints, the risky ports of its endpoints' addresses,
    and its domains' mail and DNS settings."""
    targets = {t.url for t in system.endpoints}
    for t in system.endpoints:
        if t.address is not None:
            targets |= {Target("tcp", t.host, p).url for p in risky_ports}
    targets |= {f"dns:{d}" for d in system.domains}
    return sorted(targets)


def guard(system: SystemView, target: str) -> None:
    """Refuse anything but the system's own domains and addresses (raises NotRegistered)."""
    if target.startswith("dns:"):
        if target[4:] not in system.domains:
            raise NotRegistered(f"{target} is not a domain of system {system.name}")
        return
    try:
        t = parse_endpoint(target)
    except TargetError as exc:
        raise NotRegistered(str(exc)) from None
    endpoint = t in system.endpoints
    risky_port_of_own_address = t.scheme == "tcp" and t.address is not None
    if not (endpoint or risky_port_of_own_address) or not belongs(t, system.domains, system.blocks):
        raise NotRegistered(f"{target} is not a registered endpoint of system {system.name}")


class Scanner:
    def __init__(
        self,
        register: Register,
        config: ScanConfig,
        tool: Sslyze,
        roots: Store,
        resolver: dns.resolver.Resolver,
    ) -> None:
        self._register = register
        self.config = config
        self._tool = tool
        self._roots = roots
        self._resolver = resolver
        # url -> the sslyze run of its batch (_all): one process for many endpoints
        self._tls_batches: dict[str, asyncio.Future[dict[str, TlsObservation | ProbeError]]] = {}

    # -- the run's plan --
    def start(
        self,
        session: Session,
        now: datetime,
        *,
        agency: str | None = None,
        system: str | None = None,
        due_every: timedelta | None = None,
    ) -> tuple[str, bool]:
        """The run to work on (id, resumed): an unfinished one of the same scope, or a new
        one. With ``due_every`` (the scheduler's setting), only systems not checked within
        that time. Raises UnknownAgency or UnknownSystem for anything not registered."""
        code = self._register.agency(session, agency).tax_code if agency else None
        systems = self._register.systems(session, agency=code, system=system)
        if system is not None and not systems:
            raise UnknownSystem(f"no registered system {system!r}")
        if due_every is not None:
            recent = set(
                session.scalars(
                    select(m.ScanItem.system_id).where(
                        m.ScanItem.state == "done", m.ScanItem.finished_at > now - due_every
                    )
                )
            )
            systems = [s for s in systems if s.id not in recent]
        scope = json.dumps(
            {"agency": code, "system": system, "due": due_every is not None}, sort_keys=True
        )
        unfinished = session.scalar(
            select(m.ScanRun.id)
            .where(m.ScanRun.scope == scope, m.ScanRun.state == "running")
            .order_by(m.ScanRun.started_at.desc())
            .limit(1)
        )
        if unfinished is not None:
            return unfinished, True
        run_id = uuid7s(1, now)[0]
        session.add(m.ScanRun(id=run_id, scope=scope, state="running", started_at=now))
        session.flush()
        for s in systems:
            for target in plan(s, self.config.risky_ports):
                session.add(
                    m.ScanItem(
                        run_id=run_id, system_id=s.id, target=target, state="pending", attempts=0
                    )
                )
        session.flush()
        return run_id, False

    # -- observing one target --
    async def observe(
        self,
        system: SystemView,
        target: str,
        kev: Sequence[KevEntry],
        now: datetime,
        tls: TlsObservation | ProbeError | None = None,
    ) -> Observed:
        guard(system, target)
        timeout = self.config.timeout
        if target.startswith("dns:"):
            obs = await probe_dns(target[4:], self._resolver, timeout)
            return frozenset({"dns"}), check_dns(obs)
        t = parse_endpoint(target)
        if t.scheme == "tcp":
            port = await probe_port(t.host, t.port, timeout)
            return frozenset({"port"}), check_port(port, self.config.risky_ports)
        if t.scheme == "http":
            return frozenset({"redirect"}), check_redirect(await probe_http(t, timeout))
        tls_results: dict[str, TlsObservation | ProbeError] | BaseException
        http_obs: HttpObservation | BaseException
        if tls is not None:  # the answer of the endpoint's sslyze batch
            tls_results, http_obs = {t.url: tls}, await _settle(probe_http(t, timeout))
        else:
            tls_results, http_obs = await asyncio.gather(
                probe_tls(self._tool, [t], timeout), probe_http(t, timeout), return_exceptions=True
            )
        families: set[str] = set()
        found: list[Found] = []
        tls_seen = tls_results[t.url] if isinstance(tls_results, dict) else tls_results
        if not isinstance(tls_seen, BaseException):
            families.add("tls")
            found += check_tls(tls_seen, self._roots, now, self.config.warn_days)
        if not isinstance(http_obs, BaseException):
            families.add("http")
            disclosed = products(http_obs)
            found += check_headers(http_obs)
            found += check_kev(t.url, disclosed, kev, self.config.kev_ranges)
        if not families:
            raise ProbeError(f"{t.url}: {tls_seen}; {http_obs}")
        return frozenset(families), found

    async def _with_retries(
        self,
        system: SystemView,
        target: str,
        kev: Sequence[KevEntry],
        clock: Callable[[], datetime],
        tls: TlsObservation | ProbeError | None = None,
    ) -> tuple[Observed | Exception, int]:
        delay, attempts = self.config.backoff, 0
        while True:
            attempts += 1
            try:
                budget = self.config.timeout * 8  # sslyze makes many handshakes
                observing = self.observe(system, target, kev, clock(), tls)
                return await asyncio.wait_for(observing, budget), attempts
            except NotRegistered as exc:
                return exc, attempts
            except (ProbeError, TimeoutError, OSError) as exc:
                if attempts > self.config.retries:
                    return exc, attempts
            tls = None  # a retry probes the endpoint on its own
            await asyncio.sleep(delay)
            delay *= 2

    # -- the run --
    def run(
        self,
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        clock: Callable[[], datetime],
        *,
        agency: str | None = None,
        system: str | None = None,
        due_every: timedelta | None = None,
    ) -> RunReport:
        with unit_of_work() as session:
            run_id, resumed = self.start(
                session, clock(), agency=agency, system=system, due_every=due_every
            )
            pending = [
                (i.system_id, i.target)
                for i in session.scalars(
                    select(m.ScanItem).where(
                        m.ScanItem.run_id == run_id, m.ScanItem.state == "pending"
                    )
                )
            ]
            systems = {sid: self._register.system(session, sid) for sid in {s for s, _ in pending}}
            kev = catalogue(session)
        counts = {"done": 0, "failed": 0, "opened": 0, "fixed": 0}

        def store(system_id: str, target: str, result: Observed | Exception, attempts: int) -> None:
            now = clock()
            with unit_of_work() as session:
                item = session.get(m.ScanItem, (run_id, system_id, target))
                assert item is not None
                item.attempts, item.finished_at = attempts, now
                if isinstance(result, Exception):
                    item.state, item.error = "failed", str(result)[:1000]
                    counts["failed"] += 1
                    return
                families, found = result
                row = session.get(m.InformationSystem, system_id)
                assert row is not None
                recorded = record(session, row, target, families, found, self.config.policy, now)
                item.state = "done"
                counts["done"] += 1
                counts["opened"] += recorded.opened
                counts["fixed"] += recorded.fixed

        aio.run(self._all(pending, systems, kev, clock, store))
        with unit_of_work() as session:
            left = session.scalar(
                select(m.ScanItem.target)
                .where(m.ScanItem.run_id == run_id, m.ScanItem.state == "pending")
                .limit(1)
            )
            run = session.get(m.ScanRun, run_id)
            assert run is not None
            if left is None:
                run.state, run.finished_at = "finished", clock()
            total = len(
                session.scalars(select(m.ScanItem.target).where(m.ScanItem.run_id == run_id)).all()
            )
        return RunReport(
            run_id,
            resumed,
            total,
            counts["done"],
            counts["failed"],
            counts["opened"],
            counts["fixed"],
        )

    def _start_tls_batches(self, urls: list[str]) -> None:
        """sslyze scans many servers concurrently in one process, which is much cheaper than
        a process per endpoint; at most ``tls_parallel`` batches run at once."""
        self._tls_batches = {}
        if self.config.tls_batch <= 1:
            return
        gate = asyncio.Semaphore(self.config.tls_parallel)

        async def run(batch: list[Target]) -> dict[str, TlsObservation | ProbeError]:
            async with gate:
                return await probe_tls(self._tool, batch, self.config.timeout)

        for batch in _batches(urls, self.config.tls_batch):
            task = asyncio.ensure_future(run(batch))
            for t in batch:
                self._tls_batches[t.url] = task

    async def _all(
        self,
        pending: list[tuple[str, str]],
        systems: dict[str, SystemView],
        kev: Sequence[KevEntry],
        clock: Callable[[], datetime],
        store: Callable[[str, str, Observed | Exception, int], None],
    ) -> None:
        overall = asyncio.Semaphore(self.config.concurrency)
        self._start_tls_batches([t for _, t in pending if t.startswith("https://")])
        per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.config.per_host)
        )

        async def one(system_id: str, target: str) -> tuple[str, str, Observed | Exception, int]:
            tls = None
            batch = self._tls_batches.pop(target, None)
            if batch is not None:  # awaited outside the limits: the batch holds no slot
                tls = (await asyncio.shield(batch))[target]
            # The host first: a slot of the overall limit is not held while a host is busy.
            async with per_host[_host(target)], overall:
                system = systems[system_id]
                result, attempts = await self._with_retries(system, target, kev, clock, tls)
            return system_id, target, result, attempts

        for next_done in asyncio.as_completed([one(s, t) for s, t in pending]):
            store(*(await next_done))


async def _settle(aw: Awaitable[T]) -> T | Exception:
    try:
        return await aw
    except Exception as exc:  # the caller decides what a failure means
        return exc


def _batches(urls: list[str], size: int) -> list[list[Target]]:
    """Batches of distinct hosts, so that sslyze's own per-server limit is the per-host one."""
    batches: list[list[Target]] = []
    hosts: list[set[str]] = []
    for url in urls:
        t = parse_endpoint(url)
        for batch, seen in zip(batches, hosts, strict=True):
            if len(batch) < size and t.host not in seen:
                batch.append(t)
                seen.add(t.host)
                break
        else:
            batches.append([t])
            hosts.append({t.host})
    return batches


def _host(target: str) -> str:
    if target.startswith("dns:"):
        return target
    host = parse_endpoint(target).host
    try:
        return str(ip_address(host))
    except ValueError:
        return host
