"""OpenID4VCI 1.0 over HTTP, on SQLite and PostgreSQL: an offer with a pre-authorized code,
the token, nonce and credential endpoints, and the test wallet as their client."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dinhdanh.age.credentials.models import IssuedBatch, VciNonce, VciOffer
from dinhdanh.age.credentials.sdjwt import split
from dinhdanh.age.credentials.vci import PRE_AUTHORIZED_GRANT, PROOF_TYP, Issuance
from dinhdanh.age.credentials.verifier import verify_presentation
from dinhdanh.age.wallet import Wallet, WalletError, parse_offer
from dinhdanh.crypto.compact import decode
from dinhdanh.crypto.jose import SigningKey, public_jwk, sign_jwt
from dinhdanh.wiring import Container
from tests.age.conftest import VERIFIER, local_trust, record_death
from tests.support import Citizen, Clock


def _offer(c: Container, citizen: Citizen) -> str:
    with c.unit_of_work() as s:
        offer = c.age_issuance.offer(s, citizen.subject_id, c.clock())
    return Issuance.offer_uri(offer)


def _code(offer_uri: str) -> str:
    return str(parse_offer(offer_uri)["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"])


def _token(tc: TestClient, code: str) -> Any:
    return tc.post("/token", data={"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code})


def _nonce(tc: TestClient) -> str:
    resp = tc.post("/age/vci/nonce")
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"
    return str(resp.json()["c_nonce"])


def _ask(tc: TestClient, token: str, proofs: list[str], config: str = "age_over_sd_jwt") -> Any:
    body = {"credential_configuration_id": config, "proofs": {"jwt": proofs}}
    return tc.post("/age/vci/credential", json=body, headers={"Authorization": f"Bearer {token}"})


def _error(resp: Any, status: int, error: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == error, resp.text


@pytest.fixture
def tc(app_client: TestClient, container: Container) -> TestClient:
    container.clock = Clock(container.clock())
    return app_client


def test_metadata_names_the_endpoints_batch_size_and_configurations(
    tc: TestClient, container: Container
) -> None:
    meta = tc.get("/.well-known/openid-credential-issuer").json()
    issuer = container.settings.effective_issuer
    assert meta["credential_issuer"] == issuer
    assert meta["credential_endpoint"] == issuer + "/age/vci/credential"
    assert meta["nonce_endpoint"] == issuer + "/age/vci/nonce"
    assert meta["batch_credential_issuance"] == {"batch_size": 10}
    config = meta["credential_configurations_supported"]["age_over_sd_jwt"]
    assert config["format"] == "dc+sd-jwt"
    assert config["vct"] == "urn:dinhdanh:vct:age:1"
    assert config["credential_signing_alg_values_supported"] == ["EdDSA"]
    assert config["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == [
        "EdDSA",
        "ES256",
    ]
    mldsa = meta["credential_configurations_supported"]["age_over_sd_jwt_ml_dsa"]
    assert mldsa["credential_signing_alg_values_supported"] == ["ML-DSA-65"]
    discovery = tc.get("/.well-known/openid-configuration").json()
    assert PRE_AUTHORIZED_GRANT in discovery["grant_types_supported"]


@pytest.mark.parametrize("holder", ["EdDSA", "ES256"])
def test_the_wallet_takes_an_offer_and_gets_a_batch_that_verifies(
    tc: TestClient, container: Container, citizen: Citizen, holder: Any
) -> None:
    c = container
    wallet = Wallet(holder)
    assert wallet.fetch(tc, _offer(c, citizen), c.clock()) == 10
    assert len(wallet) == 10
    with c.unit_of_work() as s:
        # The offer's row is gone (code and token spent); one sealed batch row is kept,
        # and the spent nonce (its hash) until it would have expired.
        assert s.scalar(select(func.count()).select_from(VciOffer)) == 0
        assert s.scalar(select(func.count()).select_from(IssuedBatch)) == 1
        assert s.scalar(select(func.count()).select_from(VciNonce)) == 1
    presentation = wallet.present("age_over_18", "n-1", VERIFIER, c.clock())
    proof = verify_presentation(
        presentation, "n-1", VERIFIER, c.clock(), claims="age_over_18", trust=local_trust(c)
    )
    assert proof.claims == {"age_over_18": True}  # born 1990
    assert proof.alg == "EdDSA"
    assert len(wallet) == 9


def test_ml_dsa_configuration_and_a_smaller_batch(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    wallet = Wallet()
    wallet.fetch(tc, _offer(c, citizen), c.clock(), n=2, configuration="age_over_sd_jwt_ml_dsa")
    assert len(wallet) == 2
    presentation = wallet.present("age_over_13", "n", VERIFIER, c.clock())
    assert decode(split(presentation).jwt).header["alg"] == "ML-DSA-65"
    proof = verify_presentation(
        presentation, "n", VERIFIER, c.clock(), claims="age_over_13", trust=local_trust(c)
    )
    assert proof.alg == "ML-DSA-65"


def test_a_pre_authorized_code_is_single_use_stored_hashed_and_short_lived(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    offer = _offer(c, citizen)
    code = _code(offer)
    with c.unit_of_work() as s:
        stored = s.scalar(select(VciOffer.code_sha256))
    assert stored == hashlib.sha256(code.encode()).digest()
    first = _token(tc, code)
    assert first.status_code == 200
    assert first.json()["token_type"] == "Bearer"
    assert first.headers["cache-control"] == "no-store"
    _error(_token(tc, code), 400, "invalid_grant")  # reused
    _error(_token(tc, "not-a-code"), 400, "invalid_grant")
    late = _code(_offer(c, citizen))
    assert isinstance(c.clock, Clock)
    c.clock.advance(timedelta(seconds=301))
    _error(_token(tc, late), 400, "invalid_grant")  # expired


def test_a_wrong_or_spent_nonce_is_invalid_nonce_and_spends_nothing(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    issuer = c.settings.effective_issuer
    token = _token(tc, _code(_offer(c, citizen))).json()["access_token"]
    wallet = Wallet()
    _error(_ask(tc, token, wallet.proofs(2, issuer, "made-up", c.clock())), 400, "invalid_nonce")
    nonce = _nonce(tc)
    good = _ask(tc, token, wallet.proofs(2, issuer, nonce, c.clock()))
    assert good.status_code == 200, good.text  # the token survived the refusal
    wallet.store([x["credential"] for x in good.json()["credentials"]])
    assert len(wallet) == 2
    # The token and the nonce are both spent now.
    _error(_ask(tc, token, Wallet().proofs(1, issuer, nonce, c.clock())), 401, "invalid_token")
    other = _token(tc, _code(_offer(c, citizen))).json()["access_token"]
    _error(_ask(tc, other, Wallet().proofs(1, issuer, nonce, c.clock())), 400, "invalid_nonce")
    # A nonce of the right shape under another MAC, and one of ours past its 5 minutes.
    forged = nonce[:-2] + ("AA" if not nonce.endswith("AA") else "BA")
    _error(_ask(tc, other, Wallet().proofs(1, issuer, forged, c.clock())), 400, "invalid_nonce")
    old_nonce = _nonce(tc)
    assert isinstance(c.clock, Clock)
    c.clock.advance(timedelta(seconds=301))
    late = _token(tc, _code(_offer(c, citizen))).json()["access_token"]
    _error(_ask(tc, late, Wallet().proofs(1, issuer, old_nonce, c.clock())), 400, "invalid_nonce")
    assert _ask(tc, late, Wallet().proofs(1, issuer, _nonce(tc), c.clock())).status_code == 200


def test_a_proof_for_another_audience_or_badly_signed_is_invalid_proof(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    issuer = c.settings.effective_issuer
    token = _token(tc, _code(_offer(c, citizen))).json()["access_token"]
    nonce = _nonce(tc)
    wrong_aud = Wallet().proofs(1, "https://other-issuer.example", nonce, c.clock())
    _error(_ask(tc, token, wrong_aud), 400, "invalid_proof")
    # Signed by one key, naming another in its header.
    signer = SigningKey.from_ed25519_seed("x", b"\x01" * 32)
    named = public_jwk(SigningKey.from_ed25519_seed("y", b"\x02" * 32))
    named = {k: named[k] for k in ("kty", "crv", "x")}
    claims = {"aud": issuer, "iat": int(c.clock().timestamp()), "nonce": nonce}
    forged = sign_jwt(claims, signer, typ=PROOF_TYP, header={"jwk": named})
    _error(_ask(tc, token, [forged]), 400, "invalid_proof")
    untyped = sign_jwt(claims, signer, typ="JWT", header={"jwk": named})
    _error(_ask(tc, token, [untyped]), 400, "invalid_proof")
    stale = Wallet().proofs(1, issuer, nonce, c.clock() - timedelta(minutes=10))
    _error(_ask(tc, token, stale), 400, "invalid_proof")
    # None of it spent the token or the nonce.
    assert _ask(tc, token, Wallet().proofs(1, issuer, nonce, c.clock())).status_code == 200


def test_more_proofs_than_the_batch_size_or_a_bad_request_issue_nothing(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    issuer = c.settings.effective_issuer
    token = _token(tc, _code(_offer(c, citizen))).json()["access_token"]
    nonce = _nonce(tc)
    eleven = Wallet().proofs(11, issuer, nonce, c.clock())
    _error(_ask(tc, token, eleven), 400, "invalid_credential_request")
    one = Wallet().proofs(1, issuer, nonce, c.clock())
    _error(_ask(tc, token, one, config="age_over_21"), 400, "unknown_credential_configuration")
    resp = tc.post(
        "/age/vci/credential",
        json={"credential_configuration_id": "age_over_sd_jwt", "proof": {"jwt": one[0]}},
        headers={"Authorization": f"Bearer {token}"},
    )
    _error(resp, 400, "invalid_credential_request")
    with c.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(IssuedBatch)) == 0
    # Two proofs for one key: the issuer refuses to bind two credentials to it.
    _error(_ask(tc, token, [one[0], one[0]]), 400, "invalid_proof")


def test_a_dead_citizens_offer_is_denied(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    offer = _offer(c, citizen)
    record_death(c, citizen)
    with pytest.raises(WalletError, match="credential_request_denied"):
        Wallet().fetch(tc, offer, c.clock(), n=1)


def test_no_token_is_a_401_with_a_bearer_challenge(tc: TestClient, container: Container) -> None:
    proofs = Wallet().proofs(1, container.settings.effective_issuer, "n", container.clock())
    resp = tc.post(
        "/age/vci/credential",
        json={"credential_configuration_id": "age_over_sd_jwt", "proofs": {"jwt": proofs}},
    )
    _error(resp, 401, "invalid_token")
    assert resp.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_a_wallet_is_told_why_when_the_issuer_refuses(
    tc: TestClient, container: Container, citizen: Citizen
) -> None:
    c = container
    offer = _offer(c, citizen)
    Wallet().fetch(tc, offer, c.clock(), n=1)
    with pytest.raises(WalletError, match="invalid_grant"):
        Wallet().fetch(tc, offer, c.clock(), n=1)
