"""``safe_next``: whatever a ``next`` parameter holds, the redirect stays on our origin."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dinhdanh.web.browser import safe_next

ISSUER = "https://id.example.vn"
ORIGIN = ("https", "id.example.vn")

# Pieces that parsers disagree on; joined at random, then mixed with any text.
PIECES = [
    "/", "//", "\\", "\t", "\n", "\r", " ", "\x00", "\x0b", "\x7f", "\x85", "\u3000", "\uff0f",
    "evil.com", "@", ":", "http:", "https://", "javascript:", "%2f", "%5c", "%09", "?", "#",
    ".", "..", "a",
]  # fmt: skip
tricky = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)


def whatwg_like(url: str) -> str:
    """What a browser does first (WHATWG URL parsing): strip C0 controls and spaces at the
    ends, remove every tab and newline, and (in special schemes) read ``\\`` as ``/``."""
    url = url.strip("".join(chr(i) for i in range(0x21)))
    url = url.replace("\t", "").replace("\n", "").replace("\r", "")
    return url.replace("\\", "/")


def origin_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@pytest.mark.parametrize(
    "value",
    [
        "/\t/evil.com",
        "/\n/evil.com",
        "/\r\n/evil.com",
        "/\\evil.com",
        "\\/evil.com",
        "//evil.com",
        "/\t\\evil.com",
        " //evil.com",
        "https://evil.com",
        "javascript:alert(1)",
        "/\x00/evil.com",
    ],
)
def test_tricky_values_fall_back_to_the_default(value: str) -> None:
    assert safe_next(value) == "/account"


@pytest.mark.parametrize(
    "value", ["/account", "/authorize?client_id=x&redirect_uri=https%3A%2F%2Frp", "/a#b", "/"]
)
def test_local_paths_pass_unchanged(value: str) -> None:
    assert safe_next(value) == value


@given(st.one_of(tricky, st.text(), st.builds("/{}".format, tricky)))
@example("/\t/evil.com")
@example("/\\/evil.com")
@example("//\uff0f")  # urlsplit raised ValueError (NFKC makes a "/" netloc): was a 500
def test_the_result_stays_on_our_origin(value: str) -> None:
    result = safe_next(value)
    assert result.startswith("/")
    assert origin_of(urljoin(ISSUER, result)) == ORIGIN
    browser = whatwg_like(result)
    assert not browser.startswith("//")
    assert origin_of(urljoin(ISSUER, browser)) == ORIGIN
