"""The status reads' fast path (web/status_fast.py, ADR 0024) answers what the FastAPI routes
answer, byte for byte and header for header: bound, unbound and odd account ids, a child's
pending account, and every error (no key, a bad or revoked key, another platform's code, a
platform that does not exist, a batch body FastAPI refuses: bad JSON, a wrong type, more
than 10,000 ids, another content type). It answers the two routes without the app and passes
everything else on to it; both count the same reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from anyio import CapacityLimiter
from fastapi.testclient import TestClient

from dinhdanh.privacy.access import create_api_key, revoke_api_key
from dinhdanh.privacy.roles import Role
from dinhdanh.social.service import MAX_BATCH
from dinhdanh.web.app import create_app
from dinhdanh.web.status_fast import StatusFastPath, route
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.social.conftest import Plat, add_platform, bind, sign_in
from tests.support import Citizen, assert_same_response, make_citizen

BASE = "https://testserver"
ZALO = "/api/v1/platforms/zalo"
IDS = ["adult", "young", "nobody", "tài-khoản", "a b", "x:y", "adult"]


@pytest.fixture
def bound(container: Container, app_client: TestClient, citizen: Citizen) -> Plat:
    zalo = add_platform(container, "zalo")
    add_platform(container, "fb")
    log_in(app_client, citizen)
    assert bind(app_client, zalo, "adult", sign_in(app_client, zalo)).status_code == 200
    young = make_citizen(container, "001211054321", "Trần Thị Bình", date(2011, 3, 4))
    with TestClient(app_client.app, base_url=BASE) as browser:
        log_in(browser, young)
        assert bind(browser, zalo, "young", sign_in(browser, zalo)).status_code == 200
    return zalo


@pytest.fixture
def clients(container: Container, bound: Plat) -> Iterator[tuple[TestClient, TestClient]]:
    fast = TestClient(create_app(container), base_url=BASE)
    plain = TestClient(create_app(container, status_fast_path=False), base_url=BASE)
    with fast, plain:
        yield fast, plain


def _both(clients: tuple[TestClient, TestClient], method: str, url: str, **kw: Any) -> Any:
    fast, plain = clients
    a, b = fast.request(method, url, **kw), plain.request(method, url, **kw)
    assert_same_response(a, b)
    return a


def test_single_lookups_answer_alike(clients: tuple[TestClient, TestClient], bound: Plat) -> None:
    answers = {}
    for account in IDS:
        got = _both(clients, "GET", f"{ZALO}/accounts/{account}/status", headers=bound.auth)
        assert got.status_code == 200
        answers[account] = got.json()
    assert answers["adult"]["verified"] is True
    assert answers["young"]["flags"] == ["PENDING_GUARDIAN"]
    assert answers["nobody"]["verified"] is False
    assert answers["tài-khoản"]["account_id"] == "tài-khoản"


def test_batch_calls_answer_alike(clients: tuple[TestClient, TestClient], bound: Plat) -> None:
    got = _both(
        clients, "POST", f"{ZALO}/accounts:status", json={"account_ids": IDS}, headers=bound.auth
    )
    assert got.status_code == 200
    assert [i["account_id"] for i in got.json()["items"]] == IDS
    assert [i["verified"] for i in got.json()["items"]] == [True, True] + [False] * 4 + [True]
    empty = _both(
        clients, "POST", f"{ZALO}/accounts:status", json={"account_ids": []}, headers=bound.auth
    )
    assert empty.content == b'{"items":[]}'
    # The body as it comes: extra members are ignored by both.
    body = json.dumps({"account_ids": ["adult"], "other": 1})
    extra = _both(
        clients,
        "POST",
        f"{ZALO}/accounts:status",
        content=body,
        headers=bound.auth | {"Content-Type": "application/json"},
    )
    assert extra.status_code == 200


KEYS = {
    "none": {},
    "not bearer": {"Authorization": "Basic eDp5"},
    "empty bearer": {"Authorization": "Bearer "},
    "unknown": {"Authorization": "Bearer dd_0123456789abcdef_nope"},
    "malformed": {"Authorization": "Bearer dd_x_y"},
}


@pytest.mark.parametrize("key", list(KEYS))
def test_bad_keys_are_refused_alike(clients: tuple[TestClient, TestClient], key: str) -> None:
    single = _both(clients, "GET", f"{ZALO}/accounts/adult/status", headers=KEYS[key])
    batch = _both(
        clients,
        "POST",
        f"{ZALO}/accounts:status",
        json={"account_ids": ["adult"]},
        headers=KEYS[key],
    )
    for got in (single, batch):
        assert got.status_code == 401
        assert got.json()["code"] == "unauthenticated"
        assert got.headers["www-authenticate"] == "Bearer"


def test_another_platform_and_a_platform_that_is_not_there_alike(
    clients: tuple[TestClient, TestClient], container: Container, bound: Plat
) -> None:
    for code in ("fb", "nowhere"):  # zalo's key, another code: forbidden
        got = _both(
            clients, "GET", f"/api/v1/platforms/{code}/accounts/adult/status", headers=bound.auth
        )
        assert got.status_code == 403
        assert got.json()["code"] == "forbidden"
        got = _both(
            clients,
            "POST",
            f"/api/v1/platforms/{code}/accounts:status",
            json={"account_ids": ["a"]},
            headers=bound.auth,
        )
        assert got.status_code == 403
    # A platform key scoped to a code no platform has.
    with container.unit_of_work() as s:
        _, token = create_api_key(
            s, "ghost", Role.PLATFORM, container.clock(), scope="ghost", owner="Ghost"
        )
    auth = {"Authorization": f"Bearer {token}"}
    got = _both(clients, "GET", "/api/v1/platforms/ghost/accounts/a/status", headers=auth)
    assert got.status_code == 404
    assert got.json()["code"] == "platform_not_found"
    got = _both(
        clients,
        "POST",
        "/api/v1/platforms/ghost/accounts:status",
        json={"account_ids": ["a"]},
        headers=auth,
    )
    assert got.status_code == 404
    # Another role's key reaches no platform.
    with container.unit_of_work() as s:
        _, admin = create_api_key(s, "admin", Role.ADMIN, container.clock(), owner="Ops")
    got = _both(
        clients,
        "GET",
        f"{ZALO}/accounts/adult/status",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert got.status_code == 403


def test_a_revoked_key_is_refused_alike(
    clients: tuple[TestClient, TestClient], container: Container, bound: Plat
) -> None:
    assert (
        _both(clients, "GET", f"{ZALO}/accounts/adult/status", headers=bound.auth).status_code
        == 200
    )
    with container.unit_of_work() as s:
        assert revoke_api_key(s, bound.key.split("_")[1], container.clock())
    got = _both(clients, "GET", f"{ZALO}/accounts/adult/status", headers=bound.auth)
    assert got.status_code == 401


BODIES: dict[str, tuple[bytes, str | None]] = {
    "over-long batch": (
        json.dumps({"account_ids": ["a"] * (MAX_BATCH + 1)}).encode(),
        "application/json",
    ),
    "not JSON": (b'{"account_ids": [', "application/json"),
    "not UTF-8": (b'{"account_ids": ["\xff"]}', "application/json"),
    "a string, not a list": (b'{"account_ids": "adult"}', "application/json"),
    "a number in the list": (b'{"account_ids": ["adult", 7]}', "application/json"),
    "no account_ids": (b'{"ids": ["adult"]}', "application/json"),
    "a list, not an object": (b'["adult"]', "application/json"),
    "empty body": (b"", "application/json"),
    "text/plain": (b'{"account_ids": ["adult"]}', "text/plain"),
    "no content type": (b'{"account_ids": ["adult"]}', None),
    "JSON with a charset": (b'{"account_ids": ["adult"]}', "application/json; charset=utf-8"),
    "+json": (b'{"account_ids": ["adult"]}', "application/vnd.x+json"),
}


@pytest.mark.parametrize("case", list(BODIES))
def test_batch_bodies_fastapi_refuses_or_takes_otherwise_answer_alike(
    clients: tuple[TestClient, TestClient], bound: Plat, case: str
) -> None:
    body, content_type = BODIES[case]
    headers = bound.auth | ({"Content-Type": content_type} if content_type else {})
    got = _both(clients, "POST", f"{ZALO}/accounts:status", content=body, headers=headers)
    if case == "over-long batch":
        assert got.status_code == 422
        assert got.json()["code"] == "validation_failed"
    elif case == "not UTF-8":
        assert got.status_code == 400
    elif case in ("JSON with a charset", "+json"):
        assert got.status_code == 200
    else:
        assert got.status_code == 422


def test_other_requests_answer_alike(clients: tuple[TestClient, TestClient], bound: Plat) -> None:
    for method, url in [
        ("GET", f"{ZALO}/accounts//status"),
        ("GET", f"{ZALO}/accounts/a/b/status"),
        ("GET", f"{ZALO}/accounts/a%2Fb/status"),
        ("HEAD", f"{ZALO}/accounts/adult/status"),
        ("POST", f"{ZALO}/accounts/adult/status"),
        ("GET", f"{ZALO}/accounts:status"),
        ("GET", "/api/v1/platforms//accounts/adult/status"),
    ]:
        _both(clients, method, url, headers=bound.auth)


def test_both_paths_count_every_read(
    clients: tuple[TestClient, TestClient], container: Container, bound: Plat
) -> None:
    fast, plain = clients
    for tc in (fast, plain):
        assert tc.get(f"{ZALO}/accounts/adult/status", headers=bound.auth).status_code == 200
        ids = {"account_ids": ["adult", "nobody", "young"]}
        assert tc.post(f"{ZALO}/accounts:status", json=ids, headers=bound.auth).status_code == 200
    with container.unit_of_work() as s:
        assert container.social.reads(s, "zalo", container.clock().date()) == 8


class Spy:
    """The app behind the fast path: records what reaches it, and the body it receives.
    (Alone, the fast path has no app to render errors with: the other tests compare those.)"""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        if scope["method"] == "POST":
            message = await receive()
            body = message.get("body", b"")
        self.seen.append((scope["method"], scope["path"], body))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_the_status_routes_never_reach_the_app_and_the_rest_all_do(
    container: Container, bound: Plat
) -> None:
    spy = Spy()
    tc = TestClient(StatusFastPath(spy, container, CapacityLimiter(1)), base_url=BASE)
    assert tc.get(f"{ZALO}/accounts/adult/status", headers=bound.auth).status_code == 200
    assert tc.get(f"{ZALO}/accounts/nobody/status", headers=bound.auth).status_code == 200
    ok = tc.post(f"{ZALO}/accounts:status", json={"account_ids": ["adult"]}, headers=bound.auth)
    assert ok.status_code == 200
    assert spy.seen == []
    bad = b'{"account_ids": 1}'
    passed = [
        tc.post(
            f"{ZALO}/accounts:status",
            content=bad,
            headers=bound.auth | {"Content-Type": "application/json"},
        ),
        tc.head(f"{ZALO}/accounts/adult/status", headers=bound.auth),
        tc.get(f"{ZALO}/accounts/adult", headers=bound.auth),
        tc.get(f"{ZALO}/events", headers=bound.auth),
        tc.get(f"{ZALO}/accounts//status", headers=bound.auth),
    ]
    assert [r.status_code for r in passed] == [299] * len(passed)
    assert spy.seen[0] == ("POST", f"{ZALO}/accounts:status", bad)  # the body given back whole
    assert len(spy.seen) == len(passed)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/platforms/zalo/accounts/a/status", ("zalo", "a")),
        ("POST", "/api/v1/platforms/zalo/accounts:status", ("zalo", None)),
        ("GET", "/api/v1/platforms/zalo/accounts/a/status/", None),
        ("GET", "/api/v1/platforms/zalo/accounts/status", None),
        ("POST", "/api/v1/platforms/zalo/accounts/a/status", None),
        ("GET", "/api/v1/platforms/zalo/accounts:status", None),
        ("POST", "/api/v1/platforms//accounts:status", None),
        ("PUT", "/api/v1/platforms/zalo/accounts/a/status", None),
    ],
)
def test_route(method: str, path: str, expected: tuple[str, str | None] | None) -> None:
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    assert route(scope) == expected
    assert route(scope | {"root_path": "/x"}) is None
