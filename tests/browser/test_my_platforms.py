""" "My platform accounts" in real headless Chromium: a binding made through a real sign-in at
a platform is listed in Vietnamese and English, and the citizen revokes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from dinhdanh.web.app import create_app
from tests.browser.a11y import check_page
from tests.browser.test_access_log import Live, _log_in, live  # noqa: F401  (fixture)
from tests.oidc.conftest import log_in
from tests.social.conftest import add_platform, bind, sign_in

pytestmark = pytest.mark.browser


def test_the_citizen_sees_and_revokes_a_binding(live: Live, page: Page) -> None:  # noqa: F811
    zalo = add_platform(live.container, "zalo", "Zalo Việt")
    with TestClient(create_app(live.container), base_url="https://testserver") as tc:
        log_in(tc, live.citizen)
        assert bind(tc, zalo, "u-1", sign_in(tc, zalo)).status_code == 200
    live.clock.now += timedelta(seconds=31)  # the browser's TOTP code must be a new one

    _log_in(live, page, "vi")
    page.get_by_role("navigation", name="Chính").get_by_role(
        "link", name="Tài khoản mạng xã hội của tôi"
    ).click()
    page.wait_for_url("**/account/platforms")
    expect(page.locator("h1")).to_have_text("Tài khoản mạng xã hội của tôi")
    expect(page.locator("table")).to_contain_text("Zalo Việt")
    check_page(page, "platforms-vi")

    page.goto(f"{live.base}/account/platforms?lang=en")
    expect(page.locator("table")).to_contain_text("Signing in")
    check_page(page, "platforms-en")
    page.get_by_role("button", name="Revoke Zalo Việt").click()
    expect(page.get_by_role("status")).to_have_text("The binding was revoked.")
    expect(page.locator("main")).to_contain_text("No platform account is bound to you.")
    check_page(page, "platforms-revoked-en")
