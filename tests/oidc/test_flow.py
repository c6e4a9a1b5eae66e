"""The whole authorization-code + PKCE flow, driven by Authlib's client, ID tokens checked by
jwcrypto against /jwks for every algorithm; and the failures the issue lists."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from fastapi.testclient import TestClient
from jwcrypto import jwk as cjwk
from jwcrypto import jwt as cjwt

from dinhdanh.auth.clients import ClientInfo
from dinhdanh.wiring import Container
from tests.oidc.conftest import REDIRECT, Citizen, csrf_of, log_in

BASE = "https://testserver"
NONCE = "n-0S6_WzA2Mj"


def register(c: Container, alg: str = "EdDSA", **kw: Any) -> tuple[ClientInfo, str]:
    with c.unit_of_work() as s:
        info, secret = c.auth.clients.create(
            s, name="Báo Mới", redirect_uris=[REDIRECT], signing_alg=alg, now=c.clock(), **kw
        )
    assert secret is not None
    return info, secret


def rp(tc: TestClient, info: ClientInfo, secret: str, scope: str = "openid age") -> OAuth2Client:
    return OAuth2Client(
        info.client_id,
        secret,
        scope=scope,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        transport=tc._transport,
        base_url=BASE,
    )


def authorize(tc: TestClient, url: str) -> str:
    """The browser's part: follow /authorize, consent if asked; the redirect to the client."""
    resp = tc.get(url, follow_redirects=False)
    if resp.status_code == 200 and "consent" in resp.text:
        resp = tc.post(
            "/authorize/consent",
            data={
                "csrf": csrf_of(resp.text),
                "query": url.split("?", 1)[1],
                "consent": "allow",
            },
            follow_redirects=False,
        )
    assert resp.status_code == 303, resp.text
    location: str = resp.headers["location"]
    return location


def code_flow(
    tc: TestClient, client: OAuth2Client, scope: str = "openid age"
) -> tuple[dict[str, Any], str]:
    verifier = generate_token(48)
    url, _state = client.create_authorization_url(
        BASE + "/authorize", code_verifier=verifier, nonce=NONCE, scope=scope
    )
    location = authorize(tc, url)
    assert location.startswith(REDIRECT + "?code=")
    token = client.fetch_token(
        BASE + "/token", authorization_response=location, code_verifier=verifier
    )
    return dict(token), location


def verify_id_token(tc: TestClient, token: str, alg: str, audience: str, issuer: str) -> Any:
    keyset = cjwk.JWKSet.from_json(json.dumps(tc.get("/jwks").json()))
    checked = cjwt.JWT(
        jwt=token,
        key=keyset,
        algs=[alg],
        check_claims={"iss": issuer, "aud": audience, "exp": None, "nonce": NONCE},
    )
    return json.loads(checked.claims)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "ML-DSA-65"])
def test_code_flow_with_authlib_and_jwcrypto(
    container: Container, app_client: TestClient, citizen: Citizen, alg: str
) -> None:
    info, secret = register(container, alg)
    log_in(app_client, citizen)
    token, location = code_flow(app_client, rp(app_client, info, secret))
    assert "iss=" in location  # RFC 9207
    issuer = container.auth.issuer
    claims = verify_id_token(app_client, token["id_token"], alg, info.client_id, issuer)
    assert claims["verified"] is True
    assert claims["acr"] == "urn:dinhdanh:loa:1"
    assert set(claims["amr"]) >= {"pwd", "otp", "mfa"}
    assert claims["age_over_18"] is True
    assert "birthdate" not in claims
    assert "name" not in claims
    assert claims["sub"] != citizen.subject_id
    # The access token is an RFC 9068 JWT; userinfo answers with the same subject.
    head = token["access_token"].split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    assert header["typ"] == "at+jwt"
    info_resp = app_client.get(
        "/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert info_resp.status_code == 200
    assert info_resp.json()["sub"] == claims["sub"]
    assert info_resp.json()["age_over_16"] is True


def test_pairwise_subjects_differ_across_sectors(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    a, sa = register(container)
    b, sb = register(container, sector_identifier="other.example")
    log_in(app_client, citizen)
    ta, _ = code_flow(app_client, rp(app_client, a, sa))
    tb, _ = code_flow(app_client, rp(app_client, b, sb))
    sub_a = app_client.get("/userinfo", headers={"Authorization": f"Bearer {ta['access_token']}"})
    sub_b = app_client.get("/userinfo", headers={"Authorization": f"Bearer {tb['access_token']}"})
    assert sub_a.json()["sub"] != sub_b.json()["sub"]
    # Stable for one sector: a second login gives the same sub.
    ta2, _ = code_flow(app_client, rp(app_client, a, sa))
    again = app_client.get("/userinfo", headers={"Authorization": f"Bearer {ta2['access_token']}"})
    assert again.json()["sub"] == sub_a.json()["sub"]


def test_consent_is_remembered_and_lists_exactly_the_claims(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container)
    log_in(app_client, citizen)
    client = rp(app_client, info, secret, scope="openid name")
    url, _ = client.create_authorization_url(
        BASE + "/authorize", code_verifier=generate_token(48), nonce=NONCE
    )
    page = app_client.get(url, follow_redirects=False)
    assert page.status_code == 200
    assert '<button type="submit" name="consent" value="allow">' in page.text
    assert "Họ và tên" in page.text or "full name" in page.text
    assert "Ngày sinh" not in page.text
    code_flow(app_client, client, scope="openid name")
    # Second time: no consent page.
    url, _ = client.create_authorization_url(
        BASE + "/authorize", code_verifier=generate_token(48), nonce=NONCE
    )
    assert app_client.get(url, follow_redirects=False).status_code == 303


def test_name_and_birthdate_only_with_their_scope(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container)
    log_in(app_client, citizen)
    token, _ = code_flow(
        app_client, rp(app_client, info, secret), scope="openid name birthdate phone"
    )
    body = app_client.get(
        "/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert body["name"] == citizen.full_name
    assert body["birthdate"] == citizen.date_of_birth.isoformat()
    assert body["phone_number"] == citizen.phone
    assert "age_over_18" not in body


# -- failures ---------------------------------------------------------------------------


def _code(tc: TestClient, info: ClientInfo, secret: str) -> tuple[str, str, OAuth2Client]:
    client = rp(tc, info, secret)
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(
        BASE + "/authorize", code_verifier=verifier, nonce=NONCE
    )
    location = authorize(tc, url)
    code = location.split("code=", 1)[1].split("&", 1)[0]
    return code, verifier, client


def _token(tc: TestClient, info: ClientInfo, secret: str, **form: str) -> Any:
    return tc.post("/token", data=form, auth=(info.client_id, secret))


def test_wrong_redirect_uri_is_not_redirected_to(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, _ = register(container)
    resp = app_client.get(
        "/authorize",
        params={
            "client_id": info.client_id,
            "redirect_uri": REDIRECT + "/evil",
            "response_type": "code",
            "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 400
    assert "invalid_request" in resp.text


def test_missing_pkce_is_refused(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, _ = register(container)
    resp = app_client.get(
        "/authorize",
        params={
            "client_id": info.client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid",
            "state": "xyz",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert "error=invalid_request" in resp.headers["location"]
    assert "state=xyz" in resp.headers["location"]


def test_wrong_or_missing_verifier_and_replayed_code(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container)
    log_in(app_client, citizen)
    code, verifier, _ = _code(app_client, info, secret)
    bad = _token(
        app_client,
        info,
        secret,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=generate_token(48),
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_grant"
    # The code was spent by the failed attempt.
    again = _token(
        app_client,
        info,
        secret,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert again.json()["error"] == "invalid_grant"

    code, verifier, _ = _code(app_client, info, secret)
    missing = _token(
        app_client, info, secret, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert missing.json()["error"] == "invalid_grant"

    code, verifier, _ = _code(app_client, info, secret)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    first = _token(app_client, info, secret, **form)
    assert first.status_code == 200
    replay = _token(app_client, info, secret, **form)
    assert replay.json()["error"] == "invalid_grant"
    # Replaying the code revoked what it had issued (RFC 6749 4.1.2).
    resp = app_client.get(
        "/userinfo", headers={"Authorization": f"Bearer {first.json()['access_token']}"}
    )
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_token"


def test_refresh_rotation_and_reuse_revokes_the_family(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container)
    log_in(app_client, citizen)
    token, _ = code_flow(app_client, rp(app_client, info, secret))
    r1 = token["refresh_token"]
    rotated = _token(app_client, info, secret, grant_type="refresh_token", refresh_token=r1)
    assert rotated.status_code == 200
    r2 = rotated.json()["refresh_token"]
    assert r2 != r1
    reuse = _token(app_client, info, secret, grant_type="refresh_token", refresh_token=r1)
    assert reuse.json()["error"] == "invalid_grant"
    # The whole family is gone: the newest refresh token and its access token too.
    r2_use = _token(app_client, info, secret, grant_type="refresh_token", refresh_token=r2)
    assert r2_use.json()["error"] == "invalid_grant"
    at = rotated.json()["access_token"]
    assert app_client.get("/userinfo", headers={"Authorization": f"Bearer {at}"}).status_code == 401


def test_expired_and_tampered_access_tokens_fail(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container)
    log_in(app_client, citizen)
    token, _ = code_flow(app_client, rp(app_client, info, secret))
    at = token["access_token"]
    head, body, sig = at.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    resp = app_client.get("/userinfo", headers={"Authorization": f"Bearer {head}.{body}.{flipped}"})
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_token"
    later = datetime.now(UTC) + timedelta(hours=1)
    container.clock = lambda: later
    resp = app_client.get("/userinfo", headers={"Authorization": f"Bearer {at}"})
    assert resp.json()["error"] == "invalid_token"


def test_id_token_for_another_audience_is_rejected_by_the_client(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container)
    log_in(app_client, citizen)
    token, _ = code_flow(app_client, rp(app_client, info, secret))
    with pytest.raises(cjwt.JWTInvalidClaimValue):
        verify_id_token(
            app_client, token["id_token"], "EdDSA", "someone-else", container.auth.issuer
        )
    head, body, sig = token["id_token"].split(".")
    with pytest.raises(Exception, match=r"Missing Key|[Vv]erif"):  # no key verifies it
        verify_id_token(
            app_client,
            f"{head}.{body}.{sig[:-4]}AAAA",
            "EdDSA",
            info.client_id,
            container.auth.issuer,
        )


def test_wrong_client_secret_is_invalid_client(
    container: Container, app_client: TestClient
) -> None:
    info, _ = register(container, grant_types=("client_credentials",))
    resp = _token(app_client, info, "wrong", grant_type="client_credentials")
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"


@pytest.mark.parametrize("alg", ["EdDSA", "ML-DSA-65"])
def test_client_credentials_introspection_and_revocation(
    container: Container, app_client: TestClient, alg: str
) -> None:
    with container.unit_of_work() as s:
        info, secret = container.auth.clients.create(
            s,
            name="Machine",
            redirect_uris=[],
            grant_types=("client_credentials",),
            signing_alg=alg,
            now=container.clock(),
        )
    assert secret is not None
    resp = _token(app_client, info, secret, grant_type="client_credentials")
    assert resp.status_code == 200
    at = resp.json()["access_token"]
    intro = app_client.post("/introspect", data={"token": at}, auth=(info.client_id, secret))
    assert intro.json()["active"] is True
    assert intro.json()["sub"] == info.client_id
    assert (
        app_client.post("/revoke", data={"token": at}, auth=(info.client_id, secret)).status_code
        == 200
    )
    intro = app_client.post("/introspect", data={"token": at}, auth=(info.client_id, secret))
    assert intro.json() == {"active": False}
    grant = _token(app_client, info, secret, grant_type="authorization_code", code="x")
    assert grant.json()["error"] == "unauthorized_client"


def test_discovery_and_jwks(container: Container, app_client: TestClient) -> None:
    meta = app_client.get("/.well-known/openid-configuration").json()
    assert meta["issuer"] == container.auth.issuer
    assert meta["subject_types_supported"] == ["pairwise"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["id_token_signing_alg_values_supported"]) == {"EdDSA", "ES256", "ML-DSA-65"}
    keys = app_client.get("/jwks").json()["keys"]
    assert {k["kty"] for k in keys} == {"OKP", "EC", "AKP"}
    assert all("priv" not in k and "d" not in k for k in keys)
