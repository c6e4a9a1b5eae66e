"""OpenID4VP 1.0 over HTTP, on SQLite and PostgreSQL: a platform asks for one age claim, the
test wallet answers with direct_post, the platform reads the boolean and nothing else."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dinhdanh.age.credentials.vci import Issuance
from dinhdanh.age.wallet import Wallet, WalletError, parse_request
from dinhdanh.crypto.compact import decode
from dinhdanh.wiring import Container
from tests.age.conftest import issue, make_teen
from tests.social.conftest import Plat, add_platform
from tests.support import Citizen, Clock


@pytest.fixture
def tc(app_client: TestClient, container: Container) -> TestClient:
    container.clock = Clock(container.clock())
    return app_client


@pytest.fixture
def shop(container: Container) -> Plat:
    return add_platform(container, "shop")


def _ask(tc: TestClient, plat: Plat, claim: str = "age_over_18") -> dict[str, Any]:
    resp = tc.post(
        f"/api/v1/platforms/{plat.code}/age-requests", json={"claim": claim}, headers=plat.auth
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _result(tc: TestClient, plat: Plat, request_id: str) -> dict[str, Any]:
    resp = tc.get(f"/api/v1/platforms/{plat.code}/age-requests/{request_id}", headers=plat.auth)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _post(tc: TestClient, request: dict[str, Any], presentation: str) -> Any:
    form = {"vp_token": json.dumps({"age": [presentation]})}
    return tc.post(request["request"]["response_uri"], data=form)


def _wallet(c: Container, subject: str, n: int = 3) -> Wallet:
    wallet = Wallet()
    issue(c, subject, wallet, n)
    return wallet


def test_a_platform_learns_the_one_claim_from_a_wallet_fed_over_openid4vci(
    tc: TestClient, container: Container, citizen: Citizen, shop: Plat
) -> None:
    c = container
    wallet = Wallet()
    with c.unit_of_work() as s:
        offer = Issuance.offer_uri(c.age_issuance.offer(s, citizen.subject_id, c.clock()))
    wallet.fetch(tc, offer, c.clock(), n=2)
    asked = _ask(tc, shop)
    params = asked["request"]
    assert params["response_type"] == "vp_token"
    assert params["response_mode"] == "direct_post"
    assert params["client_id"] == "redirect_uri:" + params["response_uri"]
    assert params["dcql_query"]["credentials"][0]["claims"] == [{"path": ["age_over_18"]}]
    assert parse_request(asked["request_uri"])["nonce"] == params["nonce"]
    assert _result(tc, shop, asked["id"])["state"] == "pending"

    resp = wallet.answer(tc, asked["request_uri"], c.clock())
    assert resp.status_code == 200, resp.text
    assert resp.json() == {}
    result = _result(tc, shop, asked["id"])
    assert result == {
        "id": asked["id"],
        "claim": "age_over_18",
        "state": "verified",
        "value": True,
        "reason": None,
        "expires_at": result["expires_at"],
    }
    assert len(wallet) == 1  # the used credential is forgotten


def test_a_false_claim_verifies_as_false(tc: TestClient, container: Container, shop: Plat) -> None:
    c = container
    teen = make_teen(c, c.clock().date())  # 17 today
    wallet = _wallet(c, teen.subject_id, 2)
    over18, over16 = _ask(tc, shop), _ask(tc, shop, "age_over_16")
    assert wallet.answer(tc, over18["request_uri"], c.clock()).status_code == 200
    assert wallet.answer(tc, over16["request_uri"], c.clock()).status_code == 200
    assert (_result(tc, shop, over18["id"])["state"], _result(tc, shop, over18["id"])["value"]) == (
        "verified",
        False,
    )
    assert _result(tc, shop, over16["id"])["value"] is True


def test_a_replayed_vp_token_is_refused_at_its_request_and_at_any_other(
    tc: TestClient, container: Container, citizen: Citizen, shop: Plat
) -> None:
    c = container
    wallet = _wallet(c, citizen.subject_id)
    first = _ask(tc, shop)
    p = first["request"]
    presentation = wallet.present("age_over_18", p["nonce"], p["client_id"], c.clock())
    assert _post(tc, first, presentation).status_code == 200
    again = _post(tc, first, presentation)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"
    assert "already answered" in again.json()["error_description"]
    assert _result(tc, shop, first["id"])["state"] == "verified"  # the first answer stands
    second = _ask(tc, shop)
    replay = _post(tc, second, presentation)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_request"
    result = _result(tc, shop, second["id"])
    assert (result["state"], result["reason"], result["value"]) == (
        "rejected",
        "nonce_mismatch",
        None,
    )


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("nonce", "nonce_mismatch"),
        ("audience", "audience_mismatch"),
        ("extra_claim", "claim_not_requested"),
        ("other_claim", "claim_not_requested"),
        ("no_claim", "claim_missing"),
        ("revoked", "credential_revoked"),
        ("stale", "key_binding_stale"),
    ],
)
def test_a_bad_presentation_is_rejected_with_its_reason(
    tc: TestClient, container: Container, citizen: Citizen, shop: Plat, tamper: str, reason: str
) -> None:
    c = container
    wallet = _wallet(c, citizen.subject_id)
    asked = _ask(tc, shop)
    p = asked["request"]
    nonce, aud, claims, at = p["nonce"], p["client_id"], ["age_over_18"], c.clock()
    if tamper == "nonce":
        nonce = _ask(tc, shop)["request"]["nonce"]  # another request's
    elif tamper == "audience":
        aud = _ask(tc, shop)["request"]["client_id"]
    elif tamper == "extra_claim":
        claims = ["age_over_18", "age_over_16"]
    elif tamper == "other_claim":
        claims = ["age_over_16"]
    elif tamper == "no_claim":
        claims = []
    elif tamper == "revoked":
        with c.unit_of_work() as s:
            assert c.age_credentials.revoke_all(s, citizen.subject_id, c.clock()) == 3
    elif tamper == "stale":
        at = at - timedelta(minutes=10)
    presentation = wallet.present(claims, nonce, aud, at)
    resp = _post(tc, asked, presentation)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"
    assert resp.json()["error_description"].startswith(reason)
    result = _result(tc, shop, asked["id"])
    assert (result["state"], result["reason"], result["value"]) == ("rejected", reason, None)


def test_malformed_tokens_and_wallet_errors_end_the_request(
    tc: TestClient, container: Container, shop: Plat
) -> None:
    asked = _ask(tc, shop)
    resp = tc.post(asked["request"]["response_uri"], data={"vp_token": '{"other": ["x"]}'})
    assert resp.status_code == 400
    assert _result(tc, shop, asked["id"])["reason"] == "presentation_malformed"
    declined = _ask(tc, shop)
    resp = tc.post(declined["request"]["response_uri"], data={"error": "access_denied"})
    assert resp.status_code == 400
    assert _result(tc, shop, declined["id"])["reason"] == "access_denied"


def test_requests_expire_and_belong_to_their_platform(
    tc: TestClient, container: Container, citizen: Citizen, shop: Plat
) -> None:
    c = container
    other = add_platform(c, "forum")
    asked = _ask(tc, shop)
    # Another platform's key: not its route; its own route: no such request.
    resp = tc.get(f"/api/v1/platforms/shop/age-requests/{asked['id']}", headers=other.auth)
    assert resp.status_code == 403
    resp = tc.get(f"/api/v1/platforms/forum/age-requests/{asked['id']}", headers=other.auth)
    assert resp.status_code == 404
    assert resp.json()["code"] == "age_request_not_found"
    resp = tc.post(
        "/api/v1/platforms/shop/age-requests", json={"claim": "age_over_21"}, headers=shop.auth
    )
    assert resp.status_code == 422
    assert (
        tc.post("/api/v1/platforms/shop/age-requests", json={"claim": "age_over_18"}).status_code
        == 401
    )
    wallet = _wallet(c, citizen.subject_id, 1)
    assert isinstance(c.clock, Clock)
    c.clock.advance(timedelta(seconds=301))
    assert _result(tc, shop, asked["id"])["state"] == "expired"
    resp = wallet.answer(tc, asked["request_uri"], c.clock())
    assert resp.status_code == 400
    assert "expired" in resp.json()["error_description"]


def test_the_kb_jwt_audience_is_the_request_client_id(
    tc: TestClient, container: Container, citizen: Citizen, shop: Plat
) -> None:
    c = container
    wallet = _wallet(c, citizen.subject_id, 1)
    asked = _ask(tc, shop)
    p = asked["request"]
    presentation = wallet.present("age_over_18", p["nonce"], p["client_id"], c.clock())
    kb = decode(presentation.rsplit("~", 1)[1]).claims()
    assert kb["aud"] == p["client_id"]
    assert kb["nonce"] == p["nonce"]
    assert _post(tc, asked, presentation).status_code == 200


def test_the_wallet_refuses_a_request_whose_client_is_not_its_response_uri() -> None:
    uri = (
        "openid4vp://?response_type=vp_token&response_mode=direct_post"
        "&client_id=redirect_uri%3Ahttps%3A%2F%2Fshop.example%2Fcb"
        "&response_uri=https%3A%2F%2Fevil.example%2Fcollect&nonce=n"
        "&dcql_query=%7B%22credentials%22%3A%5B%5D%7D"
    )
    with pytest.raises(WalletError, match="client_id"):
        parse_request(uri)
    fixed = uri.replace("evil.example%2Fcollect", "shop.example%2Fcb")
    assert parse_request(fixed)["response_uri"] == "https://shop.example/cb"
