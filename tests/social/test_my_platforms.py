"""The citizen's "My platform accounts": found through the citizen's own pairwise subjects,
revoked with a CSRF-checked form, and the platform told through its events feed."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient

from dinhdanh.wiring import Container
from tests.oidc.conftest import csrf_of, log_in
from tests.social.conftest import add_platform, bind, sign_in
from tests.support import Citizen, make_citizen


def test_the_citizen_lists_and_revokes_their_own_bindings(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo = add_platform(container, "zalo", "Zalo Việt")
    fb = add_platform(container, "fb", "Mạng Xanh")
    other = make_citizen(container, "001090054321", "Trần Thị Bình", date(2001, 3, 4))
    with TestClient(app_client.app, base_url="https://testserver") as stranger:
        log_in(stranger, other)
        assert bind(stranger, fb, "theirs", sign_in(stranger, fb)).status_code == 200
    log_in(app_client, citizen)
    assert bind(app_client, zalo, "mine", sign_in(app_client, zalo)).status_code == 200

    page = app_client.get("/account/platforms?lang=en")
    assert page.status_code == 200
    assert "Zalo Việt" in page.text
    assert "Mạng Xanh" not in page.text  # another citizen's binding
    assert 'href="/account/platforms"' in page.text  # the nav entry
    vi = app_client.get("/account/platforms?lang=vi")
    assert "Tài khoản mạng xã hội của tôi" in vi.text

    action = re.search(r'action="(/account/platforms/[^"]+/revoke)"', page.text)
    assert action
    refused = app_client.post(action.group(1), data={"csrf": "wrong"}, follow_redirects=False)
    assert refused.status_code == 400
    done = app_client.post(
        action.group(1), data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "Zalo Việt" not in app_client.get("/account/platforms?lang=en").text

    feed = app_client.get("/api/v1/platforms/zalo/events", headers=zalo.auth).json()["items"]
    assert [(e["account_id"], e["kind"]) for e in feed] == [
        ("mine", "binding_created"),
        ("mine", "binding_revoked"),
    ]
    status = app_client.get("/api/v1/platforms/zalo/accounts/mine/status", headers=zalo.auth)
    assert status.json()["verified"] is False
    theirs = app_client.get("/api/v1/platforms/fb/accounts/theirs/status", headers=fb.auth)
    assert theirs.json()["verified"] is True


def test_the_page_needs_a_login(app_client: TestClient) -> None:
    resp = app_client.get("/account/platforms", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login")
