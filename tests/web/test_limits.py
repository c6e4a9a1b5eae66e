"""Request body limits, driven through the ASGI app with a receive channel that counts what
the app pulls: past the limit the app stops reading, so the rest never reaches memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dinhdanh.privacy.access import create_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.web.limits import ACK_BYTES, API_BYTES, FORM_BYTES
from dinhdanh.wiring import Container, build, init_data_dir
from tests.oidc.conftest import csrf_of

CHUNK = 4096
HUGE = 64 << 20  # 64 MiB offered, never read


@dataclass
class Sent:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    pulled: int = 0  # body bytes the app took from the receive channel

    def json(self) -> Any:
        return json.loads(self.body)


def _chunks(total: int) -> Iterator[bytes]:
    while total > 0:
        yield b"a" * min(CHUNK, total)
        total -= CHUNK


def drive(
    app: FastAPI,
    path: str,
    total: int = HUGE,
    headers: dict[str, str] | None = None,
    declare: bool = False,
    method: str = "POST",
) -> Sent:
    """Send ``total`` bytes in 4 KiB messages, as a chunked upload arrives (or with its
    Content-Length declared up front when ``declare``)."""
    sent = Sent()
    chunks = _chunks(total)
    pending = next(chunks, b"")
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if declare:
        raw.append((b"content-length", str(total).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *raw],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443),
    }

    async def receive() -> dict[str, Any]:
        nonlocal pending
        if not pending:
            await anyio.sleep_forever()  # the client has nothing more; a real one waits
        body, pending = pending, next(chunks, b"")
        sent.pulled += len(body)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.status = message["status"]
            sent.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            sent.body += message.get("body", b"")

    # A thread of its own: Playwright's sync API keeps an event loop running in the main
    # thread while the browser tests' session lasts, and anyio.run refuses to nest in it.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, app, scope, receive, send).result()
    return sent


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    if settings.database_url:
        pytest.skip("the limits are in the web layer; one database is enough")
    small = settings.model_copy(update={"max_upload_bytes": 100_000})
    init_data_dir(small)[1].dispose()
    c = build(small)
    try:
        yield create_app(c)
    finally:
        c.close()


def assert_problem_413(sent: Sent, limit: int) -> None:
    assert sent.status == 413, sent.body
    assert sent.headers["content-type"] == "application/problem+json"
    assert sent.json()["code"] == "payload_too_large"
    assert sent.pulled <= limit + CHUNK  # stopped at the first chunk past the limit


FORM = {"content-type": "application/x-www-form-urlencoded"}
OAUTH = ["/token", "/par", "/revoke", "/introspect", "/logout"]  # these read a form


@pytest.mark.parametrize("path", OAUTH)
def test_oauth_forms_stop_at_16_kib_while_streaming(app: FastAPI, path: str) -> None:
    sent = drive(app, path, headers=FORM)
    assert sent.status == 413, sent.body
    assert sent.json()["error"] == "invalid_request"  # RFC 6749's format, as the endpoint's
    assert sent.headers["cache-control"] == "no-store"
    assert FORM_BYTES < sent.pulled <= FORM_BYTES + CHUNK


def test_an_age_credential_request_takes_a_json_api_body_in_oauth_format(app: FastAPI) -> None:
    sent = drive(app, "/age/vci/credential", headers={"content-type": "application/json"})
    assert sent.status == 413, sent.body
    assert sent.json()["error"] == "invalid_request"
    assert API_BYTES < sent.pulled <= API_BYTES + CHUNK


@pytest.mark.parametrize("path", [*OAUTH, "/userinfo"])
def test_a_declared_length_over_the_limit_reads_nothing(app: FastAPI, path: str) -> None:
    sent = drive(app, path, total=300 << 20, headers=FORM, declare=True)
    assert sent.status == 413
    assert sent.json()["error"] == "invalid_request"
    assert sent.pulled == 0


def test_a_form_within_the_limit_still_reaches_the_endpoint(app: FastAPI) -> None:
    sent = drive(app, "/token", total=FORM_BYTES, headers=FORM)
    assert sent.status == 401  # the endpoint's own verdict: no client authentication
    assert sent.json()["error"] == "invalid_client"
    assert sent.pulled == FORM_BYTES


@pytest.mark.parametrize("path", ["/login", "/enrol", "/authorize/consent", "/account/totp"])
def test_html_forms_stop_at_16_kib(app: FastAPI, path: str) -> None:
    assert_problem_413(drive(app, path, headers=FORM), FORM_BYTES)


def test_passkey_json_is_not_read_without_the_csrf_header(app: FastAPI) -> None:
    json_type = {"content-type": "application/json"}
    for path in ("/login/passkey", "/account/passkeys"):
        sent = drive(app, path, total=1 << 20, headers=json_type)
        assert sent.status == 403, sent.body
        assert sent.json()["code"] == "csrf"
        assert sent.pulled == 0  # refused before a byte of the body


def test_passkey_json_with_the_csrf_header_stops_at_16_kib(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as tc:
        token = csrf_of(tc.get("/login").text)
        cookie = tc.cookies["__Host-dd_csrf"]
    headers = {
        "content-type": "application/json",
        "x-csrf-token": token,
        "cookie": f"__Host-dd_csrf={cookie}",
    }
    assert_problem_413(drive(app, "/login/passkey", headers=headers), FORM_BYTES)
    # Within the limit, the body is parsed (and found wanting) after the CSRF check.
    sent = drive(app, "/login/passkey", total=100, headers=headers)
    assert sent.status == 422
    assert sent.json()["code"] == "validation_failed"


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v1/clients", API_BYTES),
        ("/api/v1/carriers", API_BYTES),
        ("/api/v1/carriers/VTL/actions:ack", ACK_BYTES),
        ("/api/v1/registrars/PAVN/actions:ack", ACK_BYTES),
    ],
)
def test_json_api_bodies_are_capped(app: FastAPI, path: str, limit: int) -> None:
    json_type = {"content-type": "application/json"}
    assert_problem_413(drive(app, path, headers=json_type), limit)


def test_carrier_uploads_take_the_configured_limit(app: FastAPI) -> None:
    """DINHDANH_MAX_UPLOAD_BYTES (100,000 here): a declared length past it is refused before
    authentication; a chunked upload is cut off while it streams to disk."""
    c: Container = app.state.container
    with c.unit_of_work() as s:
        _, token = create_api_key(s, "admin", Role.ADMIN, c.clock(), owner="test org")
    path = "/api/v1/carriers/VTL/subscriptions:batch"
    csv = {"content-type": "text/csv"}
    sent = drive(app, path, total=1 << 30, headers=csv, declare=True)
    assert_problem_413(sent, 0)
    assert sent.pulled == 0
    admin = csv | {"authorization": f"Bearer {token}"}
    assert_problem_413(drive(app, path, headers=admin), 100_000)
    assert not list(c.settings.data_dir.glob("upload-*"))  # the partial file is gone
