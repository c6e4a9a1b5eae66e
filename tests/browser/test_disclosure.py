"""Lawful re-identification in real headless Chromium: an investigator files a request for a
platform account; an approver logs in with TOTP, sees it in the queue (no personal data) and
approves it; the investigator reveals the person once. axe-core and screenshots on each page.

The people and the binding are made in the server's own database beforehand (the staff test
factories, and a real sign-in at a platform through the app in this process).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from dinhdanh.web.app import create_app
from dinhdanh.wiring import build
from tests.browser.a11y import check_page
from tests.browser.conftest import Server
from tests.browser.staff_login import log_in
from tests.oidc.conftest import log_in as log_in_client
from tests.social.conftest import add_platform, bind, sign_in
from tests.staff.factories import grant, person
from tests.support import PASSWORD, TOTP_SECRET, Citizen

pytestmark = pytest.mark.browser
POLICE = "Công an tỉnh Bắc Ninh"
PROSECUTOR = "Viện kiểm sát nhân dân tỉnh Bắc Ninh"
ACCOUNT = "u-browser-17"


def _login(who: Citizen) -> dict[str, str]:
    secret = base64.b32encode(TOTP_SECRET).decode().rstrip("=")
    return {"id_number": who.id_number, "password": PASSWORD, "totp_secret": secret}


@pytest.fixture
def people(server: Server) -> Iterator[tuple[Citizen, Citizen, Citizen]]:
    """(the bound citizen, an investigator, an approver) in the server's database."""
    c = build(server.settings)
    try:
        target, investigator, approver = person(c, 0), person(c, 1), person(c, 2)
        grant(c, investigator, "investigator", org=POLICE)
        grant(c, approver, "approver", org=PROSECUTOR)
        plat = add_platform(c, "zalo-browser", "Zalo Việt")
        with TestClient(create_app(c), base_url="https://testserver") as tc:
            log_in_client(tc, target)
            assert bind(tc, plat, ACCOUNT, sign_in(tc, plat)).status_code == 200
        yield target, investigator, approver
    finally:
        c.close()


def test_an_approver_approves_and_the_investigator_reveals_once(
    server: Server, page: Page, browser: Browser, people: tuple[Citizen, Citizen, Citizen]
) -> None:
    target, investigator, approver = people

    # The investigator files the request.
    log_in(server, page, _login(investigator), "/staff/disclosures")
    expect(page.locator("h1")).to_have_text("Disclosure requests")
    check_page(page, "disclosure-requests-empty")
    page.get_by_role("link", name="New request").click()
    expect(page.locator("h1")).to_have_text("New disclosure request")
    page.get_by_label("Platform", exact=True).select_option("zalo-browser")
    page.get_by_label("Account id at the platform").fill(ACCOUNT)
    page.get_by_label("Legal basis").select_option("criminal_investigation")
    page.get_by_label("Case reference").fill("HS-2026/118")
    page.get_by_label("Reason", exact=True).fill("threats posted from this account")
    page.get_by_label("Disclosure delay in days").fill("30")
    check_page(page, "disclosure-new")
    page.get_by_role("button", name="File the request").click()
    expect(page.get_by_role("status")).to_have_text(
        "The request was filed. An approver decides on it."
    )
    expect(page.locator("table")).to_contain_text("Waiting for approval")
    check_page(page, "disclosure-requests")

    # The approver, in a browser of their own, logs in with TOTP and approves.
    approver_page = browser.new_page()
    try:
        log_in(server, approver_page, _login(approver), "/staff")
        nav = approver_page.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="Requests to approve").click()
        approver_page.wait_for_url("**/staff/disclosures/queue")
        expect(approver_page.locator("h1")).to_have_text("Requests to approve")
        queue = approver_page.locator("main")
        for shown in (ACCOUNT, "HS-2026/118", "threats posted from this account", POLICE):
            expect(queue).to_contain_text(shown)
        assert target.full_name not in approver_page.content()
        assert target.id_number not in approver_page.content()
        check_page(approver_page, "disclosure-queue")
        approver_page.get_by_label("Note on your decision").fill("basis and reason checked")
        approver_page.get_by_role("button", name="Approve").click()
        expect(approver_page.get_by_role("status")).to_have_text("The request was approved.")
        expect(queue).to_contain_text("No request is waiting.")
        check_page(approver_page, "disclosure-queue-done")
        approver_page.goto(server.base + "/staff/disclosures/queue?lang=vi")
        expect(approver_page.locator("h1")).to_have_text("Yêu cầu chờ phê duyệt")
        check_page(approver_page, "disclosure-queue-vi")
    finally:
        approver_page.close()

    # The investigator (logged in minutes ago: still fresh) reveals the person, once.
    page.reload()
    expect(page.locator("table")).to_contain_text("Approved")
    page.get_by_role("link", name=f"Reveal {ACCOUNT}").click()
    expect(page.locator("h1")).to_have_text("Reveal the person")
    assert target.full_name not in page.content()
    check_page(page, "disclosure-reveal")
    page.get_by_role("button", name="Reveal the person").click()
    record = page.locator("#person + dl.record")
    expect(record).to_contain_text(target.full_name)
    expect(record).to_contain_text(target.id_number)
    assert target.id_number not in page.url
    check_page(page, "disclosure-revealed")
    page.goto(server.base + "/staff/disclosures")
    expect(page.locator("table")).to_contain_text("Revealed")
    assert target.full_name not in page.content()
