"""The officer console through the real pages (TestClient), on every database: the gate
(role, second factor, idle timeout, fresh authentication), grants made by an admin, and a
lookup that is refused without a legal basis and audited as the person with one."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from dinhdanh.privacy.models import AuditEntry
from dinhdanh.staff.roles import LOOKUP
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.oidc.conftest import csrf_of, current_totp, log_in_with
from tests.staff.factories import ORG, grant, person
from tests.support import PASSWORD


def browser(c: Container) -> TestClient:
    return TestClient(create_app(c), base_url="https://testserver")


def test_an_admin_grants_a_role_and_the_officer_looks_up_with_a_legal_basis(
    container: Container, app_client: TestClient
) -> None:
    c = container
    citizen, admin, officer = person(c, 0), person(c, 1), person(c, 2)
    grant(c, admin, "admin")
    log_in_with(app_client, admin.id_number, PASSWORD, current_totp())
    page = app_client.get("/staff/grants")
    assert page.status_code == 200, page.text
    until = (c.clock() + timedelta(days=30)).date().isoformat()
    form = {
        "csrf": csrf_of(page.text),
        "id_number": officer.id_number,
        "role": "officer",
        "organisation": ORG,
        "expires": until,
        "reason": "joins the unit",
    }
    resp = app_client.post("/staff/grants", data=form, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    assert "Công an tỉnh Bắc Ninh" in app_client.get("/staff/grants?done=granted").text
    refused = app_client.post("/staff/grants", data=form | {"id_number": "001090999999"})
    assert refused.status_code == 400
    with c.unit_of_work() as s:
        member = c.staff.member(s, officer.subject_id, LOOKUP, c.clock())
    assert member is not None
    assert member.grant.granted_by == f"person:{admin.subject_id}"

    with browser(c) as tc:
        log_in_with(tc, officer.id_number, PASSWORD, current_totp())
        assert tc.get("/staff/grants").status_code == 403  # an officer is no admin
        page = tc.get("/staff/lookup?lang=en")
        assert page.status_code == 200
        lookup = {"csrf": csrf_of(page.text), "id_number": citizen.id_number}
        refused = tc.post("/staff/lookup", data=lookup | {"case_ref": "HS-2026/042"})
        assert refused.status_code == 400
        assert "Choose the legal basis" in refused.text
        assert citizen.full_name not in refused.text
        lawful = {"legal_basis": "criminal_investigation", "case_ref": "HS-2026/042"}
        found = tc.post("/staff/lookup", data=lookup | lawful)
        assert found.status_code == 200, found.text
        assert citizen.full_name in found.text
        by_name = {
            "csrf": lookup["csrf"],
            "full_name": citizen.full_name,
            "date_of_birth": citizen.date_of_birth.isoformat(),
        }
        assert citizen.id_number in tc.post("/staff/lookup", data=by_name | lawful).text
    with c.unit_of_work() as s:
        reads = s.scalars(
            select(AuditEntry).where(
                AuditEntry.subject == citizen.subject_id, AuditEntry.action == "read"
            )
        ).all()
    staff_reads = [e for e in reads if e.actor == f"person:{officer.subject_id}"]
    assert len(staff_reads) == 2
    assert staff_reads[0].purpose == "criminal_investigation: HS-2026/042"


def test_staff_pages_log_out_after_15_idle_minutes(
    container: Container, app_client: TestClient
) -> None:
    c = container
    officer = person(c, 2)
    grant(c, officer, "officer")
    log_in_with(app_client, officer.id_number, PASSWORD, current_totp())
    assert app_client.get("/staff/lookup").status_code == 200
    start = c.clock()
    c.clock = lambda: start + timedelta(minutes=14)
    assert app_client.get("/staff/lookup").status_code == 200
    c.clock = lambda: start + timedelta(minutes=29, seconds=30)  # 15.5 min after the last request
    resp = app_client.get("/staff/lookup", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login")
    # Not a one-off: the session was ended, citizen pages too need a login now.
    again = app_client.get("/staff/lookup", follow_redirects=False)
    assert again.headers["location"].startswith("/login")
    assert app_client.get("/account", follow_redirects=False).status_code == 303


def test_granting_needs_an_authentication_at_most_5_minutes_old(
    container: Container, app_client: TestClient
) -> None:
    c = container
    admin, officer = person(c, 1), person(c, 2)
    grant(c, admin, "admin")
    ended = grant(c, officer, "officer")
    log_in_with(app_client, admin.id_number, PASSWORD, current_totp())
    csrf = csrf_of(app_client.get("/staff/grants").text)
    assert app_client.get("/staff/audit").status_code == 200
    start = c.clock()
    c.clock = lambda: start + timedelta(minutes=6)
    assert app_client.get("/staff/audit").status_code == 200  # reading is not approving
    resp = app_client.get("/staff/grants", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/account/step-up?next=%2Fstaff%2Fgrants"
    url = f"/staff/grants/{ended.id}/revoke"
    stale = app_client.post(url, data={"csrf": csrf, "reason": "left"}, follow_redirects=False)
    # Back to the page after the step-up: the revoke URL itself answers only POST.
    assert stale.headers["location"] == "/account/step-up?next=%2Fstaff%2Fgrants"
    c.clock = lambda: start + timedelta(minutes=4)  # within 5 minutes of the login
    done = app_client.post(
        url, data={"csrf": csrf, "reason": "left the unit"}, follow_redirects=False
    )
    assert done.headers["location"] == "/staff/grants?done=revoked"
    with c.unit_of_work() as s:
        info = c.staff.get(s, ended.id)
    assert info is not None
    assert (info.revoked_by, info.revoke_reason) == (f"person:{admin.subject_id}", "left the unit")


def test_without_a_role_or_a_second_factor_the_console_is_closed(
    container: Container, app_client: TestClient
) -> None:
    c = container
    plain = person(c, 1)
    assert app_client.get("/staff", follow_redirects=False).headers["location"].startswith("/login")
    log_in_with(app_client, plain.id_number, PASSWORD, current_totp())
    assert app_client.get("/staff").status_code == 403
    # A staff member whose account lost its TOTP is sent to set one up.
    grant(c, plain, "auditor")
    with c.unit_of_work() as s:
        account = c.auth.accounts.by_id_number(s, plain.id_number)
        assert account is not None
        account.totp_sealed = None
    resp = app_client.get("/staff/audit", follow_redirects=False)
    assert resp.headers["location"] == "/account/totp?next=%2Fstaff%2Faudit"


def test_reconciliation_and_audit_pages(container: Container, app_client: TestClient) -> None:
    c = container
    auditor = person(c, 1)
    grant(c, auditor, "auditor")
    summary = {
        "as_of": "2026-06-01",
        "carrier": None,
        "rows": 10,
        "per_verdict": {"ok": 7, "junk": 3},
        "per_reason": {"OVER_LIMIT": 3},
        "per_action": {"notify": 3},
        "per_carrier": {"VTL": {"rows": 10, "per_verdict": {"ok": 7, "junk": 3}}},
        "junk_by_month": {"2025-01": 3},
        "per_province": None,
    }
    with c.unit_of_work() as s:
        c.telecom.record_run(s, summary, 3, 0, "cli:test", c.clock())
    log_in_with(app_client, auditor.id_number, PASSWORD, current_totp())
    page = app_client.get("/staff/reconciliation?lang=en")
    assert page.status_code == 200
    assert "Junk subscriptions per carrier" in page.text
    assert "<svg" in page.text
    audit = app_client.get("/staff/audit?lang=en")
    assert "Intact" in audit.text
    assert app_client.get("/staff/lookup").status_code == 403  # an auditor reads no records
