"""The register on every database: agencies are organisations of the business registry;
a system names only the agency's own domains and blocks, and endpoints inside them; an
agency_admin acts for its own agency only."""

from __future__ import annotations

from pathlib import Path

import pytest

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
