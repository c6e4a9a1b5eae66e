"""Email and DNS checks through a local DNS server (dnslib) with chosen answers, and risky
ports against local listeners."""

from __future__ import annotations

import pytest

from dinhdanh.posture import aio
from dinhdanh.posture.checks.dns import check_dns
from dinhdanh.posture.checks.ports import RISKY_PORTS, PortObservation, check_port
from dinhdanh.posture.probes import probe_dns, probe_port, resolver_for
from tests.posture.servers import Zone, dns_server, free_port, redis_like

ZONES = {
    "good.gov.vn": Zone(
        spf="v=spf1 ip4:127.10.0.0/16 -all",
        dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@good.gov.vn",
        signed=True,
    ),
    "weak.gov.vn": Zone(spf="v=spf1 ip4:127.10.0.0/16 -all", dmarc="v=DMARC1; p=none"),
    "bare.gov.vn": Zone(),
}


@pytest.fixture(scope="module")
def resolver():  # type: ignore[no-untyped-def]
    with dns_server(ZONES) as address:
        yield resolver_for(address, timeout=3)


def codes(domain: str, resolver) -> list[str]:  # type: ignore[no-untyped-def]
    obs = aio.run(probe_dns(domain, resolver, timeout=3))
    return sorted(f.code for f in check_dns(obs))


def test_good_domain_passes(resolver) -> None:  # type: ignore[no-untyped-def]
    assert codes("good.gov.vn", resolver) == []


def test_weak_dmarc_and_unsigned(resolver) -> None:  # type: ignore[no-untyped-def]
    assert codes("weak.gov.vn", resolver) == ["DMARC_WEAK", "DNSSEC_MISSING"]


def test_nothing_published(resolver) -> None:  # type: ignore[no-untyped-def]
    assert codes("bare.gov.vn", resolver) == ["DMARC_WEAK", "DNSSEC_MISSING", "SPF_MISSING"]


def run_port(host: str, port: int) -> PortObservation:
    return aio.run(probe_port(host, port, timeout=2))


def test_open_redis_without_auth_is_critical() -> None:
    risky = frozenset({*RISKY_PORTS})
    with redis_like("127.10.3.1", auth=False) as port:
        obs = run_port("127.10.3.1", port)
    assert obs.open
    assert obs.unauthenticated is False  # not on 6379: only the connect is judged
    assert check_port(obs, risky) == []  # an unlisted port is nobody's business here
    found = check_port(obs, frozenset({port}))
    assert [(f.code, f.severity) for f in found] == [("RISKY_PORT_OPEN", "high")]


def test_redis_answer_decides_severity() -> None:
    # Root may bind 6379 on a loopback address of its own; the probe speaks Redis there.
    for auth, severity in ((False, "critical"), (True, "high")):
        try:
            with redis_like("127.10.3.2", auth=auth, port=6379) as port:
                found = check_port(run_port("127.10.3.2", port), frozenset(RISKY_PORTS))
        except PermissionError:
            pytest.skip("cannot bind port 6379")
        assert [(f.code, f.severity) for f in found] == [("RISKY_PORT_OPEN", severity)]


def test_closed_port_passes() -> None:
    port = free_port("127.10.3.3")
    obs = run_port("127.10.3.3", port)
    assert not obs.open
    assert check_port(obs, frozenset({port})) == []
