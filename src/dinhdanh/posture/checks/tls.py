"""TLS checks on what sslyze observed (its JSON output, parsed here). Pure.

Trust is judged here with cryptography's X.509 path validation against the configured roots,
at a time inside the leaf's validity and for a name the leaf itself claims: so an expired,
an untrusted and a misnamed certificate are three separate findings, not one failure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from dinhdanh.posture.checks import Found, Severity

OBSOLETE = ("SSL_2_0", "SSL_3_0", "TLS_1_0", "TLS_1_1")
PROTOCOLS = (*OBSOLETE, "TLS_1_2", "TLS_1_3")
_RESULT_KEYS = {p: p.lower() + "_cipher_suites" for p in PROTOCOLS}
WEAK_PARTS = ("RC4", "_DES_", "3DES", "DES40", "NULL", "EXPORT", "_anon_", "MD5")
# Hybrid post-quantum groups (draft-ietf-tls-ecdhe-mlkem), by the names OpenSSL gives them.
PQ_GROUPS = frozenset({"X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024"})


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    key_size: int
    anonymous: bool


@dataclass(frozen=True, slots=True)
class TlsObservation:
    url: str
    host: str  # the endpoint's host name or address
    protocols: dict[str, bool]  # sslyze's name -> offered
    accepted: dict[str, tuple[Suite, ...]]
    chain: tuple[str, ...]  # PEM, leaf first, as the server sent it
    groups: tuple[str, ...]  # key-exchange groups the server accepted
    pq_testable: bool  # whether the probe's TLS library can offer a hybrid PQ group


class SslyzeOutputError(ValueError):
    pass


def _result(scan: dict[str, Any], key: str) -> dict[str, Any] | None:
    attempt = scan.get(key) or {}
    return attempt.get("result") if attempt.get("status") == "COMPLETED" else None


def from_sslyze(url: str, host: str, server: dict[str, Any], pq_testable: bool) -> TlsObservation:
    """One entry of sslyze's ``server_scan_results``. Raises SslyzeOutputError when the
    server could not be reached or the certificate could not be read."""
    if server.get("connectivity_status") != "COMPLETED":
        raise SslyzeOutputError(server.get("connectivity_error_trace") or "no TLS connection")
    scan = server.get("scan_result") or {}
    protocols: dict[str, bool] = {}
    accepted: dict[str, tuple[Suite, ...]] = {}
    for proto, key in _RESULT_KEYS.items():
        r = _result(scan, key)
        if r is None:
            continue
        protocols[proto] = bool(r["is_tls_version_supported"])
        accepted[proto] = tuple(
            Suite(
                a["cipher_suite"]["name"],
                int(a["cipher_suite"]["key_size"]),
                bool(a["cipher_suite"]["is_anonymous"]),
            )
            for a in r["accepted_cipher_suites"]
        )
    cert = _result(scan, "certificate_info")
    if not cert or not cert.get("certificate_deployments"):
        raise SslyzeOutputError("no certificate read")
    chain = tuple(
        c["as_pem"] for c in cert["certificate_deployments"][0]["received_certificate_chain"]
    )
    curves = _result(scan, "elliptic_curves") or {}
    groups = tuple(c["name"] for c in curves.get("supported_curves") or ())
    return TlsObservation(url, host, protocols, accepted, chain, groups, pq_testable)


def _names(leaf: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def name_matches(host: str, dns: Sequence[str], ips: Sequence[str]) -> bool:
    """RFC 6125: an address against the IP entries; a name against the DNS entries, with a
    wildcard only as the whole leftmost label, matching exactly one label."""
    try:
        return str(ipaddress.ip_address(host)) in ips
    except ValueError:
        pass
    host = host.lower().rstrip(".")
    for pattern in dns:
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host and host.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _trusted(
    chain: Sequence[x509.Certificate], roots: Store, dns: list[str], ips: list[str]
) -> str | None:
    """None when the chain leads to one of ``roots``; else why not."""
    leaf = chain[0]
    if dns:
        subject: x509.DNSName | x509.IPAddress = x509.DNSName(dns[0])
    elif ips:
        subject = x509.IPAddress(ipaddress.ip_address(ips[0]))
    else:
        return "no subjectAltName: no client accepts it"
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    at = start + (end - start) / 2  # inside the validity: expiry is its own finding
    verifier = PolicyBuilder().store(roots).time(at).build_server_verifier(subject)
    try:
        verifier.verify(leaf, list(chain[1:]))
    except VerificationError as exc:
        return str(exc)
    return None


def _key(leaf: x509.Certificate) -> tuple[str, int, bool]:
    """(type, size, weak) of the leaf's public key."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, key.key_size < 2048
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}", key.key_size, key.key_size < 256
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return type(key).__name__.removesuffix("PublicKey"), 0, False
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, True
    return type(key).__name__, 0, True


def check_tls(obs: TlsObservation, roots: Store, now: datetime, warn_days: int = 30) -> list[Found]:
    url, found = obs.url, []
    old = [p for p in OBSOLETE if obs.protocols.get(p)]
    if old:
        found.append(Found("TLS_PROTOCOL_OBSOLETE", Severity.HIGH, url, {"protocols": old}))
    weak = sorted(
        {
            s.name
            for suites in obs.accepted.values()
            for s in suites
            if s.anonymous or s.key_size < 128 or any(w in s.name for w in WEAK_PARTS)
        }
    )
    if weak:
        found.append(Found("TLS_CIPHER_WEAK", Severity.HIGH, url, {"suites": weak}))
    chain = [x509.load_pem_x509_certificate(p.encode()) for p in obs.chain]
    leaf = chain[0]
    end = leaf.not_valid_after_utc
    if end <= now:
        found.append(Found("CERT_EXPIRED", Severity.CRITICAL, url, {"not_after": end.isoformat()}))
    elif end - now < timedelta(days=warn_days):
        days = (end - now).days
        evidence = {"not_after": end.isoformat(), "days_left": days}
        found.append(Found("CERT_EXPIRING", Severity.MEDIUM, url, evidence))
    dns, ips = _names(leaf)
    why = _trusted(chain, roots, dns, ips)
    if why is not None:
        evidence = {"reason": why, "issuer": leaf.issuer.rfc4514_string()}
        found.append(Found("CERT_UNTRUSTED", Severity.HIGH, url, evidence))
    if not name_matches(obs.host, dns, ips):
        evidence = {"host": obs.host, "dns_names": dns, "ip_addresses": ips}
        found.append(Found("CERT_HOSTNAME_MISMATCH", Severity.HIGH, url, evidence))
    kind, size, is_weak = _key(leaf)
    if is_weak:
        found.append(Found("CERT_KEY_WEAK", Severity.HIGH, url, {"key": kind, "bits": size}))
    if not PQ_GROUPS & set(obs.groups):
        if obs.pq_testable:
            found.append(
                Found("TLS_PQ_HYBRID_MISSING", Severity.LOW, url, {"groups": list(obs.groups)})
            )
        else:
            evidence = {"reason": "the probe's TLS library cannot offer a hybrid PQ group"}
            found.append(Found("TLS_PQ_HYBRID_UNKNOWN", Severity.INFO, url, evidence))
    return found


def load_roots(pem: bytes) -> Store:
    return Store(x509.load_pem_x509_certificates(pem))
