"""Local servers with chosen good and bad configurations, on 127.0.0.0/8 only: certificates
made here with ``cryptography``, HTTP(S) servers with and without security headers, a DNS
server (dnslib) with chosen SPF, DMARC and DNSSEC answers, and a Redis look-alike."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from dnslib import DNSKEY, QTYPE, RR, RRSIG, TXT, A  # type: ignore[import-untyped]
from dnslib.server import BaseResolver, DNSServer  # type: ignore[import-untyped]

NOW = datetime.now(UTC)
Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: Key

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def write(self, directory: Path, name: str, chain: Sequence[Issued] = ()) -> tuple[Path, Path]:
        cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
        cert_path.write_bytes(self.pem() + b"".join(c.pem() for c in chain))
        key_path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str = "Test Root CA") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=365))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_leaf(
    names: Sequence[str],
    issuer: Issued | None,
    *,
    days: tuple[int, int] = (-10, 365),
    key: Key | None = None,
) -> Issued:
    """A server certificate for ``names`` (DNS names or addresses), valid from ``days[0]``
    to ``days[1]`` days from now; self-signed when ``issuer`` is None."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0] if names else "no-san"))
        .issuer_name(issuer.cert.subject if issuer else _name(names[0] if names else "no-san"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + timedelta(days=days[0]))
        .not_valid_after(NOW + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if issuer:
        ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    return Issued(builder.sign(signer, hashes.SHA256()), key)


GOOD_HEADERS = (
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Set-Cookie", "sid=abc; Secure; HttpOnly; SameSite=Lax"),
)
BAD_HEADERS = (
    ("Server", "Apache/2.4.49 (Unix)"),
    ("Set-Cookie", "sid=abc; Path=/"),
)


def _handler(status: int, headers: Sequence[tuple[str, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def version_string(self) -> str:  # no "BaseHTTP/0.6 Python/3.x" unless asked
            return ""

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "server" and not value:
                return
            super().send_header(keyword, value)

        def do_GET(self) -> None:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def tls_context(
    cert: Path, key: Path, *, versions: tuple[ssl.TLSVersion, ssl.TLSVersion] | None = None,
    ciphers: str | None = None,
) -> ssl.SSLContext:  # fmt: skip
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if versions:
        with warnings.catch_warnings():  # an obsolete server on purpose
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version, ctx.maximum_version = versions
    if ciphers:
        ctx.set_ciphers(ciphers)
    ctx.load_cert_chain(cert, key)
    return ctx


@contextmanager
def http_server(
    host: str,
    *,
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
    context: ssl.SSLContext | None = None,
    port: int | None = None,
) -> Iterator[int]:
    """An HTTP (or, with ``context``, HTTPS) server on ``host``; yields its port."""
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((host, port or free_port(host)), _handler(status, headers))
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Zone:
    """What the DNS server answers for one domain."""

    spf: str | None = None
    dmarc: str | None = None
    signed: bool = False


class _Resolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, zones: dict[str, Zone]) -> None:
        self.zones = zones

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        name = qname.removeprefix("_dmarc.")
        zone = self.zones.get(name)
        if zone is None:
            reply.header.rcode = 3  # NXDOMAIN
            return reply
        if qtype == "TXT" and qname.startswith("_dmarc.") and zone.dmarc:
            reply.add_answer(RR(qname, QTYPE.TXT, rdata=TXT(zone.dmarc), ttl=60))
        elif qtype == "TXT" and not qname.startswith("_dmarc.") and zone.spf:
            reply.add_answer(RR(qname, QTYPE.TXT, rdata=TXT(zone.spf), ttl=60))
        elif qtype == "DNSKEY" and zone.signed:
            key = DNSKEY(257, 3, 13, b"\x01" * 64)
            reply.add_answer(RR(qname, QTYPE.DNSKEY, rdata=key, ttl=60))
            sig = RRSIG(
                QTYPE.DNSKEY, 13, 2, 60, 2000000000, 1700000000, 12345, qname + ".", b"\x02" * 64
            )
            reply.add_answer(RR(qname, QTYPE.RRSIG, rdata=sig, ttl=60))
        elif qtype == "A":
            reply.add_answer(RR(qname, QTYPE.A, rdata=A("127.10.0.1"), ttl=60))
        return reply


@contextmanager
def dns_server(zones: dict[str, Zone], host: str = "127.53.0.1") -> Iterator[str]:
    """A UDP DNS server on ``host``; yields ``host:port`` (settings.posture_resolver)."""
    port = free_port(host)
    server = DNSServer(_Resolver(zones), address=host, port=port)
    server.start_thread()
    try:
        yield f"{host}:{port}"
    finally:
        server.stop()
        server.server.server_close()


@contextmanager
def redis_like(host: str, *, auth: bool, port: int = 0) -> Iterator[int]:
    """Answers PING with +PONG (open) or -NOAUTH (auth required)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen()
    answer = b"-NOAUTH Authentication required.\r\n" if auth else b"+PONG\r\n"
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(64)
                    conn.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        sock.close()
