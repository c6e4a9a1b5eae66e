"""RP-Initiated Logout: OpenID Connect RP-Initiated Logout 1.0, sections 2 and 3.

``id_token_hint`` (an ID token we issued) identifies the client and, by its pairwise ``sub``,
the user; expiry does not matter for that (section 2). The browser session ends without
asking only when the hint is unexpired and names the logged-in user for its client: anyone's
old ID token would otherwise log a victim out (and revoke their grants) with a plain GET.
Every other request asks the user to confirm (section 2: the OP "SHOULD ask the End-User
whether to log out"). A ``post_logout_redirect_uri`` must be registered exactly for the client
named by the hint or by ``client_id``, and then receives ``state``. Ending the session revokes
the grants it authorized (``Sessions.revoke``), so the platforms' refresh tokens stop working
and introspection and userinfo refuse their access tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.oidc.authorize import redirect_with
from dinhdanh.auth.oidc.errors import invalid_request
from dinhdanh.auth.oidc.provider import Provider
from dinhdanh.crypto.jose import JoseError, verify_jwt


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    client: ClientInfo | None
    hint_sub: str | None  # ``sub`` of an unexpired id_token_hint for ``client``
    redirect: str | None  # where to send the browser after logging out


def parse_logout(
    provider: Provider, session: Session, params: Mapping[str, str], now: datetime
) -> LogoutRequest:
    client = None
    hint_sub = None
    hint = params.get("id_token_hint")
    if hint:
        try:
            claims = verify_jwt(hint, provider.keys.public, algorithms=provider.keys.algorithms)
        except JoseError:
            raise invalid_request("id_token_hint does not verify") from None
        if claims.get("iss") != provider.issuer:
            raise invalid_request("id_token_hint was not issued here")
        client = provider.clients.get(session, str(claims.get("aud")))
        exp, sub = claims.get("exp"), claims.get("sub")
        if client is not None and isinstance(exp, int) and exp > now.timestamp():
            hint_sub = sub if isinstance(sub, str) else None
    if params.get("client_id"):
        named = provider.clients.get(session, params["client_id"])
        if named is None or (client is not None and named.client_id != client.client_id):
            raise invalid_request("client_id does not match id_token_hint")
        client = named
    redirect = None
    uri = params.get("post_logout_redirect_uri")
    if uri:
        if client is None or uri not in client.post_logout_redirect_uris:
            raise invalid_request("post_logout_redirect_uri is not registered for this client")
        redirect = redirect_with(uri, {"state": params.get("state")})
    return LogoutRequest(client, hint_sub, redirect)


def must_confirm(provider: Provider, req: LogoutRequest, subject_id: str | None) -> bool:
    """Whether to ask the user before ending the session of ``subject_id`` (None: nobody is
    logged in, nothing to end). Only an unexpired hint naming that very user skips it."""
    if subject_id is None:
        return False
    if req.client is None or req.hint_sub is None:
        return True
    return provider.subject(req.client, subject_id) != req.hint_sub
