"""HTTP checks against local servers with and without the headers, and the known-exploited
match of what they disclose (a catalogue in CISA KEV's format, tests/vectors)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from dinhdanh.posture import aio
from dinhdanh.posture.checks.http import HttpObservation, check_headers, check_redirect, products
from dinhdanh.posture.checks.kev import AffectedRange, check_kev, load_ranges, parse_catalogue
from dinhdanh.posture.probes import ProbeError, probe_http
from dinhdanh.posture.targets import Target
from dinhdanh.wiring import Container
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


# -- stated version ranges (settings.posture_kev_versions) ------------------------------------

# A catalogue entry made for these tests (KEV's format; the range is NVD's for this CVE).
NGINX = parse_catalogue(
    {
        "vulnerabilities": [
            {
                "cveID": "CVE-2021-23017",
                "vendorProject": "F5",
                "product": "NGINX",
                "vulnerabilityName": "F5 NGINX Resolver Off-by-One Heap Write Vulnerability",
                "shortDescription": "The resolver has an off-by-one error.",
                "dateAdded": "2021-06-01",
            }
        ]
    }
)
RANGES_CSV = (
    "cveID,product,versionStartIncluding,versionStartExcluding,versionEndIncluding,"
    "versionEndExcluding\nCVE-2021-23017,nginx,0.6.18,,,1.20.1\n"
)


@pytest.fixture
def ranges(tmp_path: Path) -> list[AffectedRange]:
    path = tmp_path / "kev-versions.csv"
    path.write_text(RANGES_CSV, encoding="utf-8")
    return load_ranges(path)


def test_a_disclosed_version_within_the_range_is_known_exploited(ranges) -> None:  # type: ignore[no-untyped-def]
    headers = (("Server", "nginx/1.18.0"),)
    with http_server("127.10.2.4", headers=headers) as port:
        obs = observe(Target("http", "127.10.2.4", port))
    (found,) = check_kev(obs.url, products(obs), NGINX, ranges)
    assert (found.code, found.severity) == ("KNOWN_EXPLOITED", "critical")
    assert found.evidence["cve"] == "CVE-2021-23017"
    assert found.evidence["product"] == "nginx/1.18.0"
    assert found.evidence["range"] == ">= 0.6.18, < 1.20.1"


@pytest.mark.parametrize(
    "server", ["nginx/1.20.1", "nginx/1.21.0", "nginx/0.6.17", "Apache/1.18.0"]
)
def test_a_version_outside_the_range_or_another_product_is_not(ranges, server: str) -> None:  # type: ignore[no-untyped-def]
    obs = HttpObservation("https://x:443", 200, (("server", server),))
    assert check_kev(obs.url, products(obs), NGINX, ranges) == []


def test_versions_compare_as_versions_not_as_text(ranges) -> None:  # type: ignore[no-untyped-def]
    # "1.9.15" > "1.20.1" as text; as a version it is older, so within the range.
    obs = HttpObservation("https://x:443", 200, (("server", "nginx/1.9.15"),))
    assert codes_of(check_kev(obs.url, products(obs), NGINX, ranges)) == ["KNOWN_EXPLOITED"]


def test_an_unparseable_version_is_no_finding_but_a_note(ranges) -> None:  # type: ignore[no-untyped-def]
    obs = HttpObservation("https://x:443", 200, (("server", "nginx/1.18.0-ubuntu"),))
    (note,) = check_kev(obs.url, products(obs), NGINX, ranges)
    assert (note.code, note.severity) == ("KEV_VERSION_UNKNOWN", "info")
    assert note.evidence["product"] == "nginx/1.18.0-ubuntu"
    assert note.evidence["note"].startswith("version unknown")


def test_without_ranges_the_text_of_the_entry_decides() -> None:
    # The entry's text names no version: no range, no match.
    obs = HttpObservation("https://x:443", 200, (("server", "nginx/1.18.0"),))
    assert check_kev(obs.url, products(obs), NGINX) == []


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("CVE-1,nginx,1.x,,,", "versionStartIncluding '1.x' is not a version"),
        (",nginx,,,,1.0", "cveID and product are required"),
        ("CVE-1,nginx,1.0,1.0,,", "not both"),
    ],
)
def test_the_mapping_file_is_checked(tmp_path: Path, row: str, error: str) -> None:
    path = tmp_path / "kev-versions.csv"
    path.write_text(RANGES_CSV + row + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"line 3: .*{error}"):
        load_ranges(path)


def test_the_scanner_reads_the_ranges_of_the_setting(container: Container, tmp_path: Path) -> None:
    path, roots = tmp_path / "kev-versions.csv", tmp_path / "roots.pem"
    path.write_text(RANGES_CSV, encoding="utf-8")
    roots.write_bytes(make_ca().pem())  # not the system's bundle: only the ranges matter
    plain = container.settings.model_copy(update={"posture_trust_store": roots})
    assert replace(container.posture, settings=plain).scanner().config.kev_ranges == ()
    settings = plain.model_copy(update={"posture_kev_versions": path})
    scanner = replace(container.posture, settings=settings).scanner()
    (r,) = scanner.config.kev_ranges
    assert (r.cve_id, r.product, str(r.start_including), str(r.end_excluding)) == (
        "CVE-2021-23017", "nginx", "0.6.18", "1.20.1",
    )  # fmt: skip
