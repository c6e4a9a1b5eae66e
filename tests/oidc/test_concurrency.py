"""One-time values of the provider under concurrency: the same DPoP proof, client assertion,
authorization code or refresh token presented by many requests at the same instant is accepted
once; every other request gets its OAuth error, never an exception (an HTTP 500). Each attempt
runs in its own unit of work, committed even on an OAuth error, as the /token route does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from jwcrypto import jwk as cjwk
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.models import Grant, RefreshToken
from dinhdanh.auth.oidc import dpop
from dinhdanh.auth.oidc.client_auth import ASSERTION_TYPE, authenticate_client
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.token import token_request
from dinhdanh.wiring import Container
from tests.oidc.conftest import REDIRECT, Citizen, log_in
from tests.oidc.test_dpop import make_proof, new_key
from tests.oidc.test_flow import _code, register
from tests.oidc.test_par_logout_client_auth import _assertion
from tests.parallel import burst, only

T = TypeVar("T")


def _attempt(c: Container, fn: Callable[[Session], T]) -> T | OAuthError:
    with c.unit_of_work() as s:
        try:
            return fn(s)
        except OAuthError as exc:
            return exc  # still committed: a spent code or a revoked family must stay so


def _once(outcomes: list[T | OAuthError | Exception], error: str) -> T:
    """The one accepted outcome; every other one is the OAuth ``error``."""
    only(outcomes, OAuthError)
    refused = [o for o in outcomes if isinstance(o, OAuthError)]
    assert {o.error for o in refused} == {error}
    [accepted] = [o for o in outcomes if not isinstance(o, Exception)]
    return accepted


def _count(c: Container, model: type[Grant] | type[RefreshToken]) -> int:
    with c.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_dpop_proof_sent_many_times_at_once_is_accepted_once(container: Container) -> None:
    c = container
    key = new_key("EdDSA")
    htu = c.auth.issuer + "/token"
    proof = make_proof(key, "POST", htu)

    def present(s: Session) -> str:
        return dpop.check_proof(s, proof, method="POST", url=htu, now=c.clock())

    outcomes = burst(lambda _: _attempt(c, present))
    assert _once(outcomes, "invalid_dpop_proof") == str(key.thumbprint())


def test_a_client_assertion_sent_many_times_at_once_is_accepted_once(
    container: Container,
) -> None:
    c = container
    key = cjwk.JWK.generate(kty="OKP", crv="Ed25519", kid="rp-key-1")
    with c.unit_of_work() as s:
        info, _ = c.auth.clients.create(
            s, name="Key client", redirect_uris=[], grant_types=("client_credentials",),
            jwks={"keys": [json.loads(key.export_public())]}, now=c.clock(),
        )  # fmt: skip
    form = {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": _assertion(key, info.client_id, c.auth.issuer + "/token"),
    }

    def present(s: Session) -> ClientInfo:
        audiences = [c.auth.issuer, c.auth.issuer + "/token"]
        return authenticate_client(
            s, c.auth.clients, authorization=None, form=form, audiences=audiences, now=c.clock()
        )

    outcomes = burst(lambda _: _attempt(c, present))
    assert _once(outcomes, "invalid_client").client_id == info.client_id


def _exchange(c: Container, client: ClientInfo, **form: str) -> Callable[[Session], Any]:
    return lambda s: token_request(c.auth.provider, s, client, form, c.clock())


def _refresh(c: Container, client: ClientInfo, token: str) -> dict[str, Any] | OAuthError:
    return _attempt(c, _exchange(c, client, grant_type="refresh_token", refresh_token=token))


def _tokens(
    c: Container, tc: TestClient, citizen: Citizen
) -> tuple[ClientInfo, Callable[[Session], Any]]:
    """A client and the exchange of a fresh code of it."""
    log_in(tc, citizen)
    info, secret = register(c)
    code, verifier, _ = _code(tc, info, secret)
    exchange = _exchange(
        c, info, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
        code_verifier=verifier,
    )  # fmt: skip
    return info, exchange


def test_a_code_redeemed_many_times_at_once_gives_tokens_once(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c = container
    client, exchange = _tokens(c, app_client, citizen)
    outcomes = burst(lambda _: _attempt(c, exchange))
    body = _once(outcomes, "invalid_grant")
    assert _count(c, Grant) == 1
    # RFC 6749 4.1.2: the second use revoked what the first one got.
    refused = _refresh(c, client, body["refresh_token"])
    assert isinstance(refused, OAuthError)
    assert refused.error == "invalid_grant"


def test_a_refresh_token_used_many_times_at_once_gives_one_new_pair(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    c = container
    client, exchange = _tokens(c, app_client, citizen)
    with c.unit_of_work() as s:
        first = exchange(s)
    outcomes = burst(lambda _: _refresh(c, client, first["refresh_token"]))
    body = _once(outcomes, "invalid_grant")
    assert _count(c, RefreshToken) == 2  # the first and the one new
    # RFC 9700 4.14.2: the reuse revoked the family, the new pair with it.
    refused = _refresh(c, client, body["refresh_token"])
    assert isinstance(refused, OAuthError)
    assert refused.error == "invalid_grant"
