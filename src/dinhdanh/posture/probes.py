"""Probes: what a registered endpoint or domain shows from outside, as observations for the
checks. The only module of the domain that opens connections; scan.py decides what it may
reach (registered endpoints only) and how often.

TLS is observed by sslyze in its own virtual environment (ADR 0013): sslyze pins an older
``cryptography`` than ours, so it runs as ``python -m sslyze --json_out=-`` and we read its
JSON. HTTP answers come from the standard library's ``http.client`` (one GET of ``/``,
redirects not followed, certificates not verified: the TLS checks judge those).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import dns.resolver
from checkdmarc.dmarc import check_dmarc  # type: ignore[import-untyped]
from checkdmarc.spf import check_spf  # type: ignore[import-untyped]

from dinhdanh.posture.checks.dns import DnsObservation
from dinhdanh.posture.checks.http import HttpObservation
from dinhdanh.posture.checks.ports import PortObservation
from dinhdanh.posture.checks.tls import SslyzeOutputError, TlsObservation, from_sslyze
from dinhdanh.posture.targets import Target

USER_AGENT = "dinhdanh-posture/1 (perimeter check of a registered system)"
SSLYZE_COMMANDS = (
    "--certinfo",
    "--sslv2",
    "--sslv3",
    "--tlsv1",
    "--tlsv1_1",
    "--tlsv1_2",
    "--tlsv1_3",
    "--elliptic_curves",
)


class ProbeError(Exception):
    """The target did not answer as a probe needs (refused, timed out, not TLS...)."""


def _http_get(target: Target, timeout: float) -> HttpObservation:
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=context
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"User-Agent": USER_AGENT, "Connection": "close"})
        resp = conn.getresponse()
        headers = tuple((k.lower(), v) for k, v in resp.getheaders())
        resp.read(65536)
        return HttpObservation(target.url, resp.status, headers)
    except (OSError, http.client.HTTPException) as exc:
        raise ProbeError(f"{target.url}: {exc}") from None
    finally:
        conn.close()


async def probe_http(target: Target, timeout: float) -> HttpObservation:
    return await asyncio.to_thread(_http_get, target, timeout)


@dataclass(frozen=True, slots=True)
class Sslyze:
    python: str  # the tool environment's interpreter
    ca_file: str | None  # passed to --certinfo_ca_file (sslyze's own verdict is not used)
    pq_testable: bool = False  # nassl's OpenSSL offers no hybrid PQ group (ADR 0013)


async def probe_tls(
    tool: Sslyze, targets: Sequence[Target], timeout: float
) -> dict[str, TlsObservation | ProbeError]:
    """One sslyze run for several targets (it scans them concurrently itself)."""
    by_server = {f"{t.host}:{t.port}": t for t in targets}
    args = [tool.python, "-m", "sslyze", "--json_out=-", *SSLYZE_COMMANDS]
    if tool.ca_file:
        args.append(f"--certinfo_ca_file={tool.ca_file}")
    proc = await asyncio.create_subprocess_exec(
        *args, *by_server, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout * max(4, len(targets)))
    except TimeoutError:
        await _stop(proc)
        return {t.url: ProbeError("sslyze timed out") for t in targets}
    except asyncio.CancelledError:  # the scanner's own budget ran out: no orphan process
        await asyncio.shield(_stop(proc))
        raise
    if proc.returncode != 0:
        why = ProbeError(f"sslyze failed: {err.decode(errors='replace')[-300:]}")
        return {t.url: why for t in targets}
    data: dict[str, Any] = json.loads(out)
    results: dict[str, TlsObservation | ProbeError] = {}
    for server in data.get("server_scan_results", []):
        loc = server["server_location"]
        t = by_server.get(f"{loc['hostname']}:{loc['port']}")
        if t is None:
            continue
        try:
            results[t.url] = from_sslyze(t.url, t.host, server, tool.pq_testable)
        except SslyzeOutputError as exc:
            results[t.url] = ProbeError(f"{t.url}: {str(exc)[-300:]}")
    for t in targets:
        results.setdefault(t.url, ProbeError(f"{t.url}: sslyze gave no result"))
    return results


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
    await proc.wait()


async def probe_port(host: str, port: int, timeout: float) -> PortObservation:
    """A TCP connect; for Redis and Elasticsearch, whether they answer without credentials."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return PortObservation(host, port, open=False)
    unauthenticated = False
    try:
        if port == 6379:
            writer.write(b"PING\r\n")
            await writer.drain()
            unauthenticated = (await asyncio.wait_for(reader.read(64), timeout)).startswith(
                b"+PONG"
            )
        elif port == 9200:
            writer.write(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(4096), timeout)
            unauthenticated = (
                answer.startswith(b"HTTP/1.")
                and b" 200 " in answer[:16]
                and b"cluster_name" in answer
            )
    except (OSError, TimeoutError):
        pass
    finally:
        writer.close()
    return PortObservation(host, port, open=True, unauthenticated=unauthenticated)


def resolver_for(address: str | None, timeout: float) -> dns.resolver.Resolver:
    """A resolver at ``IP`` or ``IP:PORT`` (settings.posture_resolver), or the system's."""
    if address is None:
        return dns.resolver.Resolver()
    r = dns.resolver.Resolver(configure=False)
    host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
    r.nameservers = [host]
    r.port = int(port) if port else 53
    r.lifetime = r.timeout = timeout
    return r


def _signed(domain: str, resolver: dns.resolver.Resolver, timeout: float) -> bool:
    query = dns.message.make_query(domain, dns.rdatatype.DNSKEY, want_dnssec=True)
    answer = dns.query.udp(query, str(resolver.nameservers[0]), timeout=timeout, port=resolver.port)
    if answer.flags & dns.flags.AD:
        return True
    types = {rrset.rdtype for rrset in answer.answer}
    return dns.rdatatype.DNSKEY in types and dns.rdatatype.RRSIG in types


def _dns(domain: str, resolver: dns.resolver.Resolver, timeout: float) -> DnsObservation:
    spf = check_spf(domain, resolver=resolver, timeout=timeout)
    dmarc: dict[str, Any] = dict(check_dmarc(domain, resolver=resolver, timeout=timeout))
    tags = (dmarc.get("tags") or {}).get("p") or {}
    try:
        signed = _signed(domain, resolver, timeout)
    except (OSError, dns.exception.DNSException) as exc:
        raise ProbeError(f"dns:{domain}: {exc}") from None
    return DnsObservation(
        domain,
        spf.get("record"),
        None if spf.get("valid") else str(spf.get("error")),
        tags.get("value") if dmarc.get("valid") else None,
        None if dmarc.get("valid") else str(dmarc.get("error")),
        signed,
    )


async def probe_dns(domain: str, resolver: dns.resolver.Resolver, timeout: float) -> DnsObservation:
    return await asyncio.to_thread(_dns, domain, resolver, timeout)
