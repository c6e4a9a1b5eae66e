"""The fast path of anonymous RDAP lookups (web/rdap_fast.py, ADR 0021) answers what the
FastAPI routes answer, byte for byte and header for header, errors and the rate limit's 429
included; it answers anonymous domain and IP lookups without the app and passes everything
else (an officer's audited read, other queries, other methods) on to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from anyio import CapacityLimiter
from fastapi.testclient import TestClient

from dinhdanh.privacy.roles import Role
from dinhdanh.web.app import create_app
from dinhdanh.web.rdap_fast import RdapFastPath
from dinhdanh.wiring import Container
from tests.internet import rdap_data as d
from tests.internet.test_rdap import BASIS
from tests.support import assert_same_response
from tests.web.test_officer_api import key

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BASE = "https://testserver"

PATHS = [
    f"/rdap/domain/{d.PERSON_NAME}",
    f"/rdap/domain/{d.PERSON_ACE.upper()}",
    f"/rdap/domain/{d.COMPANY_NAME}.",
    f"/rdap/domain/{d.STRANGER_NAME}",
    "/rdap/domain/nothing-here.vn",
    "/rdap/domain/example.com",
    "/rdap/domain/-bad-.vn",
    "/rdap/domain/a..vn",
    "/rdap/domain/" + "a" * 64 + ".vn",
    "/rdap/domain/xn--abc.vn",
    "/rdap/domain/a/b",
    "/rdap/ip/14.160.1.7",
    f"/rdap/ip/{d.SUB_BLOCK}",
    f"/rdap/ip/{d.BLOCK}",
    "/rdap/ip/14.160.1.0/33",
    "/rdap/ip/14.160.1.1/24",
    "/rdap/ip/192.0.2.1",
    "/rdap/ip/2001:db8::1",
    "/rdap/ip/1.2.3",
    "/rdap/ip/not-an-address",
    "/rdap/ip/",
    "/rdap/domain/",
]


@pytest.fixture
def clients(container: Container, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    d.load(container, tmp_path)
    container.clock = lambda: NOW  # both paths stamp the same "last update" event
    container.rdap_answers.ttl = 0  # each path builds its own answer
    fast = TestClient(create_app(container), base_url=BASE)
    plain = TestClient(create_app(container, rdap_fast_path=False), base_url=BASE)
    with fast, plain:
        yield fast, plain


@pytest.mark.parametrize("path", PATHS)
def test_both_paths_answer_alike(clients: tuple[TestClient, TestClient], path: str) -> None:
    fast, plain = clients
    assert_same_response(fast.get(path), plain.get(path))


def test_both_paths_give_the_same_429_and_share_the_count(
    clients: tuple[TestClient, TestClient], container: Container
) -> None:
    fast, plain = clients
    container.settings = container.settings.model_copy(update={"rdap_rate_limit": 3})
    path = f"/rdap/domain/{d.COMPANY_NAME}"
    assert [fast.get(path).status_code, plain.get(path).status_code] == [200, 200]
    assert fast.get(path).status_code == 200  # the third in the window, whichever path
    a, b = fast.get(path), plain.get(path)
    assert a.status_code == b.status_code == 429
    assert abs(int(a.headers["retry-after"]) - int(b.headers["retry-after"])) <= 1  # a second apart
    assert a.content == b.content
    assert [k for k, _ in a.headers.items()] == [k for k, _ in b.headers.items()]


def test_an_officer_is_answered_by_the_app_alike(
    clients: tuple[TestClient, TestClient], container: Container
) -> None:
    fast, plain = clients
    officer = key(container, Role.OFFICER) | BASIS
    for path in (f"/rdap/domain/{d.PERSON_NAME}", "/rdap/domain/-bad-.vn", "/rdap/ip/1.2.3"):
        a, b = fast.get(path, headers=officer), plain.get(path, headers=officer)
        assert a.status_code == b.status_code
        assert a.json() == b.json()
    full = fast.get(f"/rdap/domain/{d.PERSON_NAME}", headers=officer).json()
    assert "redacted" not in full


class Spy:
    """The app behind the fast path: records what reaches it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_anonymous_lookups_never_reach_the_app_and_the_rest_all_do(
    container: Container, tmp_path: Path
) -> None:
    d.load(container, tmp_path)
    spy = Spy()
    # Not entered: no lifespan, the spy answers HTTP only.
    tc = TestClient(RdapFastPath(spy, container, CapacityLimiter(1)), base_url=BASE)
    assert tc.get(f"/rdap/domain/{d.PERSON_NAME}").status_code == 200
    assert tc.get("/rdap/domain/nothing-here.vn").status_code == 404
    assert tc.get("/rdap/domain/-bad-.vn").status_code == 400
    assert tc.get(f"/rdap/ip/{d.SUB_BLOCK}").status_code == 200
    assert spy.paths == []
    passed = [
        tc.get(f"/rdap/domain/{d.PERSON_NAME}", headers={"Authorization": "Bearer x"}),
        tc.post(f"/rdap/domain/{d.PERSON_NAME}"),
        tc.get("/rdap/domain/a/b"),
        tc.get("/rdap/autnum/45899"),
        tc.get("/rdap/domains?name=ph*"),
        tc.get("/rdap/ip/"),
        tc.get("/rdap/help"),
    ]
    assert [r.status_code for r in passed] == [299] * len(passed)
    assert len(spy.paths) == len(passed)
