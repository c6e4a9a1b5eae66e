"""Helpers of the platform tests: a registered platform and an ID token from a real sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from fastapi.testclient import TestClient

from dinhdanh.wiring import Container
from tests.oidc.conftest import REDIRECT
from tests.oidc.test_flow import BASE, authorize


@dataclass
class Plat:
    code: str
    client_id: str
    secret: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def add_platform(c: Container, code: str, name: str | None = None) -> Plat:
    with c.unit_of_work() as s:
        p = c.social.add_platform(s, code, name or code.title(), [REDIRECT], c.clock())
    assert p.client_secret is not None
    return Plat(p.code, p.client.client_id, p.client_secret, p.api_key)


def sign_in(tc: TestClient, plat: Plat, nonce: str | None = None, scope: str = "openid") -> str:
    """The ID token of the logged-in browser's authorization-code flow at ``plat``."""
    client = OAuth2Client(
        plat.client_id,
        plat.secret,
        scope=scope,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        transport=tc._transport,
        base_url=BASE,
    )
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(
        BASE + "/authorize", code_verifier=verifier, nonce=nonce or generate_token(16)
    )
    location = authorize(tc, url)
    token: dict[str, Any] = client.fetch_token(
        BASE + "/token", authorization_response=location, code_verifier=verifier
    )
    return str(token["id_token"])


def bind(tc: TestClient, plat: Plat, account: str, id_token: str) -> Any:
    return tc.put(
        f"/api/v1/platforms/{plat.code}/accounts/{account}",
        json={"id_token": id_token},
        headers=plat.auth,
    )
