"""The portal in real headless Chromium: its navigation, plain-language labels on the account
page, and axe-core on the pages the login tests do not reach (numbers, step-up, error, logout).
"""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Page, expect

from tests.browser.a11y import check_page
from tests.browser.conftest import Server
from tests.browser.test_login import _code_in_new_step

pytestmark = pytest.mark.browser


def test_the_axe_check_fails_on_a_page_with_violations(page: Page) -> None:
    page.set_content("<html><body><img src='x.png'><input></body></html>")
    with pytest.raises(AssertionError, match="image-alt"):
        check_page(page, "broken")


def test_the_portal_in_vietnamese(server: Server, page: Page) -> None:
    page.goto(server.base + "/authorize?client_id=nobody&response_type=code&lang=vi")
    expect(page.locator("h1")).to_have_text("Có lỗi")
    check_page(page, "error")

    person = server.demo["citizens"][0]
    b32 = person["totp_secret"]
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    page.goto(server.base + "/login?lang=vi")
    expect(page.locator("h1")).to_have_text("Đăng nhập")
    page.locator("input[autocomplete=username]").fill(person["id_number"])
    page.locator("input[autocomplete=current-password]").fill(person["password"])
    page.locator("form button[type=submit]").click()
    page.locator("input[autocomplete=one-time-code]").fill(_code_in_new_step(secret))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/account")

    # Plain words, not internal values: the level's name, a device, a session's state.
    expect(page.locator("h1")).to_have_text("Tài khoản của tôi")
    expect(page.locator("#level")).to_contain_text("Mức độ 1")
    assert "urn:dinhdanh" not in page.content()
    expect(page.locator("#sessions td.device").first).to_contain_text("HeadlessChrome")
    expect(page.locator("#sessions")).to_contain_text("Thiết bị này")
    expect(page.locator("#sign-ins")).to_contain_text("Đang chờ bước thứ hai")
    assert "mfa_pending" not in page.locator("#sign-ins").inner_text()
    main_nav = page.get_by_role("navigation", name="Chính")
    expect(main_nav.locator("[aria-current=page]")).to_have_text("Tài khoản của tôi")
    check_page(page, "account-vi")

    main_nav.get_by_role("link", name="Số điện thoại của tôi").click()
    page.wait_for_url("**/account/numbers")
    expect(main_nav.locator("[aria-current=page]")).to_have_text("Số điện thoại của tôi")
    check_page(page, "numbers")

    page.goto(server.base + "/account/step-up")
    expect(page.locator("h1")).to_have_text("Xác nhận xác thực hai bước")
    check_page(page, "step-up")

    # The language switch keeps the page; English from here on (the cookie remembers it).
    page.get_by_role("navigation", name="Ngôn ngữ").get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Confirm your second factor")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Log out").click()
    expect(page.locator("h1")).to_have_text("Do you want to log out?")
    check_page(page, "logout")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("You are logged out.")
    check_page(page, "logged-out")
