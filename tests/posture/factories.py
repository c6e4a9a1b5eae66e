"""The internet register a posture test starts from: two agencies (organisations), their
domains and loopback IP blocks, through the real importers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dinhdanh.internet.importer import import_domains, import_ip_blocks, import_organisations
from dinhdanh.posture.register import EVERYONE, SystemView
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
