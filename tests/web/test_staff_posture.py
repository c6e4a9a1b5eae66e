"""The console's posture pages through the real pages (TestClient), on every database: an
agency_admin sees and manages only their own agency (another's pages and findings are not
found), an approver ranks every agency and accepts risks; every change is made by the
staff member as the actor, after the CSRF check."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dinhdanh.posture import models as m
from dinhdanh.posture.register import SystemView
from dinhdanh.wiring import Container
from tests.oidc.conftest import csrf_of, current_totp, log_in_with
from tests.posture.factories import (
    AGENCY,
    AGENCY_BLOCK,
    B_URL,
    OTHER,
    OTHER_BLOCK,
    two_agencies_with_findings,
)
from tests.staff.factories import grant, person
from tests.support import PASSWORD, Citizen
from tests.web.test_staff_console import browser


@pytest.fixture
def fleet(container: Container, tmp_path: Path) -> dict[str, str]:
    return two_agencies_with_findings(container, tmp_path)


def _staff(c: Container, who: Citizen, role: str, org: str) -> TestClient:
    grant(c, who, role, org=org)
    tc = browser(c)
    log_in_with(tc, who.id_number, PASSWORD, current_totp())
    return tc


def _state(c: Container, finding_id: str) -> m.Finding:
    with c.unit_of_work() as s:
        row = s.get(m.Finding, finding_id)
        assert row is not None
        s.expunge(row)
        return row


def test_an_agency_admin_sees_and_manages_only_their_agency(
    container: Container, fleet: dict[str, str]
) -> None:
    c = container
    admin = person(c, 1)
    with _staff(c, admin, "agency_admin", AGENCY) as tc:
        home = tc.get("/staff/posture", follow_redirects=False)
        assert home.headers["location"] == f"/staff/posture/agencies/{AGENCY}"
        page = tc.get(f"/staff/posture/agencies/{AGENCY}?lang=en")
        assert page.status_code == 200, page.text
        assert "Cổng thuế" in page.text
        assert "CERT_EXPIRED" in page.text
        assert "Overdue" in page.text
        assert "Critical" in page.text
        assert "Cổng bò" not in page.text
        csrf = csrf_of(page.text)

        # Agency B does not exist for them: its page, its finding, its system.
        assert tc.get(f"/staff/posture/agencies/{OTHER}").status_code == 404
        other = tc.post(
            f"/staff/posture/findings/{fleet['b_csp']}/acknowledge", data={"csrf": csrf}
        )
        assert other.status_code == 404
        assert _state(c, fleet["b_csp"]).state == "open"
        new_b = {"csrf": csrf, "name": "Hệ thống lạ", "level": "2", "endpoints": B_URL,
                 "blocks": OTHER_BLOCK}  # fmt: skip
        assert tc.post(f"/staff/posture/agencies/{OTHER}/systems", data=new_b).status_code == 404
        endpoint_b = {"csrf": csrf, "endpoint": "https://127.20.0.9"}
        post = tc.post(f"/staff/posture/systems/{fleet['b']}/endpoints", data=endpoint_b)
        assert post.status_code == 404
        # Accepting a risk is an approver's: the gate refuses.
        accept = {"csrf": csrf, "until": "2099-01-01", "reason": "compensating control"}
        post = tc.post(f"/staff/posture/findings/{fleet['a_cert']}/accept", data=accept)
        assert post.status_code == 403
        assert _state(c, fleet["a_cert"]).state == "open"

        # Their own finding: without the form's token nothing changes; with it, acknowledged.
        ack = f"/staff/posture/findings/{fleet['a_cert']}/acknowledge"
        assert tc.post(ack, data={"csrf": "forged"}).status_code == 400
        assert _state(c, fleet["a_cert"]).state == "open"
        done = tc.post(ack, data={"csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303, done.text
        row = _state(c, fleet["a_cert"])
        assert (row.state, row.changed_by) == ("acknowledged", f"person:{admin.subject_id}")
        assert tc.post(ack, data={"csrf": csrf}).status_code == 400  # not twice

        # A system of their own agency: the register's rules apply.
        outside = {"csrf": csrf, "name": "Hệ thống mới", "level": "4",
                   "endpoints": "https://127.20.0.5", "blocks": AGENCY_BLOCK}  # fmt: skip
        refused = tc.post(f"/staff/posture/agencies/{AGENCY}/systems", data=outside)
        assert refused.status_code == 400
        assert "neither under" in refused.text
        good = outside | {"endpoints": "https://127.10.0.5\ntcp://127.10.0.5:22"}
        made = tc.post(f"/staff/posture/agencies/{AGENCY}/systems", data=good)
        assert made.status_code == 200
        assert "The system was registered." in made.text
        (new,) = _systems(c, agency=AGENCY, system="Hệ thống mới")
        assert new.level == 4
        assert new.responsible == admin.subject_id
        with c.unit_of_work() as session:  # naming them responsible is in the audit log
            (entry,) = [
                e
                for e in c.audit.for_subject(session, admin.subject_id)
                if e.action == "posture_responsible"
            ]
        assert (entry.actor, entry.role) == (f"person:{admin.subject_id}", "agency_admin")
        assert [t.url for t in new.endpoints] == ["https://127.10.0.5:443", "tcp://127.10.0.5:22"]

        # One more endpoint of their system, inside its block; one outside is refused.
        add = f"/staff/posture/systems/{new.id}/endpoints"
        assert tc.post(add, data={"csrf": csrf, "endpoint": "http://127.99.0.1"}).status_code == 400
        added = tc.post(add, data={"csrf": csrf, "endpoint": "http://127.10.0.6:8080"})
        assert "The endpoint was added." in added.text
        (new,) = _systems(c, system=new.id)
        assert "http://127.10.0.6:8080" in [t.url for t in new.endpoints]
        assert len(_systems(c, agency=OTHER)) == 1


def _systems(c: Container, **where: str) -> list[SystemView]:
    with c.unit_of_work() as s:
        return c.posture.register.systems(s, **where)


def test_an_approver_ranks_every_agency_and_accepts_a_risk(
    container: Container, fleet: dict[str, str]
) -> None:
    c = container
    with _staff(c, person(c, 3), "approver", "Bộ Công an") as tc:
        ranking = tc.get("/staff/posture?lang=en")
        assert ranking.status_code == 200, ranking.text
        # B (one medium finding) ranks above A (a critical one too).
        assert ranking.text.index("Sở Bò") < ranking.text.index("Cục Thuế")
        rows = re.findall(r"<td>(\d+\.\d)</td>\s*<td>(\d+)</td>", ranking.text)
        assert [debt for _, debt in rows] == ["1", "2"]
        assert float(rows[0][0]) > float(rows[1][0])
        page = tc.get(f"/staff/posture/agencies/{OTHER}?lang=en")
        assert page.status_code == 200
        assert "Cổng bò" in page.text
        csrf = csrf_of(page.text)
        accept = f"/staff/posture/findings/{fleet['b_csp']}/accept"
        until = (c.clock() + timedelta(days=60)).date().isoformat()
        assert tc.post(accept, data={"csrf": csrf, "until": until, "reason": ""}).status_code == 400
        past = {"csrf": csrf, "until": "2020-01-01", "reason": "legacy system"}
        assert tc.post(accept, data=past).status_code == 400
        assert _state(c, fleet["b_csp"]).state == "open"
        done = tc.post(accept, data={"csrf": csrf, "until": until, "reason": "legacy system"})
        assert "The risk was accepted." in done.text
        row = _state(c, fleet["b_csp"])
        assert (row.state, row.note) == ("accepted", "legacy system")
        assert row.accepted_until is not None
        assert row.accepted_until.date().isoformat() == until
        # Acknowledging is the agency's own: the approver is refused.
        ack = f"/staff/posture/findings/{fleet['a_cert']}/acknowledge"
        assert tc.post(ack, data={"csrf": csrf}).status_code == 403
        assert _state(c, fleet["a_cert"]).state == "open"


def test_a_change_needs_a_fresh_authentication(container: Container, fleet: dict[str, str]) -> None:
    c = container
    with _staff(c, person(c, 1), "agency_admin", AGENCY) as tc:
        csrf = csrf_of(tc.get(f"/staff/posture/agencies/{AGENCY}").text)
        start = c.clock()
        c.clock = lambda: start + timedelta(minutes=6)
        assert tc.get(f"/staff/posture/agencies/{AGENCY}").status_code == 200  # reading is fine
        ack = f"/staff/posture/findings/{fleet['a_cert']}/acknowledge"
        post = tc.post(ack, data={"csrf": csrf}, follow_redirects=False)
        assert post.headers["location"] == "/account/step-up?next=%2Fstaff%2Fposture"
        assert _state(c, fleet["a_cert"]).state == "open"
