"""The officer console in real headless Chromium: an admin grants a role; the new officer logs
in with TOTP, looks a citizen up with a legal basis (without one it is refused) and sees the
reconciliation; the citizen looked up then finds that lookup on "Who used my data"; axe-core
and screenshots on every console page (tests/browser/a11y.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.a11y import check_page
from tests.browser.conftest import Server
from tests.browser.staff_login import log_in
from tests.cli.helpers import cli_json

pytestmark = pytest.mark.browser
ORG = "Công an tỉnh Bắc Ninh"


def test_an_admin_grants_a_role_and_the_officer_looks_a_citizen_up(
    server: Server, page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    admin, officer = server.demo["citizens"][1], server.demo["citizens"][0]
    # The officer looks the admin up: a citizen whose password no other test changes
    # (test_login re-enrols citizens[2]), so they can log in and read their access log.
    target = admin
    s = server.settings
    args = (
        "--role",
        "admin",
        "--org",
        "Bộ Công an",
        "--expires",
        "30d",
        "--reason",
        "console test",
    )
    cli_json(s, "staff", "grant", admin["id_number"], *args)
    out = tmp_path_factory.mktemp("reconcile")
    cli_json(s, "reconcile", "subscriptions", "--as-of", "2026-06-01", "--out", str(out))

    # The admin, just logged in (fresh), grants the officer role in the console.
    log_in(server, page, admin, "/staff")
    expect(page.locator("h1")).to_have_text("Staff console")
    check_page(page, "staff-home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff roles").click()
    expect(page.locator("h1")).to_have_text("Staff roles")
    check_page(page, "staff-grants")
    page.get_by_label("Personal identification number").fill(officer["id_number"])
    page.get_by_label("Role").select_option("officer")
    page.get_by_label("Organisation").fill(ORG)
    page.get_by_label("Until").fill((date.today() + timedelta(days=30)).isoformat())
    page.get_by_label("Reason", exact=True).fill("joins the cybercrime unit")
    page.get_by_role("button", name="Grant", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("The role was granted.")
    expect(page.locator("table")).to_contain_text(ORG)
    page.goto(server.base + "/staff/audit")
    expect(page.get_by_role("status")).to_contain_text("Intact")
    check_page(page, "staff-audit")

    # The officer logs in with TOTP and looks a citizen up; no legal basis, no lookup.
    log_in(server, page, officer, "/staff/lookup")
    expect(page.locator("h1")).to_have_text("Look a citizen up")
    check_page(page, "staff-lookup")
    page.get_by_label("Personal identification number").fill(target["id_number"])
    page.get_by_label("Case reference").fill("HS-2026/042")
    # The browser would refuse an empty required select: ask the server the same, by hand.
    page.locator("#legal_basis").evaluate("el => el.removeAttribute('required')")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("alert")).to_have_text("Choose the legal basis of this lookup.")
    assert target["full_name"] not in page.content()
    assert target["id_number"] not in page.url
    check_page(page, "staff-lookup-refused")
    page.get_by_label("Legal basis").select_option("criminal_investigation")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("dl.record")).to_contain_text(target["full_name"])
    assert target["id_number"] not in page.url  # the lookup went in the body
    check_page(page, "staff-lookup-result")

    # Vietnamese by default; the reconciliation with report.html's charts, cases by state.
    page.goto(server.base + "/staff/reconciliation?lang=vi")
    expect(page.locator("h1")).to_have_text("Đối soát thuê bao")
    expect(page.locator(".charts svg").first).to_be_visible()
    check_page(page, "staff-reconciliation")
    page.goto(server.base + "/staff/reconciliation?state=flagged&lang=en#cases")
    first_case = page.locator("#cases + .scroll a").first
    expect(first_case).to_be_visible()
    first_case.click()
    expect(page.locator("h1")).to_have_text("Lock case")
    check_page(page, "staff-case")

    # The citizen looked up sees who did it, on which legal basis (not the case reference).
    log_in(server, page, target, "/account/access-log")  # a new TOTP step: the admin's was used
    entries = page.locator("main")
    expect(entries).to_contain_text(f"{ORG}, officer, criminal investigation, read your")
    assert "HS-2026/042" not in page.content()
