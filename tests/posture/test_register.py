"""The register on every database: agencies are organisations of the business registry;
a system names only the agency's own domains and blocks, and endpoints inside them; an
agency_admin acts for its own agency only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dinhdanh.posture.errors import (
    AgencyExists,
    OutOfScope,
    SystemExists,
    SystemInvalid,
    UnknownAgency,
)
from dinhdanh.posture.register import EVERYONE, Scope
from dinhdanh.posture.targets import Target
from dinhdanh.staff.service import GrantInvalid
from dinhdanh.wiring import Container
from tests.posture.factories import (
    AGENCY,
    AGENCY_BLOCK,
    AGENCY_DOMAIN,
    NOW,
    OPERATOR,
    OTHER,
    OTHER_BLOCK,
    OTHER_DOMAIN,
    agencies,
    internet_register,
    system,
)
from tests.staff.factories import grant, person


def test_agency_is_an_organisation_of_the_registry(container: Container, tmp_path: Path) -> None:
    internet_register(container, tmp_path)
    reg = container.posture.register
    with container.unit_of_work() as s:
        view = reg.add_agency(s, "0100233488", EVERYONE, NOW)
        assert (view.tax_code, view.name) == (AGENCY, "Cục Thuế")
        with pytest.raises(AgencyExists):
            reg.add_agency(s, AGENCY, EVERYONE, NOW)
        with pytest.raises(UnknownAgency):
            reg.add_agency(s, "0101234573", EVERYONE, NOW)  # valid, not in the registry
        with pytest.raises(UnknownAgency):
            reg.add_agency(s, "0100233480", EVERYONE, NOW)  # bad check digit
        with pytest.raises(OutOfScope):
            reg.add_agency(s, OTHER, Scope(AGENCY), NOW)
        assert [a.tax_code for a in reg.agencies(s)] == [AGENCY]


def test_system_with_its_endpoints(container: Container, tmp_path: Path) -> None:
    agencies(container, tmp_path)
    made = system(
        container,
        "https://portal.cucthue.gov.vn",
        "http://127.10.0.5",
        "tcp://127.10.0.5:3389",
        "https://127.10.0.6:8443",
    )
    assert made.endpoints == (
        Target("http", "127.10.0.5", 80),
        Target("https", "127.10.0.6", 8443),
        Target("https", "portal.cucthue.gov.vn", 443),
        Target("tcp", "127.10.0.5", 3389),
    )
    assert (made.agency, made.level, made.domains, made.blocks) == (
        AGENCY,
        3,
        (AGENCY_DOMAIN,),
        (AGENCY_BLOCK,),
    )
    with container.unit_of_work() as s:
        listed = container.posture.register.systems(s, agency=AGENCY)
        assert listed == [made]
        assert container.posture.register.systems(s, agency=OTHER) == []
    with pytest.raises(SystemExists):
        system(container, "https://127.10.0.7")


@pytest.mark.parametrize(
    ("kw", "endpoints", "says"),
    [
        ({"level": 0}, ("https://127.10.0.1",), "level"),
        ({"level": 6}, ("https://127.10.0.1",), "level"),
        ({}, (), "at least one endpoint"),
        ({}, ("https://127.20.0.1",), "neither under"),  # the other agency's block
        ({}, ("https://www.sobo.gov.vn",), "neither under"),
        ({}, ("https://evilcucthue.gov.vn",), "neither under"),
        ({}, ("ftp://127.10.0.1:21",), "scheme"),
        ({}, ("tcp://127.10.0.1",), "needs a port"),
        ({}, ("https://127.10.0.1/admin",), "scheme://host:port only"),
        ({}, ("https://user:pw@127.10.0.1",), "scheme://host:port only"),
        ({"domains": (OTHER_DOMAIN,)}, ("https://127.10.0.1",), "not a domain registered"),
        ({"blocks": (OTHER_BLOCK,)}, ("https://127.10.0.1",), "not in a block held"),
        ({"blocks": ("127.0.0.0/8",)}, ("https://127.10.0.1",), "not in a block held"),
        ({"name": "x"}, ("https://127.10.0.1",), "name"),
    ],
)
def test_system_refused(
    container: Container,
    tmp_path: Path,
    kw: dict[str, object],
    endpoints: tuple[str, ...],
    says: str,
) -> None:
    agencies(container, tmp_path)
    with pytest.raises(SystemInvalid, match=says):
        system(container, *endpoints, **kw)  # type: ignore[arg-type]
    with container.unit_of_work() as s:
        assert container.posture.register.systems(s) == []


def test_sub_block_of_own_allocation(container: Container, tmp_path: Path) -> None:
    agencies(container, tmp_path)
    made = system(container, "tcp://127.10.3.4:6379", blocks=("127.10.3.0/24",), domains=())
    assert made.blocks == ("127.10.3.0/24",)
    with pytest.raises(SystemInvalid, match="neither under"):
        system(container, "tcp://127.10.4.4:6379", name="Khác", blocks=("127.10.3.0/24",))


def test_agency_admin_acts_for_its_own_agency(container: Container, tmp_path: Path) -> None:
    agencies(container, tmp_path)
    who = person(container, 1)
    with pytest.raises(GrantInvalid, match="tax code"):
        grant(container, who, "agency_admin", org="Cục Thuế")
    g = grant(container, who, "agency_admin", org="0100233488", now=NOW)
    assert g.organisation == AGENCY
    reg = container.posture.register
    scope = Scope(g.organisation)
    with container.unit_of_work() as s:
        with pytest.raises(OutOfScope):
            reg.add_system(
                s, OTHER, "Hệ thống khác", 2, endpoints=["https://127.20.0.1"],
                blocks=[OTHER_BLOCK], scope=scope, by=OPERATOR, now=NOW,
            )  # fmt: skip
        made = reg.add_system(
            s, AGENCY, "Hệ thống riêng", 2, endpoints=["https://127.10.0.1"],
            blocks=[AGENCY_BLOCK], responsible=who.subject_id, scope=scope, by=OPERATOR,
            now=NOW,
        )  # fmt: skip
    assert made.responsible == who.subject_id
    stranger = person(container, 2)
    with pytest.raises(SystemInvalid, match="responsible"), container.unit_of_work() as s:
        reg.add_system(
            s, AGENCY, "Hệ thống thứ ba", 2, endpoints=["https://127.10.0.2"],
            blocks=[AGENCY_BLOCK], responsible=stranger.subject_id, scope=scope,
            by=OPERATOR, now=NOW,
        )  # fmt: skip


def _open_findings(c: Container, system_id: str) -> dict[str, tuple[str, object]]:
    from dinhdanh.posture import models as m
    from dinhdanh.posture.checks import Found, Severity
    from dinhdanh.posture.findings import record

    found = [
        Found("CERT_EXPIRED", Severity.CRITICAL, "https://127.10.0.1:443"),
        Found("CSP_MISSING", Severity.MEDIUM, "https://127.10.0.1:443"),
        Found("HSTS_MISSING", Severity.MEDIUM, "https://127.10.0.1:443"),
        Found("TLS_PQ_HYBRID_UNKNOWN", Severity.INFO, "https://127.10.0.1:443"),
    ]
    with c.unit_of_work() as s:
        row = s.get(m.InformationSystem, system_id)
        assert row is not None
        record(s, row, "https://127.10.0.1:443", {"tls", "http"}, found, c.posture.policy, NOW)
    # HSTS is fixed by a later re-check of the http family that no longer sees it.
    with c.unit_of_work() as s:
        row = s.get(m.InformationSystem, system_id)
        assert row is not None
        later = NOW + timedelta(days=1)
        record(s, row, "https://127.10.0.1:443", {"http"}, found[1:2], c.posture.policy, later)
    return _deadlines(c, system_id)


def _deadlines(c: Container, system_id: str) -> dict[str, tuple[str, object]]:
    from dinhdanh.auth.opaque import as_utc
    from dinhdanh.posture import models as m

    with c.unit_of_work() as s:
        rows = s.scalars(select(m.Finding).where(m.Finding.system_id == system_id))
        return {r.code: (r.state, as_utc(r.deadline) if r.deadline else None) for r in rows}


def test_a_level_change_recomputes_the_deadlines_of_open_findings(
    container: Container, tmp_path: Path
) -> None:
    agencies(container, tmp_path)
    made = system(container, "https://127.10.0.1", level=3)
    before = _open_findings(container, made.id)
    assert before["CERT_EXPIRED"] == ("open", NOW + timedelta(days=2))
    assert before["CSP_MISSING"] == ("open", NOW + timedelta(days=30))
    with container.unit_of_work() as s:
        view, changed = container.posture.register.set_level(
            s, made.id, 5, scope=Scope(AGENCY), now=NOW + timedelta(days=3)
        )
    assert view.level == 5
    assert changed == 2  # the critical and the open medium; not the fixed one, not info
    after = _deadlines(container, made.id)
    # Levels 4 and 5 halve the time, counted from the opening, not from the change.
    assert after["CERT_EXPIRED"] == ("open", NOW + timedelta(days=1))
    assert after["CSP_MISSING"] == ("open", NOW + timedelta(days=15))
    # A fixed finding keeps its deadline; an info one has none.
    assert after["HSTS_MISSING"] == before["HSTS_MISSING"]
    assert after["TLS_PQ_HYBRID_UNKNOWN"] == ("open", None)
    # Back down: the longer deadlines return.
    with container.unit_of_work() as s:
        container.posture.register.set_level(s, made.id, 2, scope=EVERYONE, now=NOW)
    assert _deadlines(container, made.id)["CSP_MISSING"] == ("open", NOW + timedelta(days=30))


def test_a_level_change_by_import_recomputes_them_too(container: Container, tmp_path: Path) -> None:
    agencies(container, tmp_path)
    made = system(container, "https://127.10.0.1", level=3)
    _open_findings(container, made.id)
    with container.unit_of_work() as s:
        outcome = container.posture.register.put_system(
            s, AGENCY, made.name, 4, endpoints=["https://127.10.0.1"],
            domains=[AGENCY_DOMAIN], blocks=[AGENCY_BLOCK], by=OPERATOR, now=NOW,
        )  # fmt: skip
    assert outcome == "updated"
    assert _deadlines(container, made.id)["CSP_MISSING"] == ("open", NOW + timedelta(days=15))


def test_a_level_change_is_checked(container: Container, tmp_path: Path) -> None:
    agencies(container, tmp_path)
    made = system(container, "https://127.10.0.1", level=3)
    with container.unit_of_work() as s, pytest.raises(SystemInvalid):
        container.posture.register.set_level(s, made.id, 6, scope=EVERYONE, now=NOW)
    with container.unit_of_work() as s, pytest.raises(OutOfScope):
        container.posture.register.set_level(s, made.id, 2, scope=Scope(OTHER), now=NOW)
