"""A test wallet for age credentials (used by the tests, the benchmark and a demo page).

It makes one key pair per credential it asks for, hands the public keys to an issuance
function, keeps each credential with its private key, and presents a credential once: the
Disclosures of the requested claim only, and a Key Binding JWT (RFC 9901 section 4.3:
``typ`` ``kb+jwt``, ``iat``, ``aud``, ``nonce``, ``sd_hash``) signed with that credential's
key. Then it forgets both, so no credential (and no key) is ever shown twice.

It holds everything in memory: a real wallet keeps the keys in the device's secure storage.

The protocol side (``Wallet.fetch`` for OpenID4VCI 1.0, ``Wallet.answer`` for OpenID4VP 1.0)
talks to the issuer and verifiers over any HTTP client shaped like ``httpx.Client`` (the
app's test client too).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from dinhdanh.age.credentials.issuer import holder_jwk, thumbprint
from dinhdanh.age.credentials.sdjwt import (
    SdJwtError,
    digest,
    join,
    parse_disclosure,
    sd_hash,
    split,
)
from dinhdanh.age.credentials.verifier import KB_TYP
from dinhdanh.crypto.compact import decode
from dinhdanh.crypto.jose import JoseError, SigningKey, public_jwk, sign_jwt

HolderAlg = Literal["EdDSA", "ES256"]


# Any client shaped like ``httpx.Client`` (``get``, ``post`` with ``data``, ``json``,
# ``headers``); Starlette's TestClient is one, though not of the same httpx types.
Http = Any


PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"


class WalletError(ValueError):
    """The wallet can't store or present a credential."""


class Wallet:
    def __init__(self, alg: HolderAlg = "EdDSA") -> None:
        self.alg: HolderAlg = alg
        self._pending: dict[str, SigningKey] = {}  # thumbprint -> key not yet bound
        self._held: list[tuple[str, SigningKey]] = []  # (SD-JWT, its key), unused

    def __len__(self) -> int:
        return len(self._held)

    def holder_keys(self, n: int) -> list[dict[str, str]]:
        """``n`` fresh key pairs; their public JWKs go to the issuer, one per credential."""
        return [jwk for jwk, _ in self._new_keys(n)]

    def _new_keys(self, n: int) -> list[tuple[dict[str, str], SigningKey]]:
        out = []
        for _ in range(n):
            seed = secrets.token_bytes(32)
            if self.alg == "EdDSA":
                key = SigningKey.from_ed25519_seed("holder", seed)
            else:
                key = SigningKey.from_p256_seed("holder", seed)
            jwk = holder_jwk(public_jwk(key))
            self._pending[thumbprint(jwk)] = key
            out.append((jwk, key))
        return out

    def request(self, issue: Callable[[list[dict[str, str]]], Sequence[str]], n: int = 10) -> int:
        """Ask ``issue`` (holder public keys -> credentials) for ``n`` credentials; store them."""
        credentials = issue(self.holder_keys(n))
        self.store(credentials)
        return len(credentials)

    def store(self, credentials: Sequence[str]) -> None:
        """Keep credentials bound to keys this wallet made; each Disclosure must be in it."""
        for credential in credentials:
            try:
                parts = split(credential)
                payload = decode(parts.jwt).claims()
                sd = set(payload["_sd"])
                bound = thumbprint(holder_jwk(payload["cnf"]["jwk"]))
                key = self._pending[bound]
            except (SdJwtError, JoseError, KeyError, TypeError, ValueError):
                raise WalletError("not a credential bound to a key of this wallet") from None
            if not all(digest(d) in sd for d in parts.disclosures):
                raise WalletError("a Disclosure of the credential is not in it")
            del self._pending[bound]
            self._held.append((credential, key))

    def present(
        self, claims: str | Collection[str], nonce: str, audience: str, now: datetime
    ) -> str:
        """An SD-JWT+KB of an unused credential disclosing only ``claims``; then forgotten."""
        wanted = {claims} if isinstance(claims, str) else set(claims)
        if not self._held:
            raise WalletError("no unused credential left: request a new batch")
        credential, key = self._held.pop(secrets.randbelow(len(self._held)))
        parts = split(credential)
        chosen = [d for d in parts.disclosures if parse_disclosure(d).name in wanted]
        sd_jwt = join(parts.jwt, chosen)
        kb = {"iat": int(now.timestamp()), "aud": audience, "nonce": nonce}
        kb["sd_hash"] = sd_hash(sd_jwt)
        return sd_jwt + sign_jwt(kb, key, typ=KB_TYP)

    # -- OpenID4VCI 1.0: an offer with a pre-authorized code -------------------------------
    def proofs(self, n: int, audience: str, nonce: str, now: datetime) -> list[str]:
        """``n`` proof JWTs (Appendix F.1), each for a fresh key carried in its header."""
        claims = {"aud": audience, "iat": int(now.timestamp()), "nonce": nonce}
        return [
            sign_jwt(claims, key, typ=PROOF_TYP, header={"jwk": jwk})
            for jwk, key in self._new_keys(n)
        ]

    def fetch(
        self,
        http: Http,
        offer_uri: str,
        now: datetime,
        n: int | None = None,
        configuration: str | None = None,
    ) -> int:
        """Take a Credential Offer (``openid-credential-offer://?credential_offer=...``):
        metadata, token, nonce, one proof per credential; store the batch. ``n``: how many
        (default the issuer's batch_size). Raises ``WalletError`` with the issuer's answer."""
        offer = parse_offer(offer_uri)
        issuer = offer["credential_issuer"]
        meta = _json(http.get(issuer + "/.well-known/openid-credential-issuer"))
        servers = meta.get("authorization_servers") or [issuer]
        oidc = _json(http.get(servers[0] + "/.well-known/openid-configuration"))
        code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
        token = _json(http.post(oidc["token_endpoint"], data=form))["access_token"]
        nonce = _json(http.post(meta["nonce_endpoint"]))["c_nonce"]
        size = n or meta.get("batch_credential_issuance", {}).get("batch_size", 1)
        body = {
            "credential_configuration_id": configuration
            or offer["credential_configuration_ids"][0],
            "proofs": {"jwt": self.proofs(size, issuer, nonce, now)},
        }
        answer = http.post(
            meta["credential_endpoint"], json=body, headers={"Authorization": f"Bearer {token}"}
        )
        self.store([c["credential"] for c in _json(answer)["credentials"]])
        return size

    # -- OpenID4VP 1.0: answer a request with direct_post ------------------------------------
    def answer(self, http: Http, request_uri: str, now: datetime) -> Any:
        """Answer an authorization request (``openid4vp://?...``, by value) for one age
        claim: one unused credential, only that claim disclosed, POSTed to response_uri."""
        request = parse_request(request_uri)
        query = request["dcql_query"]["credentials"][0]
        claims = [c["path"][0] for c in query["claims"]]
        presentation = self.present(claims, request["nonce"], request["client_id"], now)
        form = {"vp_token": json.dumps({query["id"]: [presentation]})}
        if "state" in request:
            form["state"] = request["state"]
        return http.post(request["response_uri"], data=form)


def parse_offer(offer_uri: str) -> dict[str, Any]:
    """The Credential Offer object of an offer URI (by value)."""
    query = parse_qs(urlsplit(offer_uri).query)
    try:
        offer = json.loads(query["credential_offer"][0])
    except (KeyError, ValueError):
        raise WalletError("not a credential offer by value") from None
    if not isinstance(offer, dict) or PRE_AUTHORIZED_GRANT not in offer.get("grants", {}):
        raise WalletError("the offer has no pre-authorized code")
    return offer


def parse_request(request_uri: str) -> dict[str, Any]:
    """The parameters of an OpenID4VP request passed by value (``dcql_query`` decoded)."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(request_uri).query).items()}
    try:
        request: dict[str, Any] = dict(query)
        request["dcql_query"] = json.loads(query["dcql_query"])
    except (KeyError, ValueError):
        raise WalletError("not an OpenID4VP request with a DCQL query") from None
    if request.get("response_mode") != "direct_post" or "response_uri" not in request:
        raise WalletError("this wallet answers direct_post requests only")
    # OpenID4VP section 5.9.3: a redirect_uri client is the URI it is answered at.
    if request.get("client_id") != "redirect_uri:" + request["response_uri"]:
        raise WalletError("the client_id is not redirect_uri:<response_uri>")
    return request


def _json(response: Any) -> Any:
    if response.status_code >= 400:
        raise WalletError(f"{response.status_code}: {response.text[:300]}")
    return response.json()
