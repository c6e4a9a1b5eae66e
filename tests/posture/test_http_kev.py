"""HTTP checks against local servers with and without the headers, and the known-exploited
match of what they disclose (a catalogue in CISA KEV's format, tests/vectors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dinhdanh.posture import aio
from dinhdanh.posture.checks.http import HttpObservation, check_headers, check_redirect, products
from dinhdanh.posture.checks.kev import check_kev, parse_catalogue
from dinhdanh.posture.probes import ProbeError, probe_http
from dinhdanh.posture.targets import Target
from tests.posture.servers import (
    BAD_HEADERS,
    GOOD_HEADERS,
    http_server,
    make_ca,
    make_leaf,
    tls_context,
)

KEV = parse_catalogue(json.loads(Path("tests/vectors/kev_sample.json").read_text("utf-8")))


def observe(target: Target) -> HttpObservation:
    return aio.run(probe_http(target, timeout=5))


def codes_of(found: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.code for f in found)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("http")
    cert, key = make_leaf(["127.10.2.1"], make_ca()).write(d, "leaf")
    return tls_context(cert, key)


def test_good_headers_pass(tls) -> None:  # type: ignore[no-untyped-def]
    with http_server("127.10.2.1", headers=GOOD_HEADERS, context=tls) as port:
        obs = observe(Target("https", "127.10.2.1", port))
    assert obs.status == 200
    assert check_headers(obs) == []
    assert check_kev(obs.url, products(obs), KEV) == []


def test_missing_headers_fail(tls) -> None:  # type: ignore[no-untyped-def]
    with http_server("127.10.2.1", headers=BAD_HEADERS, context=tls) as port:
        obs = observe(Target("https", "127.10.2.1", port))
    found = check_headers(obs)
    assert codes_of(found) == [
        "COOKIE_INSECURE",
        "CSP_MISSING",
        "FRAME_ANCESTORS_MISSING",
        "HSTS_MISSING",
        "SERVER_VERSION_DISCLOSED",
        "XCTO_MISSING",
    ]
    cookie = next(f for f in found if f.code == "COOKIE_INSECURE")
    assert cookie.evidence == {"cookie": "sid", "missing": ["secure", "httponly"]}
    kev = check_kev(obs.url, products(obs), KEV)
    assert sorted(f.evidence["cve"] for f in kev) == ["CVE-2021-41773", "CVE-2021-42013"]
    assert {f.severity for f in kev} == {"critical"}


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("max-age=86400; includeSubDomains", "max-age 86400 < 31536000"),
        ("max-age=31536000", "no includeSubDomains"),
        ("max-age=abc; includeSubDomains", "no valid max-age"),
    ],
)
def test_weak_hsts(header: str, reason: str) -> None:
    headers = (("strict-transport-security", header),)
    found = [
        f
        for f in check_headers(HttpObservation("https://x:443", 200, headers))
        if f.code == "HSTS_MISSING"
    ]
    assert [(f.severity, f.evidence["reason"]) for f in found] == [("low", reason)]


def test_x_frame_options_stands_for_frame_ancestors() -> None:
    base = (("content-security-policy", "default-src 'self'"),)
    without = check_headers(HttpObservation("https://x:443", 200, base))
    with_xfo = check_headers(
        HttpObservation("https://x:443", 200, (*base, ("x-frame-options", "DENY")))
    )
    assert "FRAME_ANCESTORS_MISSING" in codes_of(without)
    assert "FRAME_ANCESTORS_MISSING" not in codes_of(with_xfo)


def test_http_redirect_to_https() -> None:
    redirect = (("Location", "https://127.10.2.2/"),)
    with http_server("127.10.2.2", status=301, headers=redirect) as port:
        assert check_redirect(observe(Target("http", "127.10.2.2", port))) == []
    with http_server("127.10.2.2", status=200) as port:
        found = check_redirect(observe(Target("http", "127.10.2.2", port)))
    assert [(f.code, f.evidence["status"]) for f in found] == [("HTTP_NO_HTTPS_REDIRECT", 200)]
    elsewhere = (("Location", "http://127.10.2.2/login"),)
    with http_server("127.10.2.2", status=302, headers=elsewhere) as port:
        assert codes_of(check_redirect(observe(Target("http", "127.10.2.2", port)))) == [
            "HTTP_NO_HTTPS_REDIRECT"
        ]


def test_nothing_listening_is_a_probe_error() -> None:
    with pytest.raises(ProbeError):
        observe(Target("http", "127.10.2.3", 9))


@pytest.mark.parametrize(
    ("server", "cves"),
    [
        ("Apache/2.4.50 (Unix)", ["CVE-2021-42013"]),
        ("Apache/2.4.5", []),  # a prefix of 2.4.50 is another version
        ("Apache/2.4.51", []),
        ("Microsoft-IIS/6.0", ["CVE-2017-7269"]),
        ("Microsoft-IIS/10.0", []),
        ("nginx/2.4.49", []),  # right version, other product
    ],
)
def test_kev_matching(server: str, cves: list[str]) -> None:
    obs = HttpObservation("https://x:443", 200, (("server", server),))
    assert sorted(f.evidence["cve"] for f in check_kev(obs.url, products(obs), KEV)) == cves


def test_catalogue_format_is_checked() -> None:
    with pytest.raises(ValueError, match="vulnerabilities"):
        parse_catalogue({"entries": []})
    with pytest.raises(ValueError, match="vulnerability 0"):
        parse_catalogue({"vulnerabilities": [{"cveID": "CVE-1"}]})
