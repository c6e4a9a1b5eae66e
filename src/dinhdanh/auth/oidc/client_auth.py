"""Client authentication at the token, PAR, revocation and introspection endpoints.

- ``client_secret_basic``: RFC 6749 section 2.3.1, HTTP Basic with the form-urlencoded id and
  secret; ``client_secret_post`` (same section, secret in the body) is accepted too.
- ``private_key_jwt``: OIDC Core section 9 and RFC 7523 sections 2.2 and 3: a JWT signed with
  a key in the client's registered JWKS; ``iss`` = ``sub`` = client_id, ``aud`` the issuer or
  the endpoint's URL, ``exp`` in the future, ``jti`` never seen before (kept until ``exp``).

Failures raise ``invalid_client`` (HTTP 401) and say nothing about which part was wrong.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.clients import ClientInfo, Clients
from dinhdanh.auth.models import UsedAssertion
from dinhdanh.auth.oidc.errors import OAuthError, invalid_client, invalid_request
from dinhdanh.crypto.jose import SUPPORTED_ALGORITHMS, JoseError, verify_jwt
from dinhdanh.store.once import DatabaseOnce, Once

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 600  # seconds; longer-lived assertions are refused


def _basic(authorization: str) -> tuple[str, str] | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_client("malformed Basic credentials") from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise invalid_client("malformed Basic credentials")
    return unquote_plus(user), unquote_plus(password)


def _secret_ok(client: ClientInfo, secret: str) -> bool:
    if client.secret_sha256 is None:
        return False
    return hmac.compare_digest(client.secret_sha256, opaque.digest(secret))


def authenticate_client(
    session: Session,
    clients: Clients,
    *,
    authorization: str | None,
    form: Mapping[str, str],
    audiences: Collection[str],
    now: datetime,
    seen: Once | None = None,
) -> ClientInfo:
    """The authenticated client, or ``OAuthError("invalid_client")``. Assertion ``jti``s
    are recorded in ``seen`` (default: the database)."""
    basic = _basic(authorization) if authorization else None
    assertion_type = form.get("client_assertion_type")
    methods = sum((basic is not None, "client_secret" in form, assertion_type is not None))
    if methods > 1:
        raise invalid_request("use exactly one client authentication method")
    if basic is not None:
        client = clients.get(session, basic[0])
        if client is None or not _secret_ok(client, basic[1]):
            raise invalid_client("client authentication failed")
        return client
    if "client_secret" in form:
        client = clients.get(session, form.get("client_id", ""))
        if client is None or not _secret_ok(client, form["client_secret"]):
            raise invalid_client("client authentication failed")
        return client
    if assertion_type is not None:
        return _private_key_jwt(session, clients, form, audiences, now, seen or DatabaseOnce())
    raise invalid_client("client authentication required")


def _private_key_jwt(
    session: Session,
    clients: Clients,
    form: Mapping[str, str],
    audiences: Collection[str],
    now: datetime,
    seen: Once,
) -> ClientInfo:
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise invalid_client("unsupported client_assertion_type")
    assertion = form.get("client_assertion", "")
    client_id = form.get("client_id")
    try:
        # Read iss before verifying, only to find the client whose keys must verify it.
        unverified = assertion.split(".")[1]
        payload = base64.urlsafe_b64decode(unverified + "=" * (-len(unverified) % 4))
        iss = json.loads(payload).get("iss")
    except (IndexError, ValueError, AttributeError, binascii.Error):
        raise invalid_client("malformed client assertion") from None
    if not isinstance(iss, str) or (client_id is not None and client_id != iss):
        raise invalid_client("client authentication failed")
    client = clients.get(session, iss)
    if client is None or client.jwks is None:
        raise invalid_client("client authentication failed")
    try:
        claims = verify_jwt(assertion, client.jwks, algorithms=SUPPORTED_ALGORITHMS)
    except JoseError:
        raise invalid_client("client assertion does not verify") from None
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    exp, jti = claims.get("exp"), claims.get("jti")
    ts = now.timestamp()
    if (
        claims.get("sub") != iss
        or not any(a in audiences for a in auds)
        or not isinstance(exp, int | float)
        or not ts < exp <= ts + MAX_ASSERTION_LIFETIME
        or not isinstance(jti, str)
        or not jti
        or len(jti) > 200
    ):
        raise invalid_client("client assertion claims are not acceptable")
    used = {"client_id": iss, "jti": jti, "expires_at": datetime.fromtimestamp(exp, UTC)}
    if not seen.first(session, UsedAssertion, used, now):  # atomic: two at once, one wins
        raise invalid_client("client assertion was already used")
    return client


__all__ = ["ASSERTION_TYPE", "OAuthError", "authenticate_client"]
