"""The agency administrators' API (``/api/v1/posture``) through the real app, on every
database: a personal agency_admin token sees and changes only its own agency (another
agency's systems and findings answer 404, as missing ones do), errors are problems with
stable codes, and other keys are refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dinhdanh.posture import models as m
from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.staff.service import GrantInvalid
from dinhdanh.wiring import Container
from tests.posture.factories import (
    A_URL,
    AGENCY,
    AGENCY_BLOCK,
    B_URL,
    NOW,
    OTHER,
    OTHER_BLOCK,
    two_agencies_with_findings,
)
from tests.staff.factories import OPERATOR, grant, person, token

API = "/api/v1/posture"


def _admin_token(c: Container, n: int, agency: str) -> dict[str, str]:
    g = grant(c, person(c, n), "agency_admin", org=agency)
    with c.unit_of_work() as s:
        _, tok, _ = c.staff.issue_token(
            s, g.id, "agency tool", OPERATOR, c.clock(), role=Role.AGENCY_ADMIN
        )
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture
def fleet(container: Container, tmp_path: Path) -> dict[str, str]:
    return two_agencies_with_findings(container, tmp_path)


def _problem(resp, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == code


def test_an_agency_admin_lists_only_its_own_systems_and_findings(
    container: Container, app_client: TestClient, fleet: dict[str, str]
) -> None:
    c = container
    a, b = _admin_token(c, 1, AGENCY), _admin_token(c, 2, OTHER)
    mine = app_client.get(f"{API}/systems", headers=a)
    assert mine.status_code == 200, mine.text
    assert [(x["id"], x["name"], x["level"], x["endpoints"]) for x in mine.json()["items"]] == [
        (fleet["a"], "Cổng thuế", 3, [A_URL])
    ]
    assert [x["id"] for x in app_client.get(f"{API}/systems", headers=b).json()["items"]] == [
        fleet["b"]
    ]
    assert app_client.get(f"{API}/systems/{fleet['a']}", headers=a).json()["agency"] == AGENCY
    _problem(app_client.get(f"{API}/systems/{fleet['b']}", headers=a), 404, "system_not_found")
    _problem(app_client.get(f"{API}/systems/nope", headers=a), 404, "system_not_found")

    found = app_client.get(f"{API}/findings", headers=a).json()["items"]
    by_code = {f["code"]: f for f in found}
    assert set(by_code) == {"CERT_EXPIRED", "CSP_MISSING"}
    cert = by_code["CERT_EXPIRED"]
    assert (cert["id"], cert["severity"], cert["state"]) == (fleet["a_cert"], "critical", "open")
    # Deadlines from the opening: critical 2 days, medium 30 (level 3); long past by now.
    assert cert["deadline"].startswith((NOW + timedelta(days=2)).date().isoformat())
    assert by_code["CSP_MISSING"]["deadline"].startswith(
        (NOW + timedelta(days=30)).date().isoformat()
    )
    assert cert["overdue"] is True
    only_a = app_client.get(f"{API}/findings", params={"system": fleet["a"]}, headers=a)
    assert len(only_a.json()["items"]) == 2
    other = app_client.get(f"{API}/findings", params={"system": fleet["b"]}, headers=a)
    _problem(other, 404, "system_not_found")


def test_an_agency_admin_acknowledges_its_own_findings_only(
    container: Container, app_client: TestClient, fleet: dict[str, str]
) -> None:
    c = container
    a = _admin_token(c, 1, AGENCY)
    theirs = app_client.post(f"{API}/findings/{fleet['b_csp']}:acknowledge", headers=a)
    _problem(theirs, 404, "finding_not_found")
    with c.unit_of_work() as s:
        row = s.get(m.Finding, fleet["b_csp"])
        assert row is not None
        assert row.state == "open"
    _problem(app_client.post(f"{API}/findings/nope:acknowledge", headers=a), 404,
             "finding_not_found")  # fmt: skip

    done = app_client.post(f"{API}/findings/{fleet['a_cert']}:acknowledge", headers=a)
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["id"]) == ("acknowledged", fleet["a_cert"])
    admin = person(c, 1)
    with c.unit_of_work() as s:
        row = s.get(m.Finding, fleet["a_cert"])
        assert row is not None
        assert (row.state, row.changed_by) == ("acknowledged", f"person:{admin.subject_id}")
    again = app_client.post(f"{API}/findings/{fleet['a_cert']}:acknowledge", headers=a)
    _problem(again, 409, "finding_transition_refused")


def test_an_agency_admin_registers_a_system_of_its_own_agency(
    container: Container, app_client: TestClient, fleet: dict[str, str]
) -> None:
    c = container
    a = _admin_token(c, 1, AGENCY)
    body = {"name": "Hệ thống mới", "level": 4, "blocks": [AGENCY_BLOCK],
            "endpoints": ["https://127.10.0.5", "tcp://127.10.0.5:22"]}  # fmt: skip
    made = app_client.post(f"{API}/systems", json=body, headers=a)
    assert made.status_code == 201, made.text
    out = made.json()
    assert (out["agency"], out["name"], out["level"]) == (AGENCY, "Hệ thống mới", 4)
    assert out["endpoints"] == ["https://127.10.0.5:443", "tcp://127.10.0.5:22"]
    with c.unit_of_work() as s:
        view = c.posture.register.system(s, out["id"])
    assert view.responsible == person(c, 1).subject_id  # the caller answers for it
    listed = app_client.get(f"{API}/systems", headers=a).json()["items"]
    assert {x["name"] for x in listed} == {"Cổng thuế", "Hệ thống mới"}

    _problem(app_client.post(f"{API}/systems", json=body, headers=a), 409, "system_exists")
    # Another agency's block, or a host outside the system's own: refused by the register.
    outside = body | {"name": "Lạ", "blocks": [OTHER_BLOCK], "endpoints": [B_URL]}
    _problem(app_client.post(f"{API}/systems", json=outside, headers=a), 400, "system_invalid")
    stray = body | {"name": "Lạc", "endpoints": ["https://127.20.0.5"]}
    _problem(app_client.post(f"{API}/systems", json=stray, headers=a), 400, "system_invalid")
    level = body | {"name": "Cấp sai", "level": 6}
    _problem(app_client.post(f"{API}/systems", json=level, headers=a), 400, "system_invalid")
    _problem(app_client.post(f"{API}/systems", json={"name": "x"}, headers=a), 422,
             "validation_failed")  # fmt: skip
    with c.unit_of_work() as s:
        assert len(c.posture.register.systems(s, agency=OTHER)) == 1  # B's own only


def test_other_keys_are_refused(
    container: Container, app_client: TestClient, fleet: dict[str, str]
) -> None:
    c = container
    _problem(app_client.get(f"{API}/systems"), 401, "unauthenticated")
    officer = {"Authorization": f"Bearer {token(c, grant(c, person(c, 3), 'officer'))}"}
    _problem(app_client.get(f"{API}/systems", headers=officer), 403, "forbidden")
    admin_grant = grant(c, person(c, 1), "agency_admin", org=AGENCY)
    officer_grant = grant(c, person(c, 2), "officer")
    with c.unit_of_work() as s:
        _, machine = create_api_key(s, "no person", Role.AGENCY_ADMIN, c.clock(), owner=AGENCY)
        # A key of the agency_admin role tied to an officer's grant: not that person's.
        _, crossed = create_api_key(
            s, "crossed", Role.AGENCY_ADMIN, c.clock(), owner="x", staff_grant=officer_grant.id
        )
        # Tokens follow the grant's role, both ways.
        with pytest.raises(GrantInvalid):
            c.staff.issue_token(s, officer_grant.id, "t", OPERATOR, c.clock(),
                                role=Role.AGENCY_ADMIN)  # fmt: skip
        with pytest.raises(GrantInvalid):
            c.staff.issue_token(s, admin_grant.id, "t", OPERATOR, c.clock())
        _, tok, _ = c.staff.issue_token(
            s, admin_grant.id, "t", OPERATOR, c.clock(), role=Role.AGENCY_ADMIN
        )
    a = {"Authorization": f"Bearer {tok}"}
    assert app_client.get(f"{API}/systems", headers=a).status_code == 200
    for key in (machine, crossed):
        resp = app_client.get(f"{API}/systems", headers={"Authorization": f"Bearer {key}"})
        _problem(resp, 403, "person_required")
    # An agency admin's token reads no citizen.
    lookup = {"id_number": "001090012345", "legal_basis": "criminal_investigation",
              "case_ref": "CASE-1"}  # fmt: skip
    _problem(app_client.post("/api/v1/citizens:lookup", json=lookup, headers=a), 403,
             "forbidden")  # fmt: skip
    # An ended grant's token stops at the next call.
    with c.unit_of_work() as s:
        c.staff.revoke(s, admin_grant.id, "left the agency", OPERATOR, c.clock())
    _problem(app_client.get(f"{API}/systems", headers=a), 401, "unauthenticated")
