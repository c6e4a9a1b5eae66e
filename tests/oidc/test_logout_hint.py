"""RP-initiated logout: only an unexpired id_token_hint naming the logged-in user ends the
session without asking (issue 8, finding 5). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.oidc.provider import Authentication
from dinhdanh.wiring import Container
from tests.oidc.conftest import Citizen, csrf_of, log_in, make_citizen
from tests.oidc.test_flow import code_flow, register, rp
from tests.oidc.test_par_logout_client_auth import _logged_in

LOGOUT_TO = "https://rp.example/bye"


def _id_token(c: Container, info: ClientInfo, who: Citizen, age: timedelta) -> str:
    """A genuine ID token for ``who`` issued ``age`` ago (lifetime 300 s)."""
    now = c.clock() - age
    authn = Authentication(who.account_id, who.subject_id, 1, now, ("pwd",))
    return c.auth.provider.id_token(info, authn, {}, None, now)


def _logout(tc: TestClient, hint: str) -> tuple[int, str]:
    resp = tc.get(
        "/logout",
        params={"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_TO, "state": "s"},
        follow_redirects=False,
    )
    return resp.status_code, resp.text


def test_another_users_id_token_does_not_log_the_victim_out(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, _ = register(container, post_logout_redirect_uris=[LOGOUT_TO])
    other = make_citizen(container, "001090054321", "Trần Thị Bình", phone="+84912000111")
    log_in(app_client, citizen)
    status, page = _logout(app_client, _id_token(container, info, other, timedelta(0)))
    assert status == 200  # the confirmation page, not a redirect
    assert _logged_in(app_client)
    # The victim who does confirm is logged out and sent back to the platform.
    done = app_client.post(
        "/logout",
        params={"id_token_hint": _id_token(container, info, other, timedelta(0))},
        data={"csrf": csrf_of(page), "post_logout_redirect_uri": LOGOUT_TO, "state": "s"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == LOGOUT_TO + "?state=s"
    assert not _logged_in(app_client)


def test_an_expired_hint_identifies_but_does_not_authorize(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container, post_logout_redirect_uris=[LOGOUT_TO])
    log_in(app_client, citizen)
    stale = _id_token(container, info, citizen, timedelta(hours=1))
    status, _ = _logout(app_client, stale)
    assert status == 200
    assert _logged_in(app_client)
    # The user's own unexpired ID token still logs out at once.
    token, _ = code_flow(app_client, rp(app_client, info, secret))
    status, _ = _logout(app_client, token["id_token"])
    assert status == 303
    assert not _logged_in(app_client)
