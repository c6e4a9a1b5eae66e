"""A verifier a platform can use as it is: OpenID4VP 1.0 for one ``age_over_NN`` claim.

1. The platform (its API key) creates a request (``create``): a DCQL query (section 6) for
   one claim of our ``dc+sd-jwt`` credential, ``response_type=vp_token``,
   ``response_mode=direct_post`` (section 8.2), a ``response_uri`` of its own per request,
   a fresh ``nonce``, and ``client_id`` ``redirect_uri:<response_uri>`` (section 5.9.3: no
   pre-registration, the request is not signed, and the KB-JWT's ``aud`` is that client id,
   so a presentation made for one request is refused at every other). The platform shows
   the request to the wallet by value (``openid4vp://?...``, a link or a QR code).
2. The wallet POSTs ``vp_token`` (a JSON object: the query's id -> one presentation) to the
   response_uri (``open``, ``check``, ``record``); ``verify_presentation`` checks it for that
   request's nonce, audience and claim; the first answer ends the request, right or wrong.
3. The platform reads the result (``result``): the state and, when verified, the claim's
   value: nothing else of the credential ever reaches it.

Rows (``models.VpRequest``) hold no subject: the verifier never learns who answered.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from dinhdanh.age.credentials.errors import CredentialError, PresentationRejected
from dinhdanh.age.credentials.issuer import AGE_CLAIMS, HOLDER_ALGS, TYP, VCT
from dinhdanh.age.credentials.keys import ISSUER_ALGS
from dinhdanh.age.credentials.models import VpRequest
from dinhdanh.age.credentials.verifier import Trust, verify_presentation
from dinhdanh.auth.oidc.errors import OAuthError

REQUESTS: Table = cast(Table, VpRequest.__table__)
REQUEST_SCHEME = "openid4vp://"
RESPONSE_PATH = "/age/vp/responses/"
QUERY_ID = "age"
PENDING, VERIFIED, REJECTED = "pending", "verified", "rejected"
# Authorization Error Response codes a wallet may send (OpenID4VP section 8.5, RFC 6749).
WALLET_ERRORS = frozenset({"access_denied", "invalid_request", "vp_formats_not_supported"})
MAX_VP_TOKEN = 40_000


class VpRequestNotFound(CredentialError):
    code, status, title = "age_request_not_found", 404, "No such age request"


class VpResponseRefused(OAuthError):
    """What the response_uri answers a wallet whose response it does not take."""

    def __init__(self, description: str) -> None:
        super().__init__("invalid_request", description)


@dataclass(frozen=True, slots=True)
class Asked:
    """What a pending request expects: its claim, nonce and the audience (client id)."""

    id: str
    claim: str
    nonce: str
    client_id: str


@dataclass(frozen=True, slots=True)
class Result:
    id: str
    claim: str
    state: str
    value: bool | None  # the claim's value once verified, else None
    reason: str | None  # why a response was rejected
    expires_at: datetime


class Verifier:
    def __init__(self, trust: Trust, *, ttl: int = 300) -> None:
        self.trust = trust
        self.issuer = trust.issuer
        self.ttl = timedelta(seconds=ttl)

    def response_uri(self, request_id: str) -> str:
        return self.issuer + RESPONSE_PATH + request_id

    def client_id(self, request_id: str) -> str:
        return "redirect_uri:" + self.response_uri(request_id)

    # -- the platform's side -------------------------------------------------------------
    def create(self, session: Session, platform: str, claim: str, now: datetime) -> dict[str, Any]:
        """A request for ``claim``; returns its parameters and the by-value request URI."""
        if claim not in AGE_CLAIMS:
            raise CredentialError(f"a request asks for one of {', '.join(AGE_CLAIMS)}")
        session.execute(delete(REQUESTS).where(REQUESTS.c.expires_at <= now))
        request_id, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        expires = now + self.ttl
        session.execute(
            insert(REQUESTS).values(
                id=request_id,
                platform=platform,
                claim=claim,
                nonce=nonce,
                state=PENDING,
                created_at=now,
                expires_at=expires,
            )
        )
        params = self.parameters(request_id, claim, nonce)
        wire = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        return {
            "id": request_id,
            "claim": claim,
            "expires_at": expires,
            "request": params,
            "request_uri": REQUEST_SCHEME + "?" + urlencode(wire),
        }

    def parameters(self, request_id: str, claim: str, nonce: str) -> dict[str, Any]:
        """The Authorization Request (OpenID4VP sections 5 and 8.2)."""
        return {
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "client_id": self.client_id(request_id),
            "response_uri": self.response_uri(request_id),
            "nonce": nonce,
            "dcql_query": {
                "credentials": [
                    {
                        "id": QUERY_ID,
                        "format": TYP,
                        "meta": {"vct_values": [VCT]},
                        "claims": [{"path": [claim]}],
                    }
                ]
            },
            "client_metadata": {
                "vp_formats_supported": {
                    TYP: {
                        "sd-jwt_alg_values": list(ISSUER_ALGS),
                        "kb-jwt_alg_values": list(HOLDER_ALGS),
                    }
                }
            },
        }

    def result(self, session: Session, platform: str, request_id: str, now: datetime) -> Result:
        """The platform's own request and its outcome; another's is not found either."""
        row = session.execute(
            select(REQUESTS).where(REQUESTS.c.id == request_id, REQUESTS.c.platform == platform)
        ).first()
        if row is None:
            raise VpRequestNotFound("no such request for this platform")
        expires = _aware(row.expires_at)
        state = "expired" if row.state == PENDING and expires <= now else row.state
        value = row.value if state == VERIFIED else None
        return Result(row.id, row.claim, state, value, row.reason, expires)

    # -- the wallet's side: the response_uri (direct_post) ---------------------------------
    def open(self, session: Session, request_id: str, now: datetime) -> Asked:
        row = session.execute(
            select(
                REQUESTS.c.claim, REQUESTS.c.nonce, REQUESTS.c.state, REQUESTS.c.expires_at
            ).where(REQUESTS.c.id == request_id)
        ).first()
        if row is None or _aware(row.expires_at) <= now:
            raise VpResponseRefused("no such request, or it has expired")
        if row.state != PENDING:
            raise VpResponseRefused("this request was already answered")
        return Asked(request_id, row.claim, row.nonce, self.client_id(request_id))

    def check(
        self, asked: Asked, form: Mapping[str, str], now: datetime
    ) -> tuple[bool | None, str | None]:
        """The claim's value, or why the response is rejected: (None, reason). Pure but for
        the status list, which ``trust.status`` reads (it may open its own unit of work)."""
        if "error" in form:
            error = form["error"]
            return None, error if error in WALLET_ERRORS else "wallet_error"
        presentation = _presentation(form.get("vp_token"))
        if presentation is None:
            return None, "presentation_malformed"
        try:
            proof = verify_presentation(
                presentation,
                asked.nonce,
                asked.client_id,
                now,
                claims=asked.claim,
                trust=self.trust,
            )
        except PresentationRejected as exc:
            return None, exc.code
        return proof.claims[asked.claim], None

    def record(
        self, session: Session, asked: Asked, outcome: tuple[bool | None, str | None], now: datetime
    ) -> None:
        """The first answer ends the request; a second one (a replay) is refused."""
        value, reason = outcome
        done = session.execute(
            update(REQUESTS)
            .where(
                REQUESTS.c.id == asked.id,
                REQUESTS.c.state == PENDING,
                REQUESTS.c.expires_at > now,
            )
            .values(state=REJECTED if reason else VERIFIED, value=value, reason=reason)
        )
        if int(done.rowcount) != 1:  # type: ignore[attr-defined]
            raise VpResponseRefused("this request was already answered")


def _presentation(vp_token: str | None) -> str | None:
    """The one presentation of a ``vp_token`` (section 8.1: query id -> [presentation])."""
    if not vp_token or len(vp_token) > MAX_VP_TOKEN:
        return None
    try:
        token = json.loads(vp_token)
    except (ValueError, RecursionError):
        return None
    if not isinstance(token, dict) or list(token) != [QUERY_ID]:
        return None
    items = token[QUERY_ID]
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], str):
        return None
    return items[0]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
