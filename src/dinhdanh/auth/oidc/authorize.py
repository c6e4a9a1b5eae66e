"""The authorization endpoint: OIDC Core 1.0 section 3.1.2, RFC 6749 section 4.1.

- Authorization code flow only (``response_type=code``); PKCE with ``S256`` is required of
  every client (RFC 7636 4.3, RFC 9700 2.1.1); ``plain`` is refused.
- ``redirect_uri`` must equal a registered one exactly; an unknown client or redirect URI is
  shown to the user, never redirected to (RFC 6749 4.1.2.1). Other errors go back to the
  client with ``error``, ``state`` and ``iss`` (RFC 9207).
- ``state`` and ``nonce`` are carried through; ``prompt`` (``none``, ``login``, ``consent``),
  ``max_age`` and ``acr_values`` as in OIDC Core 3.1.2.1 and 3.1.2.3.
- ``request_uri`` from a pushed authorization request (RFC 9126 section 4): its parameters
  replace the query's, and it is spent when the code is issued.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.models import AuthorizationCode, Consent, PushedRequest
from dinhdanh.auth.oidc.claims import acr_level, parse_scope
from dinhdanh.auth.oidc.errors import OAuthError
from dinhdanh.auth.oidc.provider import Authentication, Provider
from dinhdanh.auth.opaque import as_utc
from dinhdanh.privacy.audit import AccessContext, AuditLog

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url SHA-256, no padding
_MAX_PARAM = 2000


class AuthorizeError(OAuthError):
    """An error shown to the user: the client or its redirect URI can't be trusted."""


class RedirectError(OAuthError):
    """An error returned to the client at its redirect URI."""

    def __init__(self, error: str, description: str, redirect_uri: str, state: str | None) -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client: ClientInfo
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    acr_values: tuple[int, ...] = ()
    request_uri: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def redirect_with(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return redirect_uri + ("&" if "?" in redirect_uri else "?") + query


def error_redirect(provider: Provider, exc: RedirectError) -> str:
    return redirect_with(
        exc.redirect_uri,
        {
            "error": exc.error,
            "error_description": exc.description,
            "state": exc.state,
            "iss": provider.issuer,
        },
    )


def _pushed(
    session: Session, request_uri: str, client_id: str | None, now: datetime
) -> dict[str, str]:
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        raise AuthorizeError("invalid_request_uri", "request_uri is not one we issued")
    row = session.get(PushedRequest, opaque.digest(request_uri[len(REQUEST_URI_PREFIX) :]))
    if row is None or row.used_at is not None or as_utc(row.expires_at) <= now:
        raise AuthorizeError("invalid_request_uri", "request_uri is unknown, used or expired")
    if client_id is not None and client_id != row.client_id:
        raise AuthorizeError("invalid_request_uri", "request_uri belongs to another client")
    params: dict[str, str] = json.loads(row.params)
    return params


def parse_request(
    provider: Provider,
    session: Session,
    query: Mapping[str, str],
    now: datetime,
    *,
    pushed_by: ClientInfo | None = None,
) -> AuthorizationRequest:
    """Validate an authorization request (or, with ``pushed_by``, a PAR request)."""
    params = dict(query)
    request_uri = None
    if pushed_by is None and "request_uri" in params:
        request_uri = params["request_uri"]
        params = _pushed(session, request_uri, params.get("client_id"), now)
    if pushed_by is not None and "request_uri" in params:
        raise OAuthError("invalid_request", "request_uri is not allowed in a pushed request")
    if any(len(v) > _MAX_PARAM for v in params.values()):
        raise AuthorizeError("invalid_request", "a parameter is too long")
    if "request" in params:
        raise AuthorizeError("request_not_supported", "request objects are not supported")

    client = pushed_by or provider.clients.get(session, params.get("client_id", ""))
    if (
        client is None
        or params.get("client_id", client.client_id) != client.client_id
        or not provider.clients.enabled(session, client.client_id)  # the cache may lag
    ):
        raise AuthorizeError("invalid_client", "unknown client_id")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise AuthorizeError("invalid_request", "redirect_uri is not registered for this client")

    state = params.get("state")

    def fail(error: str, description: str) -> RedirectError:
        return RedirectError(error, description, redirect_uri, state)

    if params.get("response_type") != "code":
        raise fail("unsupported_response_type", "only response_type=code is supported")
    if "authorization_code" not in client.grant_types:
        raise fail("unauthorized_client", "this client may not use the authorization code grant")
    scopes = parse_scope(params.get("scope"))
    if "openid" not in scopes:
        raise fail("invalid_scope", "the openid scope is required")
    if not set(scopes) <= client.scope:
        raise fail("invalid_scope", "a requested scope is not allowed for this client")
    challenge = params.get("code_challenge")
    if not challenge:
        raise fail("invalid_request", "PKCE is required: send code_challenge (S256)")
    if params.get("code_challenge_method") != "S256":
        raise fail("invalid_request", "code_challenge_method must be S256")
    if not _CHALLENGE.match(challenge):
        raise fail("invalid_request", "code_challenge is not a base64url SHA-256")
    prompt = frozenset(parse_scope(params.get("prompt")))
    if not prompt <= PROMPTS or ("none" in prompt and len(prompt) > 1):
        raise fail("invalid_request", "prompt must be none, or any of login, consent")
    max_age = None
    if "max_age" in params:
        if not params["max_age"].isdigit():
            raise fail("invalid_request", "max_age must be a non-negative integer")
        max_age = int(params["max_age"])
    acr_values = tuple(
        level for v in parse_scope(params.get("acr_values")) if (level := acr_level(v)) is not None
    )
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=params.get("nonce"),
        code_challenge=challenge,
        prompt=prompt,
        max_age=max_age,
        acr_values=acr_values,
        request_uri=request_uri,
        params=params,
    )


def needs_login(
    req: AuthorizationRequest,
    authn: Authentication | None,
    now: datetime,
    requested_at: datetime | None,
) -> bool:
    """Whether the user must (re-)authenticate before a code is issued. Pure.

    ``authn`` comes from the server-side browser session; ``requested_at`` is when the user
    was sent to log in for this request (``login_requested_at``): ``prompt=login`` is
    satisfied by a login after it. ``acr_values`` are voluntary (OIDC Core 5.5.1.1): the
    ``acr`` claim says what was reached.
    """
    if authn is None:
        return True
    if "login" in req.prompt and (requested_at is None or authn.auth_time < requested_at):
        return True
    return req.max_age is not None and (now - authn.auth_time).total_seconds() > req.max_age


def _row(session: Session, request_uri: str) -> PushedRequest | None:
    return session.get(PushedRequest, opaque.digest(request_uri[len(REQUEST_URI_PREFIX) :]))


def login_requested_at(session: Session, req: AuthorizationRequest) -> datetime | None:
    """When the browser was sent to log in for this request, as stored server-side."""
    row = _row(session, req.request_uri) if req.request_uri else None
    return as_utc(row.requested_at) if row is not None and row.requested_at else None


def park_for_login(
    provider: Provider, session: Session, req: AuthorizationRequest, now: datetime
) -> str:
    """Keep the request server-side while the user logs in; the ``/authorize`` URL to come
    back to. Its parameters (``prompt``, ``max_age``) and the time the login was asked for
    can then not be edited in the browser."""
    row = _row(session, req.request_uri) if req.request_uri else None
    handle = req.request_uri
    if row is None:
        token = opaque.new_token(provider.random)
        handle = REQUEST_URI_PREFIX + token
        row = PushedRequest(
            request_uri_sha256=opaque.digest(token),
            client_id=req.client.client_id,
            params=json.dumps(req.params),
            expires_at=now,
            used_at=None,
            requested_at=None,
        )
        session.add(row)
    row.requested_at = row.requested_at or now
    row.expires_at = max(as_utc(row.expires_at), now + provider.config.login_ttl)
    session.flush()
    return "/authorize?" + urlencode({"client_id": req.client.client_id, "request_uri": handle})


def granted_scopes(session: Session, account_id: str, client_id: str) -> set[str] | None:
    row = session.scalars(
        select(Consent).where(Consent.account_id == account_id, Consent.client_id == client_id)
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return set(row.scope.split())


def needs_consent(session: Session, req: AuthorizationRequest, account_id: str) -> bool:
    if "consent" in req.prompt:
        return True
    granted = granted_scopes(session, account_id, req.client.client_id)
    return granted is None or not set(req.scopes) <= granted


def consent_ctx(account_id: str) -> AccessContext:
    return AccessContext(f"account:{account_id}", "citizen", "consent")


def record_consent(
    session: Session,
    audit: AuditLog,
    authn: Authentication,
    client_id: str,
    scopes: list[str],
    now: datetime,
) -> None:
    """Remember the consent for this client (revocable on "my account"), and audit it."""
    row = session.scalars(
        select(Consent).where(
            Consent.account_id == authn.account_id, Consent.client_id == client_id
        )
    ).first()
    if row is None:
        session.add(
            Consent(
                account_id=authn.account_id,
                client_id=client_id,
                scope=" ".join(scopes),
                granted_at=now,
                revoked_at=None,
            )
        )
    else:
        before = set() if row.revoked_at else set(row.scope.split())
        row.scope = " ".join(sorted(before | set(scopes)))
        row.granted_at, row.revoked_at = now, None
    audit.append(
        session,
        [consent_ctx(authn.account_id).event(f"consent:granted:{client_id}", authn.subject_id, ())],
        now,
    )
    session.flush()


def issue_code(
    provider: Provider,
    session: Session,
    req: AuthorizationRequest,
    authn: Authentication,
    session_id: str,
    now: datetime,
) -> str:
    """Store a single-use code and return the redirect to the client (RFC 6749 4.1.2)."""
    code = opaque.new_token(provider.random)
    session.add(
        AuthorizationCode(
            code_sha256=opaque.digest(code),
            client_id=req.client.client_id,
            account_id=authn.account_id,
            session_id=session_id,
            redirect_uri=req.redirect_uri,
            scope=" ".join(req.scopes),
            nonce=req.nonce,
            code_challenge=req.code_challenge,
            auth_time=authn.auth_time,
            acr=authn.level,
            amr=" ".join(authn.amr),
            expires_at=now + provider.config.code_ttl,
            used_at=None,
            family_id=None,
        )
    )
    if req.request_uri is not None:
        pushed = _row(session, req.request_uri)
        if pushed is not None:
            pushed.used_at = now
    session.flush()
    return redirect_with(
        req.redirect_uri, {"code": code, "state": req.state, "iss": provider.issuer}
    )
