"""In real headless Chromium: enrol, log in with password + TOTP, consent, land on the client's
redirect with a code; register a passkey and log in with it (CDP virtual authenticator)."""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.sync_api import BrowserContext, Page, Route, expect

from dinhdanh.auth import totp
from tests.browser.a11y import check_page
from tests.browser.conftest import Server

pytestmark = pytest.mark.browser
REDIRECT = "http://127.0.0.1:8080/callback"


def _fresh_citizen(server: Server) -> dict[str, str]:
    """A living adult of the demo population without an account, whose enrolment code reaches
    a number the telecom registry lists for them (`dinhdanh demo` names a few)."""
    enrolable = server.demo["enrolable"]
    assert enrolable, "the demo names no citizen who can enrol"
    return dict(enrolable[0])


def _outbox_code(server: Server) -> str:
    html = httpx.get(server.base.replace("localhost", "127.0.0.1") + "/dev/outbox").text
    m = re.search(r'class="sms-text">[^<]*?(\d{6})', html)
    assert m, html
    return m.group(1)


def _code_in_new_step(secret: bytes, after: int | None = None) -> str:
    """A TOTP code of a time step later than ``after`` (a code is never accepted twice)."""
    while after is not None and totp.time_step(int(time.time())) <= after:
        time.sleep(0.5)
    return totp.totp_at(secret, int(time.time()))


def _enrol(server: Server, page: Page, person: dict[str, str], password: str) -> None:
    """Identity, the SMS code from the outbox, the new password."""
    page.goto(server.base + "/enrol?lang=en")
    check_page(page, "enrol")
    page.get_by_label("Personal identification number").fill(person["id_number"])
    page.get_by_label("Full name").fill(person["full_name"])
    page.get_by_label("Date of birth").fill(person["date_of_birth"])
    page.get_by_role("button", name="Continue").click()
    check_page(page, "enrol-code")
    page.locator("input[autocomplete=one-time-code]").fill(_outbox_code(server))
    page.get_by_role("button", name="Continue").click()
    check_page(page, "enrol-password")
    page.locator("input[autocomplete=new-password]").fill(password)
    page.get_by_role("button", name="Continue").click()


def test_enrol_log_in_consent_and_get_a_code(server: Server, page: Page) -> None:
    person = _fresh_citizen(server)
    _enrol(server, page, person, "đồng lúa chín vàng 2025")
    # TOTP set-up: read the key like an authenticator app would.
    check_page(page, "totp-setup")
    b32 = page.locator("#totp-secret").inner_text().strip()
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    page.locator("input[autocomplete=one-time-code]").fill(_code_in_new_step(secret))
    setup_step = totp.time_step(int(time.time()))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    check_page(page, "recovery-codes")
    page.context.clear_cookies()

    # The platform sends the user to /authorize; they log in with password + TOTP.
    verifier = generate_token(48)
    query = {
        "response_type": "code",
        "client_id": server.demo["client"]["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "openid age",
        "state": "browser-state",
        "nonce": "browser-nonce",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    landed: list[str] = []

    def callback(route: Route) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, body="ok")

    page.route(REDIRECT + "*", callback)
    page.goto(server.base + "/authorize?" + urlencode(query))
    check_page(page, "login")
    page.locator("input[autocomplete=username]").fill(person["id_number"])
    page.locator("input[autocomplete=current-password]").fill("đồng lúa chín vàng 2025")
    page.locator("form button[type=submit]").click()
    check_page(page, "second-factor")
    page.locator("input[autocomplete=one-time-code]").fill(_code_in_new_step(secret, setup_step))
    page.locator("form button[type=submit]").click()
    check_page(page, "consent")
    page.locator("button[name=consent][value=allow]").click()
    page.wait_for_url(REDIRECT + "*")
    assert landed
    params = parse_qs(urlsplit(landed[0]).query)
    assert params["state"] == ["browser-state"]
    assert params["iss"] == [server.base]
    client = server.demo["client"]
    token = httpx.post(
        server.base.replace("localhost", "127.0.0.1") + "/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(client["client_id"], client["client_secret"]),
    )
    assert token.status_code == 200, token.text
    assert "id_token" in token.json()


def _virtual_authenticator(context: BrowserContext, page: Page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_register_and_log_in_with_a_passkey(server: Server, page: Page) -> None:
    _virtual_authenticator(page.context, page)
    person = server.demo["citizens"][1]
    secret_b32 = person["totp_secret"]
    secret = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    page.goto(server.base + "/login?lang=en")
    page.locator("input[autocomplete=username]").fill(person["id_number"])
    page.locator("input[autocomplete=current-password]").fill(person["password"])
    page.locator("form button[type=submit]").click()
    page.locator("input[autocomplete=one-time-code]").fill(_code_in_new_step(secret))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/account")
    page.locator("#add-passkey").click()
    expect(page.locator("#passkeys li")).to_have_count(1)
    check_page(page, "account")

    page.context.clear_cookies()
    page.goto(server.base + "/login?lang=en")
    page.locator("#passkey-login").click()
    page.wait_for_url("**/account")
    expect(page.locator("h1")).to_have_text("My account")
    expect(page.locator("#passkeys li")).to_have_count(1)
    expect(page.get_by_text("passkey", exact=False).first).to_be_visible()


def test_enrolling_again_on_a_totp_account_asks_for_the_totp_code(
    server: Server, page: Page
) -> None:
    """Issue 8, finding 1: the SMS code alone gives no session on an account with TOTP."""
    person = server.demo["citizens"][2]
    secret_b32 = person["totp_secret"]
    secret = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    _enrol(server, page, person, "hoa sen nở giữa đầm 88")
    # No session yet: the page asks for the authenticator, or offers the waiting period.
    expect(page.locator("#ask-wait")).to_be_visible()
    check_page(page, "enrol-factor")
    assert not [k for k in page.context.cookies() if k["name"] == "__Host-dd_session"]
    page.locator("input[autocomplete=one-time-code]").fill(_code_in_new_step(secret))
    page.locator("form[action='/enrol/factor'] button[type=submit]").click()
    page.wait_for_url("**/account")
    expect(page.locator("h1")).to_have_text("My account")
