"""Age credentials on the account page, over HTTP on SQLite and PostgreSQL: an offer needs a
fresh authentication, the wallet takes it, the page counts the active credentials, and
"revoke all" flips their bits in the published status list."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from dinhdanh.age.credentials.errors import PresentationRejected
from dinhdanh.age.credentials.verifier import Trust, verify_presentation
from dinhdanh.age.statuslist import StatusListCache
from dinhdanh.age.wallet import Wallet
from dinhdanh.wiring import Container
from tests.age.conftest import VERIFIER
from tests.oidc.conftest import csrf_of, log_in
from tests.support import Citizen, Clock


@pytest.fixture
def tc(app_client: TestClient, container: Container, citizen: Citizen) -> TestClient:
    container.clock = Clock(container.clock())
    log_in(app_client, citizen)
    return app_client


def _count(tc: TestClient) -> int:
    page = tc.get("/account?lang=en")
    assert page.status_code == 200
    found = re.search(r'id="age-credentials">Active age credentials: (\d+)<', page.text)
    assert found, page.text
    return int(found.group(1))


def _post(tc: TestClient, path: str, csrf: str | None = None) -> httpx.Response:
    token = csrf if csrf is not None else csrf_of(tc.get("/account").text)
    return tc.post(path, data={"csrf": token}, follow_redirects=False)


def _offer(tc: TestClient) -> str:
    resp = _post(tc, "/account/age-credentials/offer")
    assert resp.status_code == 200
    text = resp.text
    found = re.search(r'<textarea id="offer-uri"[^>]*>([^<]+)</textarea>', text)
    assert found, text
    return html.unescape(found.group(1))


def test_offer_then_revoke_all_flips_the_published_bits(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    assert _count(tc) == 0
    offer = _offer(tc)
    assert offer.startswith("openid-credential-offer://?credential_offer=")
    wallet = Wallet()
    assert wallet.fetch(tc, offer, c.clock()) == 10
    assert _count(tc) == 10

    # A verifier reading our status lists over HTTP, as any website would.
    def fetch(uri: str) -> str:
        resp = tc.get(uri)
        assert resp.status_code == 200
        return resp.text

    def trust() -> Trust:
        status = StatusListCache(fetch, c.age_credentials.keys.verifying, 0)
        return c.age_credentials.trust(status)

    before = wallet.present("age_over_16", "n0", VERIFIER, c.clock())
    verify_presentation(before, "n0", VERIFIER, c.clock(), claims="age_over_16", trust=trust())

    resp = _post(tc, "/account/age-credentials/revoke")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/account?age_revoked=1"
    assert "Your age credentials were revoked." in tc.get("/account?age_revoked=1&lang=en").text
    assert _count(tc) == 0
    for n in range(9):  # every remaining credential of the batch is revoked now
        p = wallet.present("age_over_16", f"n{n}", VERIFIER, c.clock())
        with pytest.raises(PresentationRejected) as rejected:
            verify_presentation(
                p, f"n{n}", VERIFIER, c.clock(), claims="age_over_16", trust=trust()
            )
        assert rejected.value.code == "credential_revoked"


def test_offer_and_revoke_need_a_fresh_authentication_and_a_csrf_token(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    bad = _post(tc, "/account/age-credentials/offer", csrf="forged")
    assert bad.status_code == 400
    wallet = Wallet()
    wallet.fetch(tc, _offer(tc), c.clock(), n=2)
    assert isinstance(c.clock, Clock)
    c.clock.advance(timedelta(seconds=c.settings.step_up_seconds + 1))
    for path in ("/account/age-credentials/offer", "/account/age-credentials/revoke"):
        resp = _post(tc, path)
        assert resp.status_code == 303
        assert resp.headers["location"].startswith("/account/step-up")
    assert _count(tc) == 2  # nothing was revoked


def test_without_a_session_the_buttons_lead_to_the_login(app_client: TestClient) -> None:
    csrf = csrf_of(app_client.get("/login").text)
    resp = app_client.post(
        "/account/age-credentials/offer", data={"csrf": csrf}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login")
