"""Endpoint parsing and membership (pure)."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.posture.targets import Target, TargetError, belongs, parse_endpoint


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("https://Portal.CucThue.gov.vn", Target("https", "portal.cucthue.gov.vn", 443)),
        ("http://127.10.0.1", Target("http", "127.10.0.1", 80)),
        ("tcp://127.10.0.1:6379", Target("tcp", "127.10.0.1", 6379)),
        ("https://[::1]:8443/", Target("https", "::1", 8443)),
        ("https://thuế.gov.vn", Target("https", "xn--thu-9jz.gov.vn", 443)),
    ],
)
def test_parse(raw: str, want: Target) -> None:
    assert parse_endpoint(raw) == want


@pytest.mark.parametrize(
    "raw",
    [
        "ftp://a.vn",
        "tcp://a.vn",
        "https://a.vn/x",
        "https://a.vn?q",
        "https://",
        "https://a.vn:0",
        "https://a.vn:70000",
    ],
)
def test_refused(raw: str) -> None:
    with pytest.raises(TargetError):
        parse_endpoint(raw)


@given(st.integers(0, 2**32 - 1), st.integers(1, 65535))
def test_an_address_belongs_only_to_a_block_holding_it(n: int, port: int) -> None:
    t = parse_endpoint(f"tcp://{IPv4Address(n)}:{port}")
    assert t.url == f"tcp://{IPv4Address(n)}:{port}"
    assert belongs(t, (), ["0.0.0.0/0"])
    inside = IPv4Address(n) in ip_network("127.0.0.0/8")
    assert belongs(t, (), ["127.0.0.0/8"]) is inside
    assert not belongs(t, ("gov.vn",), ())


def test_names_belong_to_their_domain_and_below() -> None:
    assert belongs(parse_endpoint("https://a.b.gov.vn"), ("b.gov.vn",), ())
    assert belongs(parse_endpoint("https://b.gov.vn"), ("b.gov.vn",), ())
    assert not belongs(parse_endpoint("https://ab.gov.vn"), ("b.gov.vn",), ())
    assert not belongs(parse_endpoint("https://b.gov.vn"), (), ["0.0.0.0/0"])
