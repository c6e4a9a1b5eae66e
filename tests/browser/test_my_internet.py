""" "My internet resources" in real headless Chromium: the names registered to the citizen are
listed in Vietnamese and English; disowning one asks for a confirmation and, once the second
factor is no longer recent, for the TOTP code again; the name is then reported as not mine
and its registrar finds it in its action feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from dinhdanh.auth import totp
from dinhdanh.internet.importer import import_domains
from dinhdanh.privacy.audit import AccessContext
from tests.browser.a11y import check_page
from tests.browser.test_access_log import Live, _log_in, live  # noqa: F401  (fixture)
from tests.internet.factories import person, run_of, write
from tests.support import TOTP_SECRET

pytestmark = pytest.mark.browser


def test_the_citizen_disowns_a_domain_name(live: Live, page: Page, tmp_path) -> None:  # noqa: F811
    c = live.container
    with c.unit_of_work() as s:
        c.internet.add_registrar(s, "PAVN", "P.A Việt Nam", datetime.now(UTC))
    rows = [person("phở-ngon.vn"), person("an-nguyen.com.vn")]
    report = import_domains(
        write(tmp_path / "d.csv", rows),
        registrar="PAVN",
        internet=c.internet,
        ring=c.ring,
        ctx=AccessContext("test", "registrar_upload", "seed"),
        run=run_of(c, today=live.clock.now.date()),
    )
    assert report.rejected == []

    _log_in(live, page, "vi")
    page.get_by_role("navigation", name="Chính").get_by_role(
        "link", name="Tài nguyên Internet của tôi"
    ).click()
    page.wait_for_url("**/account/internet")
    expect(page.locator("h1")).to_have_text("Tài nguyên Internet của tôi")
    expect(page.locator("table")).to_contain_text("phở-ngon.vn")
    expect(page.locator("table")).to_contain_text("xn--ph-ngon-h14c.vn")
    check_page(page, "internet-vi")

    page.goto(f"{live.base}/account/internet?lang=en")
    expect(page.locator("table")).to_contain_text("Registered to you")
    check_page(page, "internet-en")

    # The login's second factor is no longer recent: disowning asks for it again.
    live.clock.now += timedelta(seconds=c.settings.step_up_seconds + 31)
    page.get_by_role("link", name="Not mine phở-ngon.vn").click()
    page.wait_for_url("**/account/step-up**")
    page.locator("input[autocomplete=one-time-code]").fill(
        totp.totp_at(TOTP_SECRET, int(live.clock.now.timestamp()))
    )
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/account/internet/xn--ph-ngon-h14c.vn/disown")
    expect(page.locator("h1")).to_have_text("Not my domain name")
    expect(page.locator("main")).to_contain_text("phở-ngon.vn, registered at PAVN")
    check_page(page, "internet-disown-en")
    page.get_by_role("button", name="Yes, it is not mine").click()
    page.wait_for_url("**/account/internet?message=disowned")
    expect(page.get_by_role("status")).to_have_text("Recorded.")
    row = page.locator("tr", has_text="phở-ngon.vn")
    expect(row).to_contain_text("Reported as not mine")
    expect(row.get_by_role("link")).to_have_count(0)
    other = page.locator("tr", has_text="an-nguyen.com.vn")
    expect(other).to_contain_text("Registered to you")

    with c.unit_of_work() as s:
        sent = [(a.ascii_name, a.action, a.reasons) for a in c.internet.pending_actions(s, "PAVN")]
        assert sent == [("xn--ph-ngon-h14c.vn", "disowned", "REGISTRANT_DISOWNED")]
