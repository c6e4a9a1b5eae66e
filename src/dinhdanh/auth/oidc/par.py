"""Pushed authorization requests: RFC 9126.

The client authenticates and posts the authorization parameters; they are validated now
(section 2.1) and stored under a one-time ``request_uri`` (section 2.2) valid for
``par_ttl``; ``/authorize?client_id=...&request_uri=...`` then uses them (section 4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dinhdanh.auth import opaque
from dinhdanh.auth.clients import ClientInfo
from dinhdanh.auth.models import PushedRequest
from dinhdanh.auth.oidc.authorize import REQUEST_URI_PREFIX, parse_request
from dinhdanh.auth.oidc.provider import Provider

_CLIENT_AUTH = ("client_secret", "client_assertion", "client_assertion_type")


def push(
    provider: Provider,
    session: Session,
    client: ClientInfo,
    form: Mapping[str, str],
    now: datetime,
) -> dict[str, Any]:
    params = {k: v for k, v in form.items() if k not in _CLIENT_AUTH}
    params.setdefault("client_id", client.client_id)
    parse_request(provider, session, params, now, pushed_by=client)
    handle = opaque.new_token(provider.random)
    session.add(
        PushedRequest(
            request_uri_sha256=opaque.digest(handle),
            client_id=client.client_id,
            params=json.dumps(params),
            expires_at=now + provider.config.par_ttl,
            used_at=None,
            requested_at=None,
        )
    )
    session.flush()
    return {
        "request_uri": REQUEST_URI_PREFIX + handle,
        "expires_in": int(provider.config.par_ttl.total_seconds()),
    }
