"""The console's posture pages in real headless Chromium: an agency administrator sees their
agency's systems, overdue findings and index, acknowledges a finding and registers a system
(in Vietnamese and English); given the approver role too, they see every agency ranked.
axe-core and screenshots on each page (tests/browser/a11y.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dinhdanh.posture import models as m
from dinhdanh.posture.checks import Found, Severity
from dinhdanh.posture.findings import record
from dinhdanh.posture.rules import DeadlinePolicy
from tests.browser.a11y import check_page
from tests.browser.test_access_log import Live, _log_in, live  # noqa: F401  (fixture)
from tests.posture.factories import AGENCY, AGENCY_BLOCK, NOW, agencies, system
from tests.staff.factories import grant

pytestmark = pytest.mark.browser
URL = "https://127.10.0.1:443"


def test_an_agency_admin_works_on_their_findings(live: Live, page: Page, tmp_path: Path) -> None:  # noqa: F811
    c = live.container
    agencies(c, tmp_path)
    made = system(c, "https://127.10.0.1", name="Cổng thuế", domains=(), blocks=(AGENCY_BLOCK,))
    with c.unit_of_work() as s:
        row = s.get(m.InformationSystem, made.id)
        assert row is not None
        found = [Found("CERT_EXPIRED", Severity.CRITICAL, URL),
                 Found("HSTS_MISSING", Severity.MEDIUM, URL)]  # fmt: skip
        record(s, row, URL, {"tls", "http"}, found, DeadlinePolicy(), NOW)
    grant(c, live.citizen, "agency_admin", org=AGENCY, now=live.clock.now)

    _log_in(live, page, "vi")
    page.goto(f"{live.base}/staff")
    page.get_by_role("navigation", name="Chính").get_by_role(
        "link", name="An toàn thông tin mạng của các cơ quan"
    ).click()
    page.wait_for_url(f"**/staff/posture/agencies/{AGENCY}")
    expect(page.locator("h1")).to_have_text("Cục Thuế")
    expect(page.get_by_role("region", name="Phát hiện còn mở")).to_contain_text("Quá hạn")
    check_page(page, "staff-posture-agency-vi")

    page.goto(f"{live.base}/staff/posture/agencies/{AGENCY}?lang=en")
    findings = page.get_by_role("region", name="Open findings")
    expect(findings).to_contain_text("CERT_EXPIRED")
    page.get_by_role("button", name=f"Acknowledge CERT_EXPIRED on {URL}").click()
    expect(page.get_by_role("status")).to_have_text("The finding was acknowledged.")
    expect(findings.locator("tr", has_text="CERT_EXPIRED")).to_contain_text("Acknowledged")

    page.get_by_label("Name of the system").fill("Cổng hóa đơn")
    page.get_by_label("Security level (1 to 5)").select_option("4")
    page.get_by_label("IP blocks of the agency it uses").fill(AGENCY_BLOCK)
    page.get_by_label("Endpoints, one a line").fill("https://127.10.0.9\ntcp://127.10.0.9:22")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("The system was registered.")
    expect(page.get_by_role("region", name="Information systems")).to_contain_text(
        "tcp://127.10.0.9:22"
    )
    check_page(page, "staff-posture-agency-en")

    grant(c, live.citizen, "approver", org="Bộ Công an", now=live.clock.now)
    page.goto(f"{live.base}/staff/posture?lang=en")
    expect(page.locator("h1")).to_have_text("Agencies' cybersecurity")
    ranking = page.get_by_role("region", name="Ranking of agencies")
    expect(ranking.locator("tbody tr").first).to_contain_text("Cục Thuế")
    expect(ranking.locator("tbody tr").last).to_contain_text("Sở Bò")  # no system: no index
    expect(ranking.locator("tbody tr").last).to_contain_text("\u2013")
    check_page(page, "staff-posture-ranking")
