"""The fast paths read headers from the ASGI scope as Starlette's ``Headers`` would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from dinhdanh.web.scope import header

NAMES = st.sampled_from([b"host", b"authorization", b"content-length", b"x-a"])
PAIRS = st.lists(st.tuples(NAMES, st.binary(max_size=8)), max_size=6)


@given(PAIRS, NAMES)
def test_header_agrees_with_starlette(pairs: list[tuple[bytes, bytes]], name: bytes) -> None:
    scope = {"type": "http", "headers": pairs}
    found = Headers(scope=scope).get(name.decode())
    assert header(scope, name) == (None if found is None else found.encode("latin-1"))


def test_the_first_value_wins_and_comes_back_as_bytes() -> None:
    scope = {"headers": [(b"host", bytearray(b"a")), (b"host", b"b")]}
    assert header(scope, b"host") == b"a"
    assert type(header(scope, b"host")) is bytes
    assert header(scope, b"authorization") is None
