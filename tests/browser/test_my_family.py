""" "My family" in real headless Chromium: a guardian creates their child's login, the child
signs in at a platform (authorization code flow in the browser), the platform binds the
account and sees it wait for a guardian; the guardian approves on "My family" and the
platform's status turns ``guardian_approved``."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.sync_api import Page, Route, expect

from dinhdanh.privacy.audit import AccessContext
from tests.browser.a11y import check_page
from tests.browser.test_access_log import Live, _log_in, live  # noqa: F401  (fixture)
from tests.oidc.conftest import REDIRECT
from tests.social.conftest import Plat, add_platform
from tests.support import make_citizen

pytestmark = pytest.mark.browser
CHILD_PASSWORD = "con mèo nhỏ trèo cây cau 2026"


def _claims(id_token: str) -> dict[str, Any]:
    body = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _api(live: Live) -> str:  # noqa: F811
    return live.base.replace("localhost", "127.0.0.1")


def _status(live: Live, plat: Plat, account: str) -> dict[str, Any]:  # noqa: F811
    url = f"{_api(live)}/api/v1/platforms/{plat.code}/accounts/{account}/status"
    resp = httpx.get(url, headers=plat.auth)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _child_signs_in(live: Live, page: Page, plat: Plat, id_number: str) -> str:  # noqa: F811
    """The platform sends the child to /authorize; the child logs in with the password their
    guardian set and consents; the platform exchanges the code. Returns the ID token."""
    verifier = generate_token(48)
    query = {
        "response_type": "code",
        "client_id": plat.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid age",
        "state": "family-state",
        "nonce": generate_token(16),
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    landed: list[str] = []

    def callback(route: Route) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, body="ok")

    page.route(REDIRECT + "*", callback)
    page.goto(live.base + "/authorize?" + urlencode(query | {"ui_locales": "en"}))
    page.locator("input[autocomplete=username]").fill(id_number)
    page.locator("input[autocomplete=current-password]").fill(CHILD_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.locator("button[name=consent][value=allow]").click()
    page.wait_for_url(REDIRECT + "*")
    code = parse_qs(urlsplit(landed[0]).query)["code"][0]
    token = httpx.post(
        _api(live) + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(plat.client_id, plat.secret),
    )
    assert token.status_code == 200, token.text
    return str(token.json()["id_token"])


def test_a_guardian_creates_the_login_and_approves_the_account(
    live: Live,  # noqa: F811
    page: Page,
) -> None:
    c, today = live.container, live.clock.now.date()
    born = date(today.year - 12, 1, 15)
    child = make_citizen(
        c, f"0012{born.year % 100:02d}004567", "Lê Minh Anh", born, with_account=False
    )
    with c.unit_of_work() as s:
        c.guardians.add(
            s,
            child=child.subject_id,
            guardian=live.citizen.subject_id,
            relation="father",
            source="officer",
            valid_from=born,
            valid_to=None,
            legal_basis="birth registration",
            ctx=AccessContext("test", "registry_import", "seed"),
            now=live.clock.now,
        )
    zalo = add_platform(c, "zalo", "Zalo Việt")

    # The guardian creates the child's login from "My family" (Vietnamese first).
    _log_in(live, page, "vi")
    page.get_by_role("navigation", name="Chính").get_by_role("link", name="Gia đình tôi").click()
    page.wait_for_url("**/account/family")
    expect(page.locator("h1")).to_have_text("Gia đình tôi")
    expect(page.locator("main")).to_contain_text("Lê Minh Anh")
    expect(page.locator("main")).to_contain_text("Tuổi: dưới 13")
    expect(page.locator("main")).not_to_contain_text(born.isoformat())
    check_page(page, "family-vi")
    page.get_by_label("Mật khẩu đăng nhập của trẻ").fill(CHILD_PASSWORD)
    page.get_by_role("button", name="Tạo tài khoản đăng nhập").click()
    expect(page.get_by_role("status")).to_contain_text("Đã tạo tài khoản đăng nhập")
    page.context.clear_cookies()

    # The child signs in at the platform; the platform binds the account.
    id_token = _child_signs_in(live, page, zalo, child.id_number)
    assert _claims(id_token)["guardian_approved"] is False
    assert "birthdate" not in _claims(id_token)
    bound = httpx.put(
        f"{_api(live)}/api/v1/platforms/zalo/accounts/kid-1",
        json={"id_token": id_token},
        headers=zalo.auth,
    )
    assert bound.status_code == 200, bound.text
    assert _status(live, zalo, "kid-1")["guardian_approved"] is False
    assert "PENDING_GUARDIAN" in _status(live, zalo, "kid-1")["flags"]
    page.context.clear_cookies()

    # The guardian approves on "My family" (English this time).
    live.clock.now += timedelta(seconds=31)  # a new TOTP step
    _log_in(live, page, "en")
    page.goto(f"{live.base}/account/family?lang=en")
    expect(page.locator("table")).to_contain_text("Waiting for your approval")
    check_page(page, "family-pending-en")
    page.get_by_role("button", name="Approve Zalo Việt").click()
    expect(page.get_by_role("status")).to_have_text("The account was approved.")
    expect(page.locator("table")).to_contain_text("Approved")
    check_page(page, "family-approved-en")

    status = _status(live, zalo, "kid-1")
    assert status["guardian_approved"] is True
    assert "PENDING_GUARDIAN" not in status["flags"]
    events = httpx.get(f"{_api(live)}/api/v1/platforms/zalo/events", headers=zalo.auth).json()
    assert [e["kind"] for e in events["items"]] == ["binding_created", "guardian_approved"]
