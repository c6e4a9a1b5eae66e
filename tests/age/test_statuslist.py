"""Token Status List: the bit string (draft vector, properties), random allocation, storage on
every database, the signed token and the verifier's cache."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.age.credentials.errors import StatusListNotFound, StatusUnavailable
from dinhdanh.age.credentials.keys import IssuerKeys
from dinhdanh.age.statuslist import (
    INVALID,
    MEDIA_TYPE,
    VALID,
    StatusListCache,
    StatusLists,
    compress,
    decompress,
    draw,
    read_token,
    set_bit,
    status_at,
)
from dinhdanh.crypto import KeyRing
from dinhdanh.crypto.compact import b64url, decode
from dinhdanh.crypto.jose import SigningKey, sign_jwt
from dinhdanh.wiring import Container
from tests.age.conftest import RFC9901

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ISSUER = "https://id.example.vn"


def test_draft_example_list() -> None:
    v = RFC9901["status_list"]
    lst = decompress(v["lst"])
    assert [status_at(lst, i, v["bits"]) for i in range(len(v["statuses"]))] == v["statuses"]
    assert decompress(compress(lst)) == lst


@given(st.integers(min_value=1, max_value=4096).map(lambda n: n * 8), st.data())
def test_flipping_one_bit_changes_that_status_only(size: int, data: st.DataObject) -> None:
    before = data.draw(st.binary(min_size=size // 8, max_size=size // 8))
    idx = data.draw(st.integers(min_value=0, max_value=size - 1))
    after = bytearray(before)
    was_clear = set_bit(after, idx)
    assert was_clear == (status_at(before, idx) == VALID)
    assert status_at(bytes(after), idx) == INVALID
    assert all(status_at(bytes(after), i) == status_at(before, i) for i in range(size) if i != idx)
    assert decompress(compress(bytes(after))) == bytes(after)


@given(st.binary(max_size=2000))
def test_compression_round_trip(data: bytes) -> None:
    assert decompress(compress(data)) == data


def test_decompression_refuses_bombs_and_garbage() -> None:
    bomb = b64url(zlib.compress(bytes(1 << 20)))
    with pytest.raises(ValueError, match="larger"):
        decompress(bomb, limit=1 << 16)
    with pytest.raises(ValueError, match="not base64url ZLIB"):
        decompress("not*base64")
    with pytest.raises(ValueError, match="not base64url ZLIB"):
        decompress(b64url(b"\x00\x01 not zlib"))


def test_status_outside_the_list_is_an_error() -> None:
    with pytest.raises(IndexError):
        status_at(bytes(2), 16)
    with pytest.raises(IndexError):
        status_at(bytes(2), -1)


def test_draws_are_without_replacement_to_the_last_index() -> None:
    size = 256
    taken = bytearray(size // 8)
    drawn = [draw(taken, size, n) for n in range(size)]
    assert sorted(drawn) == list(range(size))
    assert drawn != sorted(drawn)  # not in order (chance of order: 1/256!)
    with pytest.raises(ValueError, match="full"):
        draw(taken, size, size)


def test_draws_are_spread_over_the_whole_list() -> None:
    size = 131_072
    taken = bytearray(size // 8)
    drawn = [draw(taken, size, n) for n in range(1000)]
    assert len(set(drawn)) == 1000
    # Each quarter of the list gets some: a sequential allocator would fill the first only.
    assert all(any(q * size // 4 <= i < (q + 1) * size // 4 for i in drawn) for q in range(4))


# -- storage on every database --------------------------------------------------------------


def lists_of(c: Container, size: int = 64) -> StatusLists:
    return StatusLists(c.settings.effective_issuer, IssuerKeys(c.ring).signer("EdDSA"), size, 300)


def test_allocation_fills_a_list_then_opens_another(container: Container) -> None:
    lists = lists_of(container, size=64)
    with container.unit_of_work() as s:
        first = lists.allocate(s, 60, NOW)
    with container.unit_of_work() as s:
        second = lists.allocate(s, 10, NOW)
    assert {lst for lst, _ in first} == {1}
    assert [lst for lst, _ in second] == [1] * 4 + [2] * 6
    in_first = [i for lst, i in first + second if lst == 1]
    assert sorted(in_first) == list(range(64))  # every index once, none twice


def test_revoking_flips_one_bit_and_the_token_says_so(container: Container) -> None:
    lists = lists_of(container, size=1024)
    with container.unit_of_work() as s:
        entries = lists.allocate(s, 5, NOW)
    (list_id, idx), other = entries[0], entries[1]
    with container.unit_of_work() as s:
        assert lists.revoke(s, [(list_id, idx)], NOW) == 1
    with container.unit_of_work() as s:
        assert lists.revoke(s, [(list_id, idx)], NOW) == 0  # already revoked
        assert lists.status(s, list_id, idx) == INVALID
        assert lists.status(s, *other) == VALID
        token = lists.token(s, list_id, NOW)
    bits, lst, ttl = read_token(
        token, lists.uri(list_id), IssuerKeys(container.ring).verifying, NOW
    )
    assert (bits, ttl) == (1, 300)
    assert [i for i in range(1024) if status_at(lst, i)] == [idx]


def test_unknown_lists_are_not_found(container: Container) -> None:
    lists = lists_of(container)
    with container.unit_of_work() as s:
        with pytest.raises(StatusListNotFound):
            lists.token(s, 99, NOW)
        with pytest.raises(StatusListNotFound):
            lists.revoke(s, [(99, 0)], NOW)
        with pytest.raises(StatusListNotFound):
            lists.token_for_uri(s, "https://elsewhere.example/status-lists/1", NOW)


def test_status_list_endpoint_serves_the_signed_token(
    container: Container, app_client: TestClient
) -> None:
    service = container.age_credentials
    with container.unit_of_work() as s:
        ((list_id, idx),) = service.lists.allocate(s, 1, container.clock())
        service.lists.revoke(s, [(list_id, idx)], container.clock())
    r = app_client.get(f"/status-lists/{list_id}")
    assert r.status_code == 200
    assert r.headers["content-type"] == MEDIA_TYPE
    assert r.headers["cache-control"] == "public, max-age=300"
    token = decode(r.text)
    claims = token.claims()
    assert token.header["typ"] == "statuslist+jwt"
    issuer = container.settings.effective_issuer
    assert claims["sub"] == service.lists.uri(list_id) == f"{issuer}/status-lists/{list_id}"
    assert claims["exp"] > claims["iat"]
    assert claims["ttl"] == 300
    lst = decompress(claims["status_list"]["lst"])
    assert len(lst) * 8 == container.settings.age_status_list_size >= 100_000
    assert status_at(lst, idx) == INVALID
    missing = app_client.get("/status-lists/999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "status_list_not_found"
    for nonsense in ("0", "-1", "99999999999999999999", "one"):
        r = app_client.get(f"/status-lists/{nonsense}")
        assert r.status_code == 422, nonsense
        assert r.json()["code"] == "validation_failed"


# -- the verifier's cache -------------------------------------------------------------------


def _token(key: SigningKey, uri: str, lst: bytes, **claims: object) -> str:
    iat = int(NOW.timestamp())
    body = {"sub": uri, "iat": iat, "exp": iat + 3600, "ttl": 60}
    body |= {"status_list": {"bits": 1, "lst": compress(lst)}} | claims
    return sign_jwt(body, key, typ="statuslist+jwt")


def test_cache_fetches_once_per_ttl(ring: KeyRing) -> None:
    keys = IssuerKeys(ring)
    uri = ISSUER + "/status-lists/1"
    bits = bytearray(16)
    fetched: list[str] = []

    def fetch(u: str) -> str:
        fetched.append(u)
        return _token(keys.signer("EdDSA"), u, bytes(bits))

    cache = StatusListCache(fetch, keys.verifying, max_age=300)
    assert cache(uri, 3, NOW) == VALID
    set_bit(bits, 3)
    assert cache(uri, 3, NOW + timedelta(seconds=59)) == VALID  # cached for ttl (60 s)
    assert cache(uri, 3, NOW + timedelta(seconds=61)) == INVALID
    assert fetched == [uri, uri]
    cache.forget()
    assert cache(uri, 2, NOW + timedelta(seconds=62)) == VALID
    assert len(fetched) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sub": ISSUER + "/status-lists/2"}, "another list"),
        ({"exp": int(NOW.timestamp()) - 1}, "expired"),
        ({"iat": int(NOW.timestamp()) + 3600}, "iat"),
        ({"ttl": -5}, "ttl"),
        ({"status_list": {"bits": 3, "lst": compress(bytes(2))}}, "status_list"),
        ({"status_list": {"bits": 1, "lst": "bm90IHpsaWI"}}, "compressed"),
    ],
)
def test_cache_refuses_bad_tokens(ring: KeyRing, change: dict[str, object], message: str) -> None:
    keys = IssuerKeys(ring)
    uri = ISSUER + "/status-lists/1"
    token = _token(keys.signer("EdDSA"), uri, bytes(2), **change)
    cache = StatusListCache(lambda _u: token, keys.verifying)
    with pytest.raises(StatusUnavailable, match=message):
        cache(uri, 0, NOW)


def test_cache_refuses_a_token_signed_by_anyone_else(ring: KeyRing) -> None:
    keys = IssuerKeys(ring)
    uri = ISSUER + "/status-lists/1"
    impostor = SigningKey.from_ed25519_seed(keys.signer("EdDSA").kid, bytes(32))
    cache = StatusListCache(lambda _u: _token(impostor, uri, bytes(2)), keys.verifying)
    with pytest.raises(StatusUnavailable, match="signed"):
        cache(uri, 0, NOW)
    wrong_typ = sign_jwt({"sub": uri}, keys.signer("EdDSA"), typ="JWT")
    with pytest.raises(StatusUnavailable, match="typed"):
        StatusListCache(lambda _u: wrong_typ, keys.verifying)(uri, 0, NOW)


def test_cache_reports_fetch_failures_and_indexes_outside(ring: KeyRing) -> None:
    keys = IssuerKeys(ring)
    uri = ISSUER + "/status-lists/1"

    def down(_u: str) -> str:
        raise OSError("connection refused")

    with pytest.raises(StatusUnavailable, match="fetched"):
        StatusListCache(down, keys.verifying)(uri, 0, NOW)
    small = StatusListCache(lambda u: _token(keys.signer("EdDSA"), u, bytes(2)), keys.verifying)
    with pytest.raises(StatusUnavailable, match="outside"):
        small(uri, 16, NOW)
