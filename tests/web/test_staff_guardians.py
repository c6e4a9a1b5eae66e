"""The console's guardian links page through the real pages (TestClient), on every database:
an officer finds, adds and ends a child's links with a legal basis; without one, nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dinhdanh.privacy.audit import AccessContext
from dinhdanh.wiring import Container
from tests.age.family import OFFICER, make_family
from tests.oidc.conftest import csrf_of, current_totp, log_in_with
from tests.staff.factories import grant, person
from tests.support import PASSWORD

LAWFUL = {"legal_basis": "criminal_investigation", "case_ref": "HS-2026/042"}


def test_an_officer_adds_and_ends_a_link(container: Container, app_client: TestClient) -> None:
    c = container
    f = make_family(c)
    officer = person(c, 2)
    grant(c, officer, "officer")
    log_in_with(app_client, officer.id_number, PASSWORD, current_totp())
    page = app_client.get("/staff/guardians?lang=en")
    assert page.status_code == 200, page.text
    form = {
        "csrf": csrf_of(page.text),
        "child_id_number": f.child.id_number,
        "guardian_id_number": f.mother.id_number,
        "relation": "mother",
        "valid_from": "2020-01-01",
    }
    refused = app_client.post("/staff/guardians", data=form | {"action": "add"})
    assert refused.status_code == 400
    assert "Choose the legal basis" in refused.text
    added = app_client.post("/staff/guardians", data=form | LAWFUL | {"action": "add"})
    assert added.status_code == 200, added.text
    assert "The guardian link was added." in added.text
    with c.unit_of_work() as s:
        (link,) = c.guardians.links_of_child(s, f.child.subject_id, _ctx(), c.clock())
    assert link.active
    minor = form | LAWFUL | {"action": "add", "guardian_id_number": f.child.id_number}
    assert "own guardian" in app_client.post("/staff/guardians", data=minor).text
    ended = app_client.post(
        "/staff/guardians", data=form | LAWFUL | {"action": "end", "link_id": link.id}
    )
    assert "The guardian link was ended." in ended.text
    with c.unit_of_work() as s:
        (link,) = c.guardians.links_of_child(s, f.child.subject_id, _ctx(), c.clock())
    assert not link.active


def test_a_citizen_without_a_role_is_refused(container: Container, app_client: TestClient) -> None:
    citizen = person(container, 1)
    log_in_with(app_client, citizen.id_number, PASSWORD, current_totp())
    assert app_client.get("/staff/guardians").status_code == 403


def _ctx() -> AccessContext:
    return OFFICER
