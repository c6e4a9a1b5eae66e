"""The internet register a posture test starts from: two agencies (organisations), their
domains and loopback IP blocks, through the real importers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dinhdanh.internet.importer import import_domains, import_ip_blocks, import_organisations
from dinhdanh.posture import models as m
from dinhdanh.posture.checks import Found, Severity
from dinhdanh.posture.findings import findings, record
from dinhdanh.posture.register import EVERYONE, SystemView
from dinhdanh.posture.rules import DeadlinePolicy
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.wiring import Container
from tests.internet.factories import ORG, ORG2, block, company, org, run_of, write

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
OPERATOR = AccessContext("operator:test", "operator", "posture test")
AGENCY, OTHER = ORG, ORG2
# Loopback blocks: every test server listens on 127.0.0.0/8 and nothing else is reachable.
AGENCY_BLOCK, OTHER_BLOCK = "127.10.0.0/16", "127.20.0.0/16"
AGENCY_DOMAIN, OTHER_DOMAIN = "cucthue.gov.vn", "sobo.gov.vn"


def internet_register(c: Container, tmp_path: Path) -> None:
    orgs = [org(AGENCY, name="Cục Thuế"), org(OTHER, name="Sở Bò")]
    names = [company(AGENCY_DOMAIN, AGENCY), company(OTHER_DOMAIN, OTHER)]
    blocks = [block(AGENCY_BLOCK, AGENCY), block(OTHER_BLOCK, OTHER)]
    run = run_of(c)
    import_organisations(
        write(tmp_path / "orgs.csv", orgs), internet=c.internet, ring=c.ring, ctx=OPERATOR, run=run
    )
    with c.unit_of_work() as s:
        c.internet.add_registrar(s, "PAVN", "P.A Việt Nam", NOW)
    import_domains(
        write(tmp_path / "domains.csv", names),
        registrar="PAVN",
        internet=c.internet,
        ring=c.ring,
        ctx=OPERATOR,
        run=run,
    )
    import_ip_blocks(write(tmp_path / "blocks.csv", blocks), internet=c.internet, run=run)


def agencies(c: Container, tmp_path: Path) -> None:
    internet_register(c, tmp_path)
    with c.unit_of_work() as s:
        for code in (AGENCY, OTHER):
            c.posture.register.add_agency(s, code, EVERYONE, NOW)


def system(
    c: Container,
    *endpoints: str,
    agency: str = AGENCY,
    name: str = "Cổng dịch vụ công",
    level: int = 3,
    domains: tuple[str, ...] = (AGENCY_DOMAIN,),
    blocks: tuple[str, ...] = (AGENCY_BLOCK,),
) -> SystemView:
    with c.unit_of_work() as s:
        return c.posture.register.add_system(
            s,
            agency,
            name,
            level,
            endpoints=endpoints,
            domains=domains,
            blocks=blocks,
            scope=EVERYONE,
            by=OPERATOR,
            now=NOW,
        )


A_URL, B_URL = "https://127.10.0.1:443", "https://127.20.0.1:443"


def find(c: Container, system_id: str, target: str, *found: Found) -> None:
    """What a scan of the tls and http families saw on ``target`` at NOW."""
    with c.unit_of_work() as s:
        row = s.get(m.InformationSystem, system_id)
        assert row is not None
        record(s, row, target, {"tls", "http"}, found, DeadlinePolicy(), NOW)


def two_agencies_with_findings(c: Container, tmp_path: Path) -> dict[str, str]:
    """Agency A: one level-3 system with a critical and a medium finding (both long past
    their deadline); agency B: one level-2 system with a medium finding. Their ids."""
    agencies(c, tmp_path)
    a = system(c, "https://127.10.0.1", name="Cổng thuế", domains=(), blocks=(AGENCY_BLOCK,))
    b = system(
        c, "https://127.20.0.1", agency=OTHER, name="Cổng bò", level=2, domains=(),
        blocks=(OTHER_BLOCK,),
    )  # fmt: skip
    find(c, a.id, A_URL, Found("CERT_EXPIRED", Severity.CRITICAL, A_URL),
         Found("CSP_MISSING", Severity.MEDIUM, A_URL))  # fmt: skip
    find(c, b.id, B_URL, Found("CSP_MISSING", Severity.MEDIUM, B_URL))
    with c.unit_of_work() as s:
        ids = {f.agency + f.code: f.id for f in findings(s, c.clock())}
    return {
        "a": a.id,
        "b": b.id,
        "a_cert": ids[AGENCY + "CERT_EXPIRED"],
        "b_csp": ids[OTHER + "CSP_MISSING"],
    }
