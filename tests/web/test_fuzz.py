"""Schemathesis, an independent API fuzzer, against /openapi.json and the OAuth endpoints.

The app is built from a fresh container with the demo population (``dinhdanh demo``). The
fuzzer runs once per identity in turn: an officer, an admin and a carrier API key, a logged-in
citizen's browser session (cookie and CSRF token), and the demo platform (HTTP Basic on the
OAuth endpoints, a citizen's access token on /userinfo). Every check but one runs on every
answer: no server error, and every status code, content type, header and body is declared in
the OpenAPI document, with its schema. The seed is fixed. ``DINHDANH_FUZZ_LONG=1`` is the long
run (docs/security-fuzzing.md); ``DINHDANH_FUZZ_DATABASE_URL`` runs it on PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import schemathesis
import schemathesis.engine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build
from tests.cli.helpers import cli_json
from tests.oidc.conftest import csrf_of, demo_totp, log_in_with

SEED = int(os.environ.get("DINHDANH_FUZZ_SEED", "20261130"))
LONG = bool(os.environ.get("DINHDANH_FUZZ_LONG"))
# Short: the coverage phase's boundary and negative cases, 3 random ones per operation, TRACE
# as the one unexpected method. Long: 100 random ones, every method, the stateful phase.
MAX_EXAMPLES = 100 if LONG else 3
METHODS = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE"] if LONG else ["TRACE"]

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@dataclass
class World:
    app: FastAPI
    demo: dict[str, Any]
    admin_key: str
    carrier_key: str
    citizen: dict[str, str]  # Cookie and X-CSRF-Token of a logged-in citizen
    access_token: str  # the demo platform's, for that citizen

    def headers(self, who: str) -> dict[str, str]:
        client = self.demo["client"]
        basic = f"{client['client_id']}:{client['client_secret']}".encode()
        return {
            "officer": {"Authorization": f"Bearer {self.demo['officer_api_key']}"},
            "admin": {"Authorization": f"Bearer {self.admin_key}"},
            "carrier": {"Authorization": f"Bearer {self.carrier_key}"},
            "citizen": self.citizen,
            "platform": {"Authorization": f"Basic {base64.b64encode(basic).decode()}"},
            "platform-token": {"Authorization": f"Bearer {self.access_token}"},
        }[who]


def _access_token(tc: TestClient, client: dict[str, str]) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": client["redirect_uri"],
            "scope": "openid age phone",
            "state": "s",
            "nonce": "n",
            "code_challenge_method": "S256",
            "code_challenge": challenge.rstrip(b"=").decode(),
        }
    )
    resp = tc.get("/authorize?" + query, follow_redirects=False)
    if resp.status_code == 200:
        resp = tc.post(
            "/authorize/consent",
            data={"csrf": csrf_of(resp.text), "query": query, "consent": "allow"},
            follow_redirects=False,
        )
    assert resp.status_code == 303, resp.text
    code = parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]
    resp = tc.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client["redirect_uri"],
            "code_verifier": verifier,
        },
        auth=(client["client_id"], client["client_secret"]),
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = os.environ.get("DINHDANH_FUZZ_DATABASE_URL")  # a scratch database: it is filled
    settings = Settings(data_dir=tmp_path_factory.mktemp("fuzz") / "var", database_url=url)
    demo = cli_json(settings, "demo", "--count", "100")
    c = build(settings)
    try:
        with c.unit_of_work() as s:
            _, admin = create_api_key(s, "fuzz admin", Role.ADMIN, c.clock(), owner="test org")
            _, carrier = create_api_key(
                s, "fuzz VTL", Role.CARRIER, c.clock(), scope="VTL", owner="test org"
            )
        app = create_app(c)
        with TestClient(app, base_url="https://testserver") as tc:
            person = demo["citizens"][0]
            log_in_with(tc, person["id_number"], person["password"], demo_totp(person))
            token = _access_token(tc, demo["client"])
            csrf = csrf_of(tc.get("/login").text)
            cookie = "; ".join(f"{k}={v}" for k, v in tc.cookies.items())
        citizen = {"Cookie": cookie, "X-CSRF-Token": csrf}
        yield World(app, demo, admin, carrier, citizen, token)
    finally:
        c.close()


def fuzz(app: FastAPI, headers: dict[str, str], paths: str | None) -> tuple[int, list[str]]:
    """One Schemathesis run, as ``st run`` makes it: (cases, failures)."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": headers,
            "generation": {"max-examples": MAX_EXAMPLES, "no-shrink": not LONG},
            "phases": {"stateful": {"enabled": LONG}, "coverage": {"unexpected-methods": METHODS}},
            # Well-formed but unknown data (a random authorization code, an ID number whose
            # check digit is wrong) is rightly refused with a 400 or 422: not what this wants.
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    if paths:
        schema = schema.include(path_regex=paths)
    cases, failures = 0, []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {event.info.format()}")
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                failures += [
                    f"{event.recorder.label}: {check.name}: {info.failure.title}: "
                    f"{info.failure.message}\n{info.code_sample}"
                    for check in checks
                    if (info := check.failure_info) is not None
                ]
    return cases, failures


# Who, and on which paths (None: all of them).
IDENTITIES = {
    "officer": None,
    "admin": None,
    "carrier": None,
    "citizen": None,
    "platform": "^/(token|par|revoke|introspect)$",
    "platform-token": "^/userinfo$",
}


@pytest.mark.parametrize("who", IDENTITIES)
def test_no_server_error_and_every_answer_is_declared(world: World, who: str) -> None:
    started = time.monotonic()
    cases, failures = fuzz(world.app, world.headers(who), IDENTITIES[who])
    print(f"{who}: {cases} cases, {len(failures)} failures, {time.monotonic() - started:.1f} s")
    assert cases > 0
    assert not failures, "\n\n".join(failures)
