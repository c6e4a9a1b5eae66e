"""PAR (RFC 9126), RP-initiated logout, private_key_jwt (RFC 7523) and client_secret_post."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi.testclient import TestClient
from jwcrypto import jwk as cjwk
from jwcrypto import jwt as cjwt

from dinhdanh.auth.oidc.client_auth import ASSERTION_TYPE
from dinhdanh.wiring import Container
from tests.oidc.conftest import REDIRECT, Citizen, csrf_of, log_in
from tests.oidc.test_flow import authorize, code_flow, register, rp

LOGOUT_TO = "https://rp.example/bye"


def _par_params(client_id: str, verifier: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid age",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }


def test_pushed_authorization_request(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    info, secret = register(container)
    verifier = generate_token(48)
    params = _par_params(info.client_id, verifier)
    assert tc.post("/par", data=params).status_code == 401  # client authentication required
    bad = tc.post("/par", data=params | {"redirect_uri": "https://evil.example/cb"},
                  auth=(info.client_id, secret))  # fmt: skip
    assert bad.status_code == 400
    resp = tc.post("/par", data=params, auth=(info.client_id, secret))
    assert resp.status_code == 201, resp.text
    pushed = resp.json()
    assert pushed["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert pushed["expires_in"] == 90
    log_in(tc, citizen)
    url = "/authorize?" + "&".join(
        [f"client_id={info.client_id}", f"request_uri={pushed['request_uri']}"]
    )
    location = authorize(tc, url)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT)
    assert query["state"] == ["st-1"]
    token = tc.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(info.client_id, secret),
    )
    assert token.status_code == 200, token.text
    # The request_uri is single use.
    assert tc.get(url, follow_redirects=False).status_code == 400


def _logged_in(tc: TestClient) -> bool:
    return tc.get("/account", follow_redirects=False).status_code == 200


def test_rp_initiated_logout_with_hint(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    info, secret = register(container, post_logout_redirect_uris=[LOGOUT_TO])
    log_in(tc, citizen)
    token, _ = code_flow(tc, rp(tc, info, secret))
    hint = token["id_token"]
    wrong = tc.get(
        "/logout",
        params={"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example/"},
        follow_redirects=False,
    )
    assert wrong.status_code == 400
    assert _logged_in(tc)
    resp = tc.get(
        "/logout",
        params={"id_token_hint": hint, "post_logout_redirect_uri": LOGOUT_TO, "state": "s9"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == LOGOUT_TO + "?state=s9"
    assert not _logged_in(tc)


def test_logout_without_hint_asks_first(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    tc = app_client
    log_in(tc, citizen)
    page = tc.get("/logout")
    assert page.status_code == 200
    assert _logged_in(tc)  # a GET alone (say, an <img> on another site) logs nobody out
    forged = tc.post("/logout", data={"csrf": "forged"})
    assert forged.status_code == 200
    assert _logged_in(tc)
    done = tc.post("/logout", data={"csrf": csrf_of(page.text)})
    assert done.status_code == 200
    assert not _logged_in(tc)


def _assertion(key: cjwk.JWK, client_id: str, aud: str, **over: Any) -> str:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "jti": str(uuid.uuid4()),
              "iat": now, "exp": now + 60} | over  # fmt: skip
    token = cjwt.JWT(header={"alg": "EdDSA", "kid": key.kid}, claims=claims)
    token.make_signed_token(key)
    return str(token.serialize())


@pytest.fixture
def pkjwt_client(container: Container) -> tuple[str, cjwk.JWK]:
    key = cjwk.JWK.generate(kty="OKP", crv="Ed25519", kid="rp-key-1")
    jwks = {"keys": [json.loads(key.export_public())]}
    with container.unit_of_work() as s:
        info, secret = container.auth.clients.create(
            s, name="Key client", redirect_uris=[], grant_types=("client_credentials",),
            jwks=jwks, now=container.clock(),
        )  # fmt: skip
    assert secret is None
    assert info.auth_method == "private_key_jwt"
    return info.client_id, key


def _cc(tc: TestClient, assertion: str) -> Any:
    return tc.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )


def test_private_key_jwt(
    container: Container, app_client: TestClient, pkjwt_client: tuple[str, cjwk.JWK]
) -> None:
    client_id, key = pkjwt_client
    issuer = container.auth.issuer
    good = _assertion(key, client_id, issuer + "/token")
    assert _cc(app_client, good).status_code == 200
    replay = _cc(app_client, good)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"
    for bad in (
        _assertion(key, client_id, "https://other.example/token"),
        _assertion(key, client_id, issuer, exp=int(time.time()) - 10),
        _assertion(key, client_id, issuer, exp=int(time.time()) + 3600),
        _assertion(key, client_id, issuer, sub="someone-else"),
        _assertion(cjwk.JWK.generate(kty="OKP", crv="Ed25519", kid="rp-key-1"), client_id, issuer),
    ):
        resp = _cc(app_client, bad)
        assert resp.status_code == 401, bad
        assert resp.json()["error"] == "invalid_client"
    assert _cc(app_client, _assertion(key, client_id, issuer)).status_code == 200


def test_client_secret_post(container: Container, app_client: TestClient) -> None:
    info, secret = register(container, grant_types=("client_credentials",))
    form = {"grant_type": "client_credentials", "client_id": info.client_id}
    ok = app_client.post("/token", data=form | {"client_secret": secret})
    assert ok.status_code == 200, ok.text
    assert app_client.post("/token", data=form | {"client_secret": "x" * 43}).status_code == 401
    both = app_client.post(
        "/token", data=form | {"client_secret": secret}, auth=(info.client_id, secret)
    )
    assert both.status_code == 400
