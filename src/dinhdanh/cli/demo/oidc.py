"""Demo platform: an OIDC client, its id and secret kept in ``demo-client.json``."""

from __future__ import annotations

import json
from typing import Any

from dinhdanh.auth import opaque
from dinhdanh.auth.clients import ClientConfigError
from dinhdanh.cli.common import container_from, fail
from dinhdanh.cli.demo.base import Demo, Seeded, write_private

DEMO_CLIENT_ID = "demo-platform"
DEMO_REDIRECT = "http://127.0.0.1:8080/callback"
DEMO_POST_LOGOUT = "http://127.0.0.1:8080/"


def seed(demo: Demo) -> Seeded:
    path = demo.settings.data_dir / "demo-client.json"
    if not path.exists():
        data = {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": opaque.new_token(),
            "redirect_uri": DEMO_REDIRECT,
        }
        write_private(path, json.dumps(data, indent=2) + "\n")
    client: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    with container_from(demo.ctx) as c, c.unit_of_work() as session:
        if c.auth.clients.get(session, client["client_id"]) is None:
            try:
                c.auth.clients.create(
                    session,
                    name="Demo platform",
                    redirect_uris=[client["redirect_uri"]],
                    post_logout_redirect_uris=[DEMO_POST_LOGOUT],
                    grant_types=("authorization_code", "refresh_token", "client_credentials"),
                    client_id=client["client_id"],
                    secret=client["client_secret"],
                    now=c.clock(),
                )
            except ClientConfigError as exc:
                fail(f"demo client: {exc}")
    line = (
        f"demo platform: client_id {client['client_id']}, secret {client['client_secret']}, "
        f"redirect {client['redirect_uri']}"
    )
    return Seeded({"client": client}, [line])
