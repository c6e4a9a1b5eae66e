"""A small registry for the RDAP tests: one organisation, a registrar, a person's and two
organisations' names, IPv4 and IPv6 blocks (one a sub-allocation) and an AS number."""

from __future__ import annotations

from pathlib import Path

from dinhdanh.internet.importer import (
    import_asns,
    import_domains,
    import_ip_blocks,
    import_organisations,
)
from dinhdanh.wiring import Container
from tests.internet.factories import (
    CTX,
    NOW,
    ORG,
    ORG2,
    asn,
    block,
    company,
    org,
    person,
    run_of,
    write,
)

PERSON_NAME = "phở-ngon.vn"
PERSON_ACE = "xn--ph-ngon-h14c.vn"
COMPANY_NAME = "phongon.com.vn"
STRANGER_NAME = "la.vn"  # registered to a tax code the business registry does not list
REGISTRAR = "PAVN"
REGISTRAR_NAME = "Công ty cổ phần P.A Việt Nam"
BLOCK = "14.160.0.0/11"
SUB_BLOCK = "14.160.1.0/24"
BLOCK6 = "2402:800::/32"
ASN = 45899


def load(c: Container, tmp: Path) -> None:
    run = run_of(c)
    report = import_organisations(
        write(tmp / "orgs.csv", [org(ORG)]), internet=c.internet, ring=c.ring, ctx=CTX, run=run
    )
    assert report.counts.created == 1, report.rejected
    with c.unit_of_work() as s:
        c.internet.add_registrar(s, REGISTRAR, REGISTRAR_NAME, NOW)
    rows = [person(PERSON_NAME), company(COMPANY_NAME), company(STRANGER_NAME, ORG2)]
    report = import_domains(
        write(tmp / "domains.csv", rows),
        registrar=REGISTRAR,
        internet=c.internet,
        ring=c.ring,
        ctx=CTX,
        run=run,
    )
    assert report.counts.created == 3, report.rejected
    blocks = [block(BLOCK, asn=str(ASN)), block(SUB_BLOCK), block(BLOCK6)]
    report = import_ip_blocks(write(tmp / "blocks.csv", blocks), internet=c.internet, run=run)
    assert report.counts.created == 3, report.rejected
    report = import_asns(write(tmp / "asns.csv", [asn(str(ASN))]), internet=c.internet, run=run)
    assert report.counts.created == 1, report.rejected
