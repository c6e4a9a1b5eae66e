"""The prefix index against a brute-force oracle: longest matching prefix and overlap, in
memory and in the database (`Internet.ip_block`) on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from dinhdanh.internet.ipindex import (
    Address,
    CidrError,
    Network,
    PrefixIndex,
    ancestor_starts,
    bounds,
    parse_cidr,
)
from dinhdanh.internet.models import IpBlock
from dinhdanh.internet.resources import IpBlockFeed
from dinhdanh.wiring import Container

HOLDERS = ("0100233488", "0314409058", "0101234565")


# Small address spaces, so that random blocks nest and collide often.
def v4_blocks() -> st.SearchStrategy[Network]:
    return st.builds(
        lambda value, length: IPv4Network((0x0A000000 | value, length), strict=False),
        st.integers(0, 0xFFFF),
        st.integers(16, 32),
    )


def v6_blocks() -> st.SearchStrategy[Network]:
    return st.builds(
        lambda value, length: IPv6Network(((0x2402 << 112) | (value << 96), length), strict=False),
        st.integers(0, 0xFFFF),
        st.integers(16, 40),
    )


blocks = st.one_of(v4_blocks(), v6_blocks())
addresses = st.one_of(
    st.integers(0, 0xFFFF).map(lambda v: ip_address(0x0A000000 | (v << 0))),
    st.integers(0, 0xFFFF).map(lambda v: ip_address((0x2402 << 112) | (v << 96) | 1)),
)
allocations = st.lists(st.tuples(blocks, st.sampled_from(HOLDERS)), max_size=25)


def oracle_longest(stored: dict[Network, str], target: Address | Network) -> Network | None:
    net = ip_network(target)
    holding = [n for n in stored if n.version == net.version and net.subnet_of(n)]  # type: ignore[arg-type]
    return max(holding, key=lambda n: n.prefixlen, default=None)


def oracle_conflict(stored: dict[Network, str], net: Network, holder: str) -> bool:
    return any(
        n.version == net.version and n != net and n.overlaps(net) and h != holder  # type: ignore[arg-type]
        for n, h in stored.items()
    )


def build(items: list[tuple[Network, str]]) -> tuple[PrefixIndex, dict[Network, str]]:
    """What an import keeps: each block unless it overlaps another holder's before it."""
    index, stored = PrefixIndex(), {}
    for net, holder in items:
        assert (index.conflict(net, holder) is not None) == oracle_conflict(stored, net, holder)
        if index.conflict(net, holder) is None:
            index.add(net, holder)
            stored[net] = holder
    return index, stored


@given(allocations, st.lists(st.one_of(addresses, blocks), max_size=20))
def test_longest_prefix_and_overlap_match_the_oracle(
    items: list[tuple[Network, str]], targets: list[Address | Network]
) -> None:
    index, stored = build(items)
    assert len(index) == len(stored)
    for target in targets:
        found = index.longest(target)
        expected = oracle_longest(stored, target)
        assert (found[0] if found else None) == expected
        if found:
            assert found[1] == stored[found[0]]


@given(allocations)
def test_the_stored_blocks_of_different_holders_never_overlap(
    items: list[tuple[Network, str]],
) -> None:
    _, stored = build(items)
    nets = list(stored.items())
    for i, (a, ha) in enumerate(nets):
        for b, hb in nets[i + 1 :]:
            if ha != hb and a.version == b.version:
                assert not a.overlaps(b)  # type: ignore[arg-type]


def test_hand_cases() -> None:
    index = PrefixIndex()
    index.add(parse_cidr("10.0.0.0/8"), "A")
    index.add(parse_cidr("10.1.0.0/16"), "A")  # a sub-allocation of its own: fine
    assert index.conflict(parse_cidr("10.1.2.0/24"), "A") is None
    assert index.conflict(parse_cidr("10.1.2.0/24"), "B") == (parse_cidr("10.1.0.0/16"), "A")
    assert index.conflict(parse_cidr("0.0.0.0/0"), "B") == (parse_cidr("10.0.0.0/8"), "A")
    assert index.conflict(parse_cidr("11.0.0.0/8"), "B") is None
    assert index.conflict(parse_cidr("10.0.0.0/8"), "B") == (parse_cidr("10.1.0.0/16"), "A")
    got = index.longest(ip_address("10.2.0.1"))
    assert got == (parse_cidr("10.0.0.0/8"), "A")  # the predecessor 10.1/16 does not hold it
    assert index.longest(ip_address("10.1.255.255")) == (parse_cidr("10.1.0.0/16"), "A")
    assert index.longest(ip_address("192.0.2.1")) is None
    assert index.longest(ip_address("::a01:1")) is None  # another family, same low bits


@pytest.mark.parametrize("raw", ["10.0.0.1/8", "10.0.0.0", "10.0.0.0/33", "2001:db8::1/32", "x/8"])
def test_strict_cidr(raw: str) -> None:
    with pytest.raises(CidrError) as caught:
        parse_cidr(raw)
    assert caught.value.reason.code == "cidr_invalid"


def test_bounds_are_16_bytes_and_compare_as_numbers() -> None:
    low, high = bounds(parse_cidr("9.255.255.0/24")), bounds(parse_cidr("10.0.0.0/8"))
    assert len(low.start) == len(low.end) == 16
    assert low.end < high.start
    assert bounds(parse_cidr("::/0")).end == b"\xff" * 16
    # /0 to /32 give one start more per bit set in 10.1.2.3 (six of them), plus 0.0.0.0
    assert len(ancestor_starts(ip_address("10.1.2.3"))) == 7


NOW = datetime(2026, 6, 1, tzinfo=UTC)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(allocations, st.lists(st.one_of(addresses, blocks), min_size=1, max_size=10))
def test_the_database_lookup_matches_the_oracle(
    container: Container, items: list[tuple[Network, str]], targets: list[Address | Network]
) -> None:
    _, stored = build(items)
    rows = [(str(n), h, "", "", "allocated") for n, h in stored.items()]
    feed = IpBlockFeed()
    records = [feed.check(dict(zip(feed.columns, r, strict=True)), NOW.date()) for r in rows]
    with container.unit_of_work() as s:
        s.execute(delete(IpBlock))
        seen = container.internet.blocks_generation(s)  # stored as screened: no recheck
        container.internet.apply_ip_blocks(s, feed.prepare(records), NOW, seen)  # type: ignore[arg-type]
    with container.unit_of_work() as s:
        for target in targets:
            found = container.internet.ip_block(s, target)
            expected = oracle_longest(stored, target)
            assert (found.cidr if found else None) == (str(expected) if expected else None)
            assert container.internet.ip_block(s, str(target)) == found
