"""Endpoints as written on the command line (``https://host:port``, ``http://host``,
``tcp://host:port``), and whether a host belongs to a system's registered resources. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import ip_address, ip_network
from urllib.parse import urlsplit

from dinhdanh.internet.ipindex import Address, Network
from dinhdanh.internet.names import DomainNameError, parse_host

SCHEMES = {"https": 443, "http": 80, "tcp": None}


class TargetError(ValueError):
    pass


@dataclass(frozen=True, slots=True, order=True)
class Target:
    scheme: str  # https | http | tcp
    host: str  # A-labels, or an address in its compressed form
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def address(self) -> Address | None:
        try:
            return ip_address(self.host)
        except ValueError:
            return None


def parse_endpoint(raw: str) -> Target:
    """Raises TargetError naming what is wrong. Paths, queries and credentials are refused:
    an endpoint is a service, not a page."""
    text = raw.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise TargetError(f"{raw!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise TargetError(f"{raw!r}: the scheme must be https, http or tcp")
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query:
        raise TargetError(f"{raw!r}: give scheme://host:port only")
    if not parts.hostname:
        raise TargetError(f"{raw!r}: no host")
    if port is None:
        port = SCHEMES[scheme]
    if port is None or not 0 < port < 65536:
        raise TargetError(f"{raw!r}: a tcp endpoint needs a port (1-65535)")
    return Target(scheme, _host(parts.hostname, raw), port)


def _host(hostname: str, raw: str) -> str:
    try:
        return str(ip_address(hostname))
    except ValueError:
        pass
    try:
        return parse_host(hostname)
    except DomainNameError as exc:
        raise TargetError(f"{raw!r}: {exc}") from None


def under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def belongs(target: Target, domains: Iterable[str], blocks: Iterable[str]) -> bool:
    """A name under one of the system's domains, or an address in one of its blocks."""
    address = target.address
    if address is None:
        return any(under(target.host, d) for d in domains)
    nets: list[Network] = [ip_network(b) for b in blocks]
    return any(address.version == n.version and address in n for n in nets)
