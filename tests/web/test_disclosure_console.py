"""Re-identification in the officer console through the real pages (TestClient), on every
database: an investigator files, another person approves (fresh authentication), the
investigator reveals once; the approver's queue carries no personal data; self-approval and
stale authentications are refused; the API files and lists with a personal token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dinhdanh.wiring import Container
from tests.oidc.conftest import csrf_of, current_totp, log_in, log_in_with
from tests.social.conftest import add_platform, bind, sign_in
from tests.staff.factories import grant, person, token
from tests.support import PASSWORD, Citizen
from tests.web.test_staff_console import browser

POLICE = "Công an tỉnh Bắc Ninh"
ACCOUNT = "u-4242"
FORM = {
    "platform": "zalo",
    "account_id": ACCOUNT,
    "legal_basis": "criminal_investigation",
    "case_ref": "HS-2026/118",
    "reason": "threats posted from this account",
}


@pytest.fixture
def bound(container: Container, app_client: TestClient, citizen: Citizen) -> Citizen:
    zalo = add_platform(container, "zalo", "Zalo Việt")
    log_in(app_client, citizen)
    assert bind(app_client, zalo, ACCOUNT, sign_in(app_client, zalo)).status_code == 200
    return citizen


def _file(tc: TestClient, **change: str) -> TestClient:
    page = tc.get("/staff/disclosures/new?lang=en")
    assert page.status_code == 200, page.text
    assert "Zalo Việt" in page.text
    return tc.post(  # type: ignore[return-value]
        "/staff/disclosures",
        data={"csrf": csrf_of(page.text)} | FORM | change,
        follow_redirects=False,
    )


def _request_id(c: Container, who: Citizen) -> str:
    """The id of the one request ``who`` filed (the pending list shows no link to it)."""
    with c.unit_of_work() as s:
        (found,) = c.disclosure.mine(s, f"person:{who.subject_id}", c.clock())
    return found.id


def test_filed_approved_in_the_queue_and_revealed_once(
    container: Container, bound: Citizen
) -> None:
    c = container
    investigator, approver = person(c, 1), person(c, 2)
    grant(c, investigator, "investigator", org=POLICE)
    grant(c, approver, "approver", org="Viện kiểm sát nhân dân tỉnh Bắc Ninh")
    with browser(c) as inv, browser(c) as appr:
        log_in_with(inv, investigator.id_number, PASSWORD, current_totp())
        assert 'href="/staff/disclosures"' in inv.get("/staff").text  # home and nav
        refused = _file(inv, legal_basis="")
        assert refused.status_code == 400
        assert "Choose the legal basis of this request." in refused.text
        assert _file(inv, delay_days="10", legal_basis="own_request").status_code == 400
        filed = _file(inv)
        assert filed.status_code == 303
        assert filed.headers["location"] == "/staff/disclosures?done=filed"
        mine = inv.get("/staff/disclosures?lang=en&done=filed")
        assert "The request was filed." in mine.text
        assert "Waiting for approval" in mine.text
        assert ACCOUNT in mine.text
        request_id = _request_id(c, investigator)
        assert inv.get("/staff/disclosures/queue").status_code == 403  # not an approver

        log_in_with(appr, approver.id_number, PASSWORD, current_totp())
        queue = appr.get("/staff/disclosures/queue?lang=en")
        assert queue.status_code == 200
        for shown in (ACCOUNT, "HS-2026/118", "threats posted from this account", POLICE):
            assert shown in queue.text
        for secret in (bound.full_name, bound.id_number, bound.subject_id):
            assert secret not in queue.text
        assert 'href="/staff/disclosures/queue"' in queue.text  # the nav entry
        form = {"csrf": csrf_of(queue.text), "note": "basis and reason checked"}
        url = f"/staff/disclosures/{request_id}/approve"
        assert appr.post(url, data={"csrf": "forged", "note": "x" * 5}).status_code == 400
        done = appr.post(url, data=form, follow_redirects=False)
        assert done.headers["location"] == "/staff/disclosures/queue?done=approved"
        assert "No request is waiting." in appr.get("/staff/disclosures/queue?lang=en").text
        assert appr.post(url, data=form).status_code == 409

        page = inv.get(f"/staff/disclosures/{request_id}/reveal?lang=en")
        assert page.status_code == 200
        assert bound.full_name not in page.text
        reveal = f"/staff/disclosures/{request_id}/reveal"
        shown = inv.post(reveal, data={"csrf": csrf_of(page.text)})
        assert shown.status_code == 200
        assert bound.full_name in shown.text
        assert bound.id_number in shown.text
        assert shown.headers["cache-control"] == "no-store"
        again = inv.post(reveal + "?lang=en", data={"csrf": csrf_of(page.text)})
        assert again.status_code == 409
        assert "already used" in again.text
        assert bound.full_name not in again.text
        # The approver cannot reveal, nor can anyone by GET.
        assert appr.post(reveal, data=form).status_code == 403


def test_an_approver_cannot_approve_their_own_request(container: Container, bound: Citizen) -> None:
    c = container
    both = person(c, 1)
    grant(c, both, "investigator", org=POLICE)
    grant(c, both, "approver", org=POLICE)
    with browser(c) as tc:
        log_in_with(tc, both.id_number, PASSWORD, current_totp())
        assert _file(tc).status_code == 303
        queue = tc.get("/staff/disclosures/queue?lang=en")
        assert "another person must decide on it" in queue.text
        request_id = _request_id(c, both)
        url = f"/staff/disclosures/{request_id}/approve"
        csrf = csrf_of(tc.get("/staff/disclosures/new").text)
        own = tc.post(url + "?lang=en", data={"csrf": csrf, "note": "looks fine"})
        assert own.status_code == 403
        assert "You filed this request: another person must decide on it." in own.text
        assert "Waiting for approval" in tc.get("/staff/disclosures?lang=en").text


def test_deciding_needs_an_authentication_at_most_5_minutes_old(
    container: Container, bound: Citizen
) -> None:
    c = container
    investigator, approver = person(c, 1), person(c, 2)
    grant(c, investigator, "investigator", org=POLICE)
    grant(c, approver, "approver", org=POLICE)
    with browser(c) as inv, browser(c) as appr:
        log_in_with(inv, investigator.id_number, PASSWORD, current_totp())
        assert _file(inv).status_code == 303
        request_id = _request_id(c, investigator)
        log_in_with(appr, approver.id_number, PASSWORD, current_totp())
        csrf = csrf_of(appr.get("/staff/disclosures/queue").text)
        start = c.clock()
        c.clock = lambda: start + timedelta(minutes=6)
        stale = appr.get("/staff/disclosures/queue", follow_redirects=False)
        assert stale.headers["location"] == "/account/step-up?next=%2Fstaff%2Fdisclosures%2Fqueue"
        url = f"/staff/disclosures/{request_id}/approve"
        post = appr.post(url, data={"csrf": csrf, "note": "ok"}, follow_redirects=False)
        # Back to the queue afterwards, not to the POST's own path.
        assert post.headers["location"] == stale.headers["location"]
        assert "Waiting for approval" in inv.get("/staff/disclosures?lang=en").text


def test_investigators_file_and_list_over_the_api(
    container: Container, app_client: TestClient, bound: Citizen
) -> None:
    c = container
    inv = {"Authorization": f"Bearer {token(c, grant(c, person(c, 1), 'investigator'))}"}
    officer = {"Authorization": f"Bearer {token(c, grant(c, person(c, 3), 'officer'))}"}
    body = FORM | {"disclosure_delay_days": 30}
    made = app_client.post("/api/v1/disclosure-requests", json=body, headers=inv)
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "pending"
    assert made.json()["disclosure_delay_days"] == 30
    listed = app_client.get("/api/v1/disclosure-requests", headers=inv).json()["items"]
    assert [r["id"] for r in listed] == [made.json()["id"]]
    refused = app_client.post("/api/v1/disclosure-requests", json=body, headers=officer)
    assert refused.status_code == 403
    assert refused.json()["code"] == "disclosure_role_required"
    no_basis = app_client.post(
        "/api/v1/disclosure-requests", json=body | {"legal_basis": "x"}, headers=inv
    )
    assert no_basis.json()["code"] == "legal_basis_unknown"
    assert app_client.get("/api/v1/disclosure-requests").status_code == 401
