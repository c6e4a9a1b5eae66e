"""DPoP (RFC 9449): proofs made by jwcrypto, an independent JOSE library; tokens bound to the
proof's key (cnf.jkt) and refused without a fresh proof by that key."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jwcrypto import jwk as cjwk
from jwcrypto import jwt as cjwt

from dinhdanh.wiring import Container
from tests.oidc.conftest import Citizen, log_in
from tests.oidc.test_flow import BASE, _code, code_flow, register, rp

ALGS = {"EdDSA": {"kty": "OKP", "crv": "Ed25519"}, "ES256": {"kty": "EC", "crv": "P-256"}}


def new_key(alg: str) -> cjwk.JWK:
    if alg == "ML-DSA-65":
        return cjwk.JWK.generate(kty="AKP", alg=alg)
    return cjwk.JWK.generate(**ALGS[alg])


def make_proof(
    key: cjwk.JWK,
    htm: str,
    htu: str,
    *,
    alg: str = "EdDSA",
    token: str | None = None,
    **overrides: Any,
) -> str:
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": htm,
        "htu": htu,
        "iat": int(time.time()),
    }
    if token is not None:
        digest = hashlib.sha256(token.encode()).digest()
        claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    header: dict[str, Any] = {"typ": "dpop+jwt", "alg": alg, "jwk": key.export_public(True)}
    for name, value in overrides.items():
        target = header if name in ("typ", "alg", "jwk") else claims
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    jwt = cjwt.JWT(header=header, claims=claims)
    jwt.make_signed_token(key)
    return str(jwt.serialize())


def thumbprint(key: cjwk.JWK) -> str:
    return str(key.thumbprint())


def claims_of(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def grant(tc: TestClient, client: tuple[str, str], proof: str | None) -> Any:
    headers = {} if proof is None else {"DPoP": proof}
    return tc.post(
        "/token", data={"grant_type": "client_credentials"}, auth=client, headers=headers
    )


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "ML-DSA-65"])
def test_a_proof_binds_the_access_token_to_its_key(
    container: Container, app_client: TestClient, machine: tuple[str, str], alg: str
) -> None:
    key = new_key(alg)
    htu = container.auth.issuer + "/token"
    resp = grant(app_client, machine, make_proof(key, "POST", htu, alg=alg))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"] == {"jkt": thumbprint(key)}
    introspected = app_client.post(
        "/introspect", data={"token": body["access_token"]}, auth=machine
    ).json()
    assert introspected["token_type"] == "DPoP"
    assert introspected["cnf"] == {"jkt": thumbprint(key)}
    plain = grant(app_client, machine, None).json()  # no proof: a Bearer token, unbound
    assert plain["token_type"] == "Bearer"
    assert "cnf" not in claims_of(plain["access_token"])


def test_bad_proofs_are_refused(
    container: Container, app_client: TestClient, machine: tuple[str, str]
) -> None:
    key = new_key("EdDSA")
    htu = container.auth.issuer + "/token"
    private = key.export(private_key=True, as_dict=True)
    other = new_key("EdDSA")
    forged = make_proof(key, "POST", htu)
    head, body, _sig = forged.split(".")
    bad = {
        "wrong method": make_proof(key, "GET", htu),
        "wrong URI": make_proof(key, "POST", container.auth.issuer + "/userinfo"),
        "too old": make_proof(key, "POST", htu, iat=int(time.time()) - 3600),
        "from the future": make_proof(key, "POST", htu, iat=int(time.time()) + 3600),
        "no jti": make_proof(key, "POST", htu, jti=None),
        "no typ": make_proof(key, "POST", htu, typ=None),
        "typ JWT": make_proof(key, "POST", htu, typ="JWT"),
        "private key in the header": make_proof(key, "POST", htu, jwk=private),
        "another key in the header": make_proof(key, "POST", htu, jwk=other.export_public(True)),
        "signature of another proof": f"{head}.{body}.{make_proof(key, 'GET', htu).split('.')[2]}",
        "not a JWT": "not-a-jwt",
    }
    for what, proof in bad.items():
        resp = grant(app_client, machine, proof)
        assert resp.status_code == 400, what
        assert resp.json()["error"] == "invalid_dpop_proof", what
    two = app_client.post(
        "/token",
        data={"grant_type": "client_credentials"},
        auth=machine,
        headers=[("DPoP", forged), ("DPoP", forged)],
    )
    assert two.json()["error"] == "invalid_dpop_proof"


def test_a_proof_is_good_once(
    container: Container, app_client: TestClient, machine: tuple[str, str]
) -> None:
    proof = make_proof(new_key("EdDSA"), "POST", container.auth.issuer + "/token")
    assert grant(app_client, machine, proof).status_code == 200
    again = grant(app_client, machine, proof)
    assert again.status_code == 400
    assert "already used" in again.json()["error_description"]


def test_userinfo_needs_a_proof_by_the_bound_key(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container)
    key = new_key("ES256")
    log_in(app_client, citizen)
    code, verifier, client = _code(app_client, info, secret)  # Authlib's client, as an RP
    proof = make_proof(key, "POST", container.auth.issuer + "/token", alg="ES256")
    tokens = client.fetch_token(
        BASE + "/token", code=code, code_verifier=verifier, headers={"DPoP": proof}
    )
    assert tokens["token_type"] == "DPoP"
    access = tokens["access_token"]
    assert claims_of(access)["cnf"] == {"jkt": thumbprint(key)}
    url = container.auth.issuer + "/userinfo"

    def userinfo(scheme: str, proof: str | None) -> Any:
        headers = {"Authorization": f"{scheme} {access}"}
        if proof is not None:
            headers["DPoP"] = proof
        return app_client.get(BASE + "/userinfo", headers=headers)

    ok = userinfo("DPoP", make_proof(key, "GET", url, alg="ES256", token=access))
    assert ok.status_code == 200, ok.text
    assert ok.json()["sub"] == claims_of(access)["sub"]

    refused = {
        "as a Bearer token": userinfo("Bearer", None),
        "without a proof": userinfo("DPoP", None),
        "proof without ath": userinfo("DPoP", make_proof(key, "GET", url, alg="ES256")),
        "proof for another token": userinfo(
            "DPoP", make_proof(key, "GET", url, alg="ES256", token=access + "x")
        ),
        "proof by another key": userinfo(
            "DPoP", make_proof(new_key("EdDSA"), "GET", url, token=access)
        ),
    }
    for what, resp in refused.items():
        assert resp.status_code == 401, what
        assert resp.json()["error"] in ("invalid_token", "invalid_dpop_proof"), what
    assert refused["as a Bearer token"].json()["error"] == "invalid_token"
    assert (
        refused["proof without ath"]
        .headers["WWW-Authenticate"]
        .startswith('DPoP error="invalid_dpop_proof"')
    )


def test_a_bearer_token_is_not_accepted_as_dpop(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    info, secret = register(container)
    log_in(app_client, citizen)
    tokens, _ = code_flow(app_client, rp(app_client, info, secret), scope="openid")
    assert tokens["token_type"] == "Bearer"
    access, key = tokens["access_token"], new_key("EdDSA")
    proof = make_proof(key, "GET", container.auth.issuer + "/userinfo", token=access)
    resp = app_client.get(
        BASE + "/userinfo", headers={"Authorization": f"DPoP {access}", "DPoP": proof}
    )
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_token"
    bearer = app_client.get(BASE + "/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert bearer.status_code == 200


def test_discovery_names_the_dpop_algorithms(app_client: TestClient) -> None:
    meta = app_client.get("/.well-known/openid-configuration").json()
    assert meta["dpop_signing_alg_values_supported"] == ["EdDSA", "ES256", "ML-DSA-65"]


def test_a_proof_is_good_once_across_nodes_with_redis(
    container: Container, app_client: TestClient, machine: tuple[str, str], redis_url: str
) -> None:
    """With Redis (several nodes), the jti is kept there, not in a database row."""
    import redis

    from dinhdanh.auth.models import UsedDpopProof
    from dinhdanh.store.once import RedisOnce

    client = redis.Redis.from_url(redis_url)
    container.auth.replay = RedisOnce(client, f"dinhdanh:test:{secrets.token_hex(4)}:")
    try:
        proof = make_proof(new_key("EdDSA"), "POST", container.auth.issuer + "/token")
        assert grant(app_client, machine, proof).status_code == 200
        again = grant(app_client, machine, proof)
        assert again.status_code == 400
        assert "already used" in again.json()["error_description"]
        with container.unit_of_work() as s:
            assert s.query(UsedDpopProof).count() == 0
    finally:
        client.close()
