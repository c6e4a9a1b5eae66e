"""prompt=login and max_age are judged from the server-side session only, at GET /authorize
and again at the consent POST (issue 8, finding 7). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from authlib.common.security import generate_token
from fastapi.testclient import TestClient
from sqlalchemy import update

from dinhdanh.auth.models import LoginSession
from dinhdanh.wiring import Container
from tests.oidc.conftest import REDIRECT, Citizen, csrf_of, log_in
from tests.oidc.test_flow import BASE, authorize, register, rp


def _url(tc: TestClient, container: Container, **extra: str) -> str:
    info, secret = register(container)
    url, _ = rp(tc, info, secret).create_authorization_url(
        BASE + "/authorize", code_verifier=generate_token(48), nonce="n", **extra
    )
    return str(url)


def _recovery_code(container: Container, citizen: Citizen) -> str:
    """A second login needs another factor than the TOTP code the first one used."""
    with container.unit_of_work() as s:
        account = container.auth.accounts.get(s, citizen.account_id)
        assert account is not None
        return container.auth.accounts.new_recovery_codes(s, account)[0]


def test_t_in_the_query_does_not_satisfy_prompt_login(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    log_in(tc, citizen)
    url = _url(tc, container, prompt="login") + "&_t=1"
    resp = tc.get(url, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    location = resp.headers["location"]
    assert location.startswith("/login?")
    back = parse_qs(urlsplit(location).query)["next"][0]
    assert "request_uri=" in back
    assert "prompt" not in back
    # Not logged in again yet: still sent to log in.
    assert tc.get(back, follow_redirects=False).headers["location"].startswith("/login?")
    log_in(tc, citizen, _recovery_code(container, citizen))
    assert authorize(tc, back).startswith(REDIRECT + "?code=")


def test_consent_post_checks_max_age(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    log_in(tc, citizen)
    url = _url(tc, container)
    page = tc.get(url)
    assert page.status_code == 200
    assert "consent" in page.text
    with container.unit_of_work() as s:  # the login was 601 s ago
        s.execute(update(LoginSession).values(auth_time=container.clock() - timedelta(seconds=601)))
    for query in (url.split("?", 1)[1] + "&max_age=600", url.split("?", 1)[1] + "&prompt=login"):
        resp = tc.post(
            "/authorize/consent",
            data={"csrf": csrf_of(page.text), "query": query, "consent": "allow"},
            follow_redirects=False,
        )
        assert resp.status_code == 303
        assert resp.headers["location"].startswith("/login?"), resp.headers["location"]
