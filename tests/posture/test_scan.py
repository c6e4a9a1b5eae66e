"""The scanner end to end on every database: registered endpoints of local servers (good and
bad), findings with deadlines, a resumed run, a re-check that fixes, the lifecycle, and the
refusal of anything not registered."""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dinhdanh.posture import aio
from dinhdanh.posture import models as m
from dinhdanh.posture.checks.tls import load_roots
from dinhdanh.posture.errors import NotRegistered, TransitionRefused, UnknownAgency, UnknownSystem
from dinhdanh.posture.findings import accept_risk, acknowledge, findings
from dinhdanh.posture.kev import import_catalogue
from dinhdanh.posture.probes import Sslyze, resolver_for
from dinhdanh.posture.register import EVERYONE, Scope
from dinhdanh.posture.rules import DeadlinePolicy
from dinhdanh.posture.scan import ScanConfig, Scanner, guard
from dinhdanh.wiring import Container
from tests.posture.factories import AGENCY, OPERATOR, OTHER, agencies, system
from tests.posture.servers import (
    BAD_HEADERS,
    GOOD_HEADERS,
    Zone,
    dns_server,
    free_port,
    http_server,
    make_ca,
    make_leaf,
    redis_like,
    tls_context,
)
from tests.posture.test_tls import SSLYZE

pytestmark = pytest.mark.skipif(not SSLYZE.exists(), reason="run `make setup` (sslyze venv)")
GOOD, BAD, PLAIN, REDIS = "127.10.4.1", "127.10.4.2", "127.10.4.3", "127.10.4.4"
KEV = Path("tests/vectors/kev_sample.json")


class Fleet:
    """Local servers of one system; ``fix()`` restarts the bad ones configured well."""

    def __init__(self, tmp: Path) -> None:
        self.ca = make_ca()
        self.tmp = tmp
        self.ports = {h: free_port(h) for h in (GOOD, BAD, PLAIN)}
        self.stack = ExitStack()

    def context(self, host: str, signed: bool):  # type: ignore[no-untyped-def]
        cert, key = make_leaf([host], self.ca if signed else None).write(self.tmp, host)
        return tls_context(cert, key)

    def up(self, *, fixed: bool = False) -> None:
        s = self.stack
        s.enter_context(
            http_server(
                GOOD, headers=GOOD_HEADERS, context=self.context(GOOD, True), port=self.ports[GOOD]
            )
        )
        bad_headers = GOOD_HEADERS if fixed else BAD_HEADERS
        s.enter_context(
            http_server(
                BAD, headers=bad_headers, context=self.context(BAD, fixed), port=self.ports[BAD]
            )
        )
        plain = {"status": 301, "headers": (("Location", f"https://{PLAIN}/"),)} if fixed else {}
        s.enter_context(http_server(PLAIN, port=self.ports[PLAIN], **plain))  # type: ignore[arg-type]

    def endpoints(self) -> list[str]:
        p = self.ports
        return [
            f"https://{GOOD}:{p[GOOD]}",
            f"https://{BAD}:{p[BAD]}",
            f"http://{PLAIN}:{p[PLAIN]}",
        ]


@pytest.fixture
def fleet(tmp_path: Path):  # type: ignore[no-untyped-def]
    f = Fleet(tmp_path)
    yield f
    f.stack.close()


def scanner(
    c: Container, fleet: Fleet, resolver: str, risky: frozenset[int] = frozenset()
) -> Scanner:
    config = ScanConfig(
        concurrency=8, per_host=2, timeout=5, retries=1, backoff=0.05, risky_ports=risky
    )
    return Scanner(
        c.posture.register, config, Sslyze(str(SSLYZE), None), load_roots(fleet.ca.pem()),
        resolver_for(resolver, 3),
    )  # fmt: skip


def by_target(c: Container) -> dict[str, set[str]]:
    with c.unit_of_work() as s:
        out: dict[str, set[str]] = {}
        for f in findings(s, c.clock()):
            out.setdefault(f.target, set()).add(f.code)
        return out


def test_scan_finds_fixes_and_resumes(container: Container, tmp_path: Path, fleet: Fleet) -> None:
    agencies(container, tmp_path)
    with (
        redis_like(REDIS, auth=False) as redis_port,
        dns_server(
            {"cucthue.gov.vn": Zone(spf="v=spf1 -all", dmarc="v=DMARC1; p=none")}
        ) as resolver,
    ):
        made = system(container, *fleet.endpoints(), f"tcp://{REDIS}:{redis_port}", level=5)
        with container.unit_of_work() as s:
            import_catalogue(s, json.loads(KEV.read_text("utf-8")))
        fleet.up()
        sc = scanner(container, fleet, resolver, frozenset({redis_port}))
        # A run killed after its first item: the plan is stored, one item is done.
        with container.unit_of_work() as s:
            run_id, _resumed = sc.start(s, container.clock())
            items = s.scalars(select(m.ScanItem).where(m.ScanItem.run_id == run_id)).all()
            items[0].state = "done"
        report = sc.run(container.unit_of_work, container.clock)
        assert (report.run_id, report.resumed) == (run_id, True)
        assert report.done + report.failed == report.items - 1
        assert report.failed == 0
        report = sc.run(container.unit_of_work, container.clock)  # a new, complete run
        assert not report.resumed
        assert report.done == report.items
        p = fleet.ports
        seen = by_target(container)
        assert f"https://{GOOD}:{p[GOOD]}" not in seen
        assert seen[f"https://{BAD}:{p[BAD]}"] == {
            "CERT_UNTRUSTED", "COOKIE_INSECURE", "CSP_MISSING", "FRAME_ANCESTORS_MISSING",
            "HSTS_MISSING", "KNOWN_EXPLOITED", "SERVER_VERSION_DISCLOSED", "XCTO_MISSING",
        }  # fmt: skip
        assert seen[f"http://{PLAIN}:{p[PLAIN]}"] == {"HTTP_NO_HTTPS_REDIRECT"}
        assert seen[f"tcp://{REDIS}:{redis_port}"] == {"RISKY_PORT_OPEN"}
        assert seen["dns:cucthue.gov.vn"] == {"DMARC_WEAK", "DNSSEC_MISSING"}
        with container.unit_of_work() as s:
            views = findings(s, container.clock(), system=made.id)
        kev = [v for v in views if v.code == "KNOWN_EXPLOITED"]
        assert sorted(v.item for v in kev) == ["CVE-2021-41773", "CVE-2021-42013"]
        # Level 5 halves the deadlines: critical 1 day, high 8, medium 15, low 45.
        days = {v.severity: (v.deadline - v.opened).days for v in views if v.deadline}
        assert days == {"critical": 1, "high": 8, "medium": 15, "low": 45}
        # The bad servers are fixed; the re-check closes what it no longer sees.
        fleet.stack.close()
        fleet.up(fixed=True)
        report = sc.run(container.unit_of_work, container.clock)
    with container.unit_of_work() as s:
        fixed = sorted(
            (v.target, v.code, v.item)
            for v in findings(s, container.clock(), include_fixed=True)
            if v.state == "fixed"
        )
    assert report.fixed == len(fixed), fixed
    assert {(t, c) for t, c, _ in fixed} == {
        (f"https://{BAD}:{p[BAD]}", code) for code in (
            "CERT_UNTRUSTED", "COOKIE_INSECURE", "CSP_MISSING", "FRAME_ANCESTORS_MISSING",
            "HSTS_MISSING", "KNOWN_EXPLOITED", "SERVER_VERSION_DISCLOSED", "XCTO_MISSING",
        )
    } | {(f"http://{PLAIN}:{p[PLAIN]}", "HTTP_NO_HTTPS_REDIRECT")}  # fmt: skip
    # What was not fixed is still open: the open Redis port and the domain's DMARC/DNSSEC.
    left = by_target(container)
    assert left == {
        f"tcp://{REDIS}:{redis_port}": {"RISKY_PORT_OPEN"},
        "dns:cucthue.gov.vn": {"DMARC_WEAK", "DNSSEC_MISSING"},
    }


def test_lifecycle(container: Container, tmp_path: Path, fleet: Fleet) -> None:
    agencies(container, tmp_path)
    system(container, *fleet.endpoints())
    fleet.up()
    with dns_server({}) as resolver:
        scanner(container, fleet, resolver).run(
            container.unit_of_work, container.clock, agency=AGENCY
        )
    now = container.clock()
    with container.unit_of_work() as s:
        views = findings(s, now)
        redirect = next(v for v in views if v.code == "HTTP_NO_HTTPS_REDIRECT")
        csp = next(v for v in views if v.code == "CSP_MISSING")
        with pytest.raises(Exception, match="acts for agency"):
            acknowledge(s, redirect.id, OPERATOR, Scope(OTHER), now)
        acknowledge(s, redirect.id, OPERATOR, Scope(AGENCY), now)
        with pytest.raises(TransitionRefused):
            acknowledge(s, redirect.id, OPERATOR, EVERYONE, now)
        accept_risk(
            s, csp.id, now + timedelta(days=30), "legacy portal, replaced in Q1", OPERATOR, now
        )
    with container.unit_of_work() as s:
        states = {v.id: (v.state, v.overdue) for v in findings(s, now)}
        assert states[redirect.id] == ("acknowledged", False)
        assert states[csp.id] == ("accepted", False)
        # Past the acceptance's expiry the finding is open again, and past its deadline,
        # compliance debt.
        later = {v.id: (v.state, v.overdue) for v in findings(s, now + timedelta(days=31))}
        assert later[csp.id] == ("open", True)
        assert later[redirect.id] == ("acknowledged", True)


def test_refuses_what_is_not_registered(container: Container, tmp_path: Path, fleet: Fleet) -> None:
    agencies(container, tmp_path)
    made = system(container, *fleet.endpoints(), level=2)
    for target in ("https://127.20.0.1:443", "https://8.8.8.8:443", "dns:sobo.gov.vn",
                   f"https://{GOOD}:1", "http://127.10.4.1:22"):  # fmt: skip
        with pytest.raises(NotRegistered):
            guard(made, target)
    guard(made, f"tcp://{GOOD}:6379")  # a risky port of its own address: allowed
    sc = scanner(container, fleet, "127.0.0.1:9")
    with container.unit_of_work() as s:
        with pytest.raises(UnknownAgency):
            sc.start(s, container.clock(), agency="0101234573")
        with pytest.raises(UnknownSystem):
            sc.start(s, container.clock(), system="nope")


def test_deadline_policy() -> None:
    from dinhdanh.posture.checks import Severity

    p = DeadlinePolicy()
    assert [p.days(s, 3) for s in Severity] == [2, 15, 30, 90, None]
    assert [p.days(s, 4) for s in Severity] == [1, 8, 15, 45, None]


def test_scans_run_where_an_event_loop_already_runs() -> None:
    """A caller inside a running loop (an async handler, a test session driving a browser)
    still gets the coroutine's result: asyncio.run alone refuses to nest."""

    async def caller() -> int:
        # A loop runs here: aio.run must hand the coroutine to a thread of its own.
        asyncio.get_running_loop()
        return aio.run(asyncio.sleep(0, result=7))

    # The outer call nests too when the test session itself runs a loop (Playwright's).
    assert aio.run(caller()) == 7
    assert aio.run(asyncio.sleep(0, result=8)) == 8
