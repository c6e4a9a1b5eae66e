"""Age credentials on the account page in real headless Chromium: the citizen gets an offer,
the test wallet takes it over HTTP (OpenID4VCI), the page counts the credentials, and
"revoke all" flips their bits in the status list a website reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, expect

from dinhdanh.age.credentials.errors import PresentationRejected
from dinhdanh.age.credentials.keys import verifying_keys
from dinhdanh.age.credentials.verifier import Trust, verify_presentation
from dinhdanh.age.statuslist import StatusListCache
from dinhdanh.age.wallet import Wallet
from dinhdanh.choices import Environment
from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build, init_data_dir
from tests.browser.a11y import check_page
from tests.browser.test_access_log import Live, _log_in
from tests.social.conftest import add_platform
from tests.support import Clock, free_port, make_citizen

pytestmark = pytest.mark.browser
SHOP = "https://shop.example.vn"


@pytest.fixture
def issuer_live(tmp_path: Path) -> Iterator[Live]:
    """A dev server in this process whose issuer URL is its own address (the offer names
    it), with the demo wallet page."""
    port = free_port()
    base = f"http://localhost:{port}"
    settings = Settings(data_dir=tmp_path / "var", issuer=base, env=Environment.DEV)
    init_data_dir(settings)[1].dispose()
    c = build(settings)
    clock = Clock(datetime.now(UTC))
    c.clock = clock
    citizen = make_citizen(c)
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
        yield Live(base, c, clock, citizen, "")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        c.close()


def test_offer_from_the_account_page_then_revoke_all(issuer_live: Live, page: Page) -> None:
    live = issuer_live
    _log_in(live, page, "vi")
    expect(page.locator("#age-credentials")).to_have_text("Chứng nhận độ tuổi còn hiệu lực: 0")
    check_page(page, "age-account-vi")
    page.goto(f"{live.base}/account?lang=en")
    page.get_by_role("button", name="Get age credentials").click()
    expect(page.locator("h1")).to_have_text("Get age credentials")
    check_page(page, "age-offer-en")
    offer = page.locator("#offer-uri").input_value()
    assert offer.startswith("openid-credential-offer://?credential_offer=")
    assert page.locator("#offer-link").get_attribute("href") == offer

    # localhost is the server's name in the offer; it listens on IPv4.
    transport = httpx.HTTPTransport(local_address="127.0.0.1")
    with httpx.Client(transport=transport, timeout=30) as http:
        wallet = Wallet("ES256")
        assert wallet.fetch(http, offer, live.clock.now) == 10

        def trust() -> Trust:
            def fetch(uri: str) -> str:
                resp = http.get(uri)
                assert resp.status_code == 200
                return resp.text

            # What any website does: the issuer's metadata, then its status lists.
            meta = http.get(live.base + "/.well-known/jwt-vc-issuer").json()
            status = StatusListCache(fetch, verifying_keys(meta["jwks"]), 0)
            return Trust.from_metadata(meta, status)

        shown = wallet.present("age_over_18", "n-0", SHOP, live.clock.now)
        proof = verify_presentation(
            shown, "n-0", SHOP, live.clock.now, claims="age_over_18", trust=trust()
        )
        assert proof.claims == {"age_over_18": True}

        page.get_by_role("link", name="Back to my account").click()
        expect(page.locator("#age-credentials")).to_have_text("Active age credentials: 10")
        page.get_by_role("button", name="Revoke all age credentials").click()
        page.wait_for_url("**/account?age_revoked=1")
        expect(page.locator("#age-revoked")).to_have_text("Your age credentials were revoked.")
        expect(page.locator("#age-credentials")).to_have_text("Active age credentials: 0")
        check_page(page, "age-revoked-en")

        later = wallet.present("age_over_18", "n-1", SHOP, live.clock.now)
        with pytest.raises(PresentationRejected) as rejected:
            verify_presentation(
                later, "n-1", SHOP, live.clock.now, claims="age_over_18", trust=trust()
            )
        assert rejected.value.code == "credential_revoked"


def test_the_demo_wallet_takes_the_offer_and_answers_a_platform(
    issuer_live: Live, page: Page
) -> None:
    live = issuer_live
    shop = add_platform(live.container, "shop")
    _log_in(live, page, "en")
    page.get_by_role("button", name="Get age credentials").click()
    offer = page.locator("#offer-uri").input_value()

    page.goto(f"{live.base}/dev/wallet?lang=en")
    expect(page.locator("#wallet-held")).to_have_text("Unused credentials: 0")
    page.locator("#offer").fill(offer)
    page.get_by_role("button", name="Take the offer").click()
    page.wait_for_url("**/dev/wallet?stored=10")
    expect(page.locator("#wallet-held")).to_have_text("Unused credentials: 10")
    check_page(page, "demo-wallet-en")

    transport = httpx.HTTPTransport(local_address="127.0.0.1")
    api = f"{live.base}/api/v1/platforms/shop/age-requests"
    with httpx.Client(transport=transport, timeout=30, headers=shop.auth) as http:
        asked = http.post(api, json={"claim": "age_over_16"}).json()
        page.locator("#request-uri").fill(asked["request_uri"])
        page.get_by_role("button", name="Answer").click()
        page.wait_for_url("**/dev/wallet?answered=1")
        expect(page.locator("#wallet-held")).to_have_text("Unused credentials: 9")
        result = http.get(f"{api}/{asked['id']}").json()
        assert (result["state"], result["value"]) == ("verified", True)

        # The same request again: the platform's request is over, the wallet is told why.
        page.locator("#request-uri").fill(asked["request_uri"])
        page.get_by_role("button", name="Answer").click()
        expect(page.get_by_role("alert")).to_contain_text("already answered")
        check_page(page, "demo-wallet-refused-en")
        assert http.get(f"{api}/{asked['id']}").json()["value"] is True
