"""RP-Initiated Logout: OpenID Connect RP-Initiated Logout 1.0, sections 2 and 3.

``id_token_hint`` (an ID token we issued; expiry is ignored, section 2) names the client and
the user, and the browser session ends at once. Without a valid hint the user is asked to
confirm (section 2: the OP "SHOULD ask the End-User whether to log out"), so a GET alone logs
nobody out. Either way, a ``post_logout_redirect_uri`` must be registered exactly for the
client named by the hint or by ``client_id``, and then receives ``state``: after confirming,
a user without a hint is redirected too when the request named a client and one of its
registered URIs. Ending the session revokes the grants it authorized (``Sessions.revoke``),
so the platforms' refresh tokens stop working and introspection and userinfo refuse their
access tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.oidc.authorize import redirect_with
from dinhdanh.auth.oidc.errors import invalid_request
from dinhdanh.auth.oidc.provider import Provider
from dinhdanh.crypto.jose import JoseError, verify_jwt


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    client: ClientInfo | None
    hinted: bool  # a valid id_token_hint was given: no confirmation needed
    redirect: str | None  # where to send the browser after logging out


def parse_logout(provider: Provider, session: Session, params: Mapping[str, str]) -> LogoutRequest:
    client = None
    hinted = False
    hint = params.get("id_token_hint")
    if hint:
        try:
            claims = verify_jwt(hint, provider.keys.public, algorithms=provider.keys.algorithms)
        except JoseError:
            raise invalid_request("id_token_hint does not verify") from None
        if claims.get("iss") != provider.issuer:
            raise invalid_request("id_token_hint was not issued here")
        client = provider.clients.get(session, str(claims.get("aud")))
        hinted = client is not None
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
    return LogoutRequest(client, hinted, redirect)
