""" "Who used my data" in real headless Chromium: an officer looks a citizen up through the
officer API, and the citizen sees it on the page; a lookup under a disclosure delay shows only
once the server's clock has passed its date.

The server runs in this process (uvicorn in a thread) so that the test owns its clock: the
container's ``clock`` is the injectable one every service reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect

from dinhdanh.auth import totp
from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container, build, init_data_dir
from tests.browser.a11y import check_page
from tests.staff.factories import grant, person, token
from tests.support import PASSWORD, TOTP_SECRET, Citizen, Clock, free_port, make_citizen

pytestmark = pytest.mark.browser
POLICE = "Công an thành phố Hà Nội"


@dataclass
class Live:
    base: str
    container: Container
    clock: Clock
    citizen: Citizen
    officer_key: str


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    settings = Settings(data_dir=tmp_path / "var")
    init_data_dir(settings)[1].dispose()
    c = build(settings)
    clock = Clock()
    clock.now = datetime.now(UTC)
    c.clock = clock
    citizen = make_citizen(c)
    officer_token = token(c, grant(c, person(c, 3), org=POLICE, now=clock.now), clock.now)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(c), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start within 30 s"
        time.sleep(0.05)
    try:
        yield Live(f"http://localhost:{port}", c, clock, citizen, officer_token)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        c.close()


def _officer_lookup(live: Live, legal_basis: str, **extra: object) -> None:
    body = {
        "id_number": live.citizen.id_number,
        "legal_basis": legal_basis,
        "case_ref": "HN-2026-0412",
        **extra,
    }
    resp = httpx.post(
        live.base.replace("localhost", "127.0.0.1") + "/api/v1/citizens:lookup",
        json=body,
        headers={"Authorization": f"Bearer {live.officer_key}"},
    )
    assert resp.status_code == 200, resp.text


def _log_in(live: Live, page: Page, lang: str) -> None:
    """Password, then the TOTP code of the server's (moved) clock."""
    page.goto(f"{live.base}/login?lang={lang}")
    page.locator("input[autocomplete=username]").fill(live.citizen.id_number)
    page.locator("input[autocomplete=current-password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    code = totp.totp_at(TOTP_SECRET, int(live.clock.now.timestamp()))
    page.locator("input[autocomplete=one-time-code]").fill(code)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/account")


def test_the_citizen_sees_an_officer_lookup_and_a_delayed_one_when_its_date_comes(
    live: Live, page: Page
) -> None:
    _officer_lookup(live, "criminal_investigation")
    _officer_lookup(live, "court_order", disclosure_delay_days=30)

    _log_in(live, page, "vi")
    page.get_by_role("navigation", name="Chính").get_by_role(
        "link", name="Ai đã dùng dữ liệu của tôi"
    ).click()
    page.wait_for_url("**/account/access-log")
    expect(page.locator("h1")).to_have_text("Ai đã dùng dữ liệu của tôi")
    log = page.locator("#access-log")
    expect(log).to_contain_text(f"{POLICE}, cán bộ, điều tra hình sự, đã xem số định danh, họ tên")
    expect(log).not_to_contain_text("quyết định của tòa án")  # still under its delay
    expect(log).not_to_contain_text("HN-2026-0412")  # never the case reference
    check_page(page, "access-log-vi")

    live.clock.now += timedelta(days=30, minutes=-10)
    _log_in(live, page, "en")  # the first session expired long ago by this clock
    page.goto(f"{live.base}/account/access-log")
    expect(log).not_to_contain_text("court order")

    live.clock.now += timedelta(minutes=11)  # within the session's idle timeout
    page.reload()
    expect(page.locator("h1")).to_have_text("Who used my data")
    expect(log).to_contain_text(f"{POLICE}, officer, court order, read your ID number, name")
    expect(log).to_contain_text(f"{POLICE}, officer, criminal investigation, read your ID number")
    check_page(page, "access-log-en")
