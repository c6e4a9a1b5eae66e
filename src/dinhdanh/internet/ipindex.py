"""IP blocks as comparable bounds, and the longest-prefix index over them.

Every block is stored with its family (4 or 6), its first and last address as 16-byte
big-endian values (an IPv4 address in the low four bytes) and its prefix length. Bytes of one
width compare as the numbers do, in SQLite (memcmp) and PostgreSQL (bytea) alike, so one
B-tree index on ``(family, start)`` serves both families.

Two CIDR blocks are either disjoint or one holds the other. So the blocks that hold an address
are among its W + 1 supernets (W = 32 or 128), each identified by its start and length: the
longest matching prefix is one indexed ``start IN (...)`` probe per distinct supernet start,
``O(W log n)``, which for a fixed address width is ``O(log n)``, with no per-process cache to
keep in step across server processes (`ancestor_starts`). `PrefixIndex` is the same idea in
memory, used while an import checks overlaps, plus a sorted list (bisect) for the blocks a new
block would hold.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from dinhdanh.store.feeds import Reason

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address
WIDTH = 16  # bytes of a stored bound, for both families


class CidrError(ValueError):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason


def parse_cidr(raw: str | None) -> Network:
    """A block in CIDR notation, strict: host bits set (``10.0.0.1/8``) is an error, not a
    silent ``10.0.0.0/8``. Raises CidrError(cidr_invalid)."""
    text = (raw or "").strip()
    if "/" not in text:
        raise CidrError(Reason("cidr_invalid", f"{text!r} is not in CIDR notation (a.b.c.d/n)"))
    try:
        return ip_network(text, strict=True)
    except ValueError as exc:
        raise CidrError(Reason("cidr_invalid", f"{text!r}: {exc}")) from None


def parse_address(raw: str) -> Address:
    """Raises ValueError on anything but one IPv4 or IPv6 address."""
    return ip_address(raw.strip())


def packed(value: int) -> bytes:
    return value.to_bytes(WIDTH, "big")


@dataclass(frozen=True, slots=True)
class Bounds:
    family: int
    start: bytes
    end: bytes
    prefixlen: int


def bounds(net: Network) -> Bounds:
    return Bounds(
        net.version,
        packed(int(net.network_address)),
        packed(int(net.broadcast_address)),
        net.prefixlen,
    )


def _width(family: int) -> int:
    return 32 if family == 4 else 128


def _supernet_start(value: int, family: int, length: int) -> int:
    shift = _width(family) - length
    return (value >> shift) << shift


def as_network(target: Address | Network) -> Network:
    """An address as the one-address block (/32 or /128)."""
    if isinstance(target, IPv4Address | IPv6Address):
        return ip_network(target)
    return target


def ancestor_starts(target: Address | Network) -> list[bytes]:
    """The distinct starts of every block that could hold ``target``: its supernets at every
    prefix length up to its own (itself included)."""
    net = as_network(target)
    value = int(net.network_address)
    starts = {_supernet_start(value, net.version, n) for n in range(net.prefixlen + 1)}
    return [packed(s) for s in sorted(starts)]


@dataclass(slots=True)
class PrefixIndex:
    """Blocks and their holders, in memory: exact blocks in a dict, starts in sorted lists."""

    _holder: dict[tuple[int, int, int], str] = field(default_factory=dict)
    _starts: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: {4: [], 6: []})
    _lengths: dict[int, set[int]] = field(default_factory=lambda: {4: set(), 6: set()})

    def __len__(self) -> int:
        return len(self._holder)

    def add(self, net: Network, holder: str) -> None:
        """Add a block, or give an existing one its new holder."""
        key = (net.version, int(net.network_address), net.prefixlen)
        if key not in self._holder:
            insort(self._starts[net.version], key[1:])
            self._lengths[net.version].add(net.prefixlen)
        self._holder[key] = holder

    def holder(self, net: Network) -> str | None:
        return self._holder.get((net.version, int(net.network_address), net.prefixlen))

    def longest(self, target: Address | Network) -> tuple[Network, str] | None:
        """The most specific block holding ``target`` (an address or a block), and its holder."""
        net = as_network(target)
        family, value = net.version, int(net.network_address)
        for length in sorted(self._lengths[family], reverse=True):
            if length > net.prefixlen:
                continue
            start = _supernet_start(value, family, length)
            holder = self._holder.get((family, start, length))
            if holder is not None:
                return _network(family, start, length), holder
        return None

    def conflict(self, net: Network, holder: str) -> tuple[Network, str] | None:
        """A block of another holder that ``net`` would overlap: one holding it, or one it
        holds (the most specific holding it first). The block ``net`` itself (being
        re-stated or transferred) does not count."""
        family, value = net.version, int(net.network_address)
        for length in sorted(self._lengths[family], reverse=True):
            if length >= net.prefixlen:
                continue
            start = _supernet_start(value, family, length)
            other = self._holder.get((family, start, length))
            if other is not None and other != holder:
                return _network(family, start, length), other
        last = int(net.broadcast_address)
        starts = self._starts[family]
        lo = bisect_left(starts, (value, net.prefixlen + 1))
        hi = bisect_right(starts, (last, _width(family)))
        for start, length in starts[lo:hi]:
            other = self._holder[(family, start, length)]
            if other != holder:
                return _network(family, start, length), other
        return None


def _network(family: int, start: int, length: int) -> Network:
    if family == 4:
        return IPv4Network((start, length))
    return IPv6Network((start, length))
