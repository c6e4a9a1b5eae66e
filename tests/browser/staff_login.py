"""Logging a staff member (or any citizen with TOTP) in through the real pages, in Chromium."""

from __future__ import annotations

import base64
import time

from playwright.sync_api import Page

from dinhdanh.auth import totp
from tests.browser.conftest import Server
from tests.browser.test_login import _code_in_new_step


def log_in(server: Server, page: Page, person: dict[str, str], then: str) -> None:
    """Password, then a TOTP code of a time step no other test has used for this account.

    ``person`` as ``dinhdanh demo --json`` prints one: id_number, password, totp_secret
    (base32)."""
    b32 = person["totp_secret"]
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    page.context.clear_cookies()
    page.goto(server.base + "/login?lang=en&next=" + then)
    page.locator("input[autocomplete=username]").fill(person["id_number"])
    page.locator("input[autocomplete=current-password]").fill(person["password"])
    page.locator("form button[type=submit]").click()
    now_step = totp.time_step(int(time.time()))
    page.locator("input[autocomplete=one-time-code]").fill(_code_in_new_step(secret, now_step))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**" + then)
