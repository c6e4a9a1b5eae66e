"""Domain names: IDNA 2008 vectors (tests/vectors/domain_names.json), public suffixes, and the
round trip of U-labels and A-labels as a property."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import idna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.internet.names import (
    DomainNameError,
    ascii_form,
    parse_host,
    parse_registrable,
    to_ascii,
)

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "domain_names.json").read_text(encoding="utf-8")
)


def _id(case: dict[str, Any]) -> str:
    return str(case["note"])


@pytest.mark.parametrize("case", VECTORS["valid"], ids=_id)
def test_valid_vectors(case: dict[str, Any]) -> None:
    name = parse_registrable(case["input"])
    assert (name.ascii, name.unicode, name.suffix) == (
        case["ascii"],
        case["unicode"],
        case["suffix"],
    )


@pytest.mark.parametrize("case", VECTORS["valid"], ids=_id)
def test_a_labels_agree_with_the_standard_librarys_punycode(case: dict[str, Any]) -> None:
    # An independent check of the vectors: RFC 3492 Punycode from the standard library.
    for a_label, u_label in zip(case["ascii"].split("."), case["unicode"].split("."), strict=True):
        if a_label.startswith("xn--"):
            assert a_label == "xn--" + u_label.encode("punycode").decode()
        else:
            assert a_label == u_label


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=_id)
def test_invalid_vectors(case: dict[str, Any]) -> None:
    with pytest.raises(DomainNameError) as caught:
        parse_registrable(case["input"])
    assert caught.value.reason.code == case["code"]


def test_nameservers_take_any_tld_but_need_a_dot() -> None:
    assert parse_host("NS1.Example.COM") == "ns1.example.com"
    assert parse_host("ns.phở.vn") == "ns.xn--ph-rbt.vn"
    with pytest.raises(DomainNameError):
        parse_host("localhost")


VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxy0123456789"
    "áàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
labels = st.text(alphabet=VIETNAMESE, min_size=1, max_size=20)


@given(st.lists(labels, min_size=1, max_size=3), st.sampled_from(["vn", "com.vn", "org.vn"]))
def test_u_label_and_a_label_forms_map_to_each_other(parts: list[str], suffix: str) -> None:
    raw = ".".join([*parts, suffix])
    ascii_name, unicode_name = to_ascii(raw)
    assert ascii_name.isascii()
    assert unicode_name == raw  # already lower case and NFC: nothing to map
    assert to_ascii(ascii_name) == (ascii_name, unicode_name)
    assert to_ascii(unicode_name.upper()) == (ascii_name, unicode_name)


@given(labels, st.sampled_from(["vn", "com.vn", "net.vn", "gov.vn", "edu.vn", "ac.vn"]))
def test_one_label_below_a_public_suffix_is_registrable_and_two_are_not(
    label: str, suffix: str
) -> None:
    name = parse_registrable(f"{label}.{suffix}")
    assert name.suffix == suffix
    with pytest.raises(DomainNameError) as caught:
        parse_registrable(f"www.{label}.{suffix}")
    assert caught.value.reason.code == "domain_not_registrable"


def _outcome(fn: Any, raw: str) -> str:
    try:
        return str(fn(raw) if fn is ascii_form else fn(raw)[0])
    except DomainNameError as exc:
        return "error " + exc.reason.code


@pytest.mark.parametrize(
    "raw",
    [
        "Example.COM.vn",
        "xn--ph-ngon-h14c.vn",
        "phở-ngon.vn",
        "ab--cd.vn",
        "xn--abc.vn",
        "-a.vn",
        "a-.vn",
        "a..vn",
        "vn.",
        " x.vn ",
        "a" * 64 + ".vn",
        ".".join(["a" * 63] * 4),
        "",
    ],
)
def test_ascii_form_is_to_ascii(raw: str) -> None:
    assert _outcome(ascii_form, raw) == _outcome(to_ascii, raw)


@given(st.text(alphabet="aAzZ09-.xn\u1ea1 ", max_size=80))
def test_ascii_form_is_to_ascii_for_any_text(raw: str) -> None:
    """The LDH shortcut answers what the IDNA passes answer, errors included."""
    assert _outcome(ascii_form, raw) == _outcome(to_ascii, raw)


def _library(raw: str) -> tuple[str, str] | str:
    """What the `idna` package's two passes give, as ``to_ascii`` computed them before it
    took its shortcuts: (A-labels, U-labels), or ``error CODE``."""
    text = raw.strip()
    if not text:
        return "error domain_missing"
    text = text.removesuffix(".")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
        unicode_name = idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return "error domain_invalid"  # or domain_too_long: to_ascii tells them apart
    if len(ascii_name) > 253:
        return "error domain_too_long"
    return ascii_name, unicode_name


def _ours(raw: str) -> tuple[str, str] | str:
    try:
        return to_ascii(raw)
    except DomainNameError as exc:
        code = exc.reason.code
        return "error " + ("domain_invalid" if code == "domain_too_long" else code)


def _same(raw: str) -> None:
    expected, got = _library(raw), _ours(raw)
    if expected == "error domain_too_long":
        expected = "error domain_invalid"
    assert got == expected, raw


# Vietnamese letters in both cases, ASCII LDH, the four IDNA dots, full-width and other
# mapped forms, a disallowed character, a combining mark, an Arabic and a Cyrillic letter.
ANY_NAME = st.text(
    alphabet=VIETNAMESE
    + VIETNAMESE.upper()
    + "AZxn-.\u3002\uff0e\uff61\uff21\u2488 _\u0301\u0627\u0430",
    max_size=40,
)


@given(ANY_NAME)
def test_to_ascii_answers_what_the_librarys_two_passes_answer(raw: str) -> None:
    _same(raw)


@given(
    st.lists(
        st.one_of(labels, st.sampled_from(["xn--ph-rbt", "XN--PH-RBT", "ns1", "a-b"])),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["vn", "com.vn", "VN", "vn.", "vn\u3002"]),
)
def test_to_ascii_answers_as_the_library_for_names_with_a_labels(
    parts: list[str], suffix: str
) -> None:
    _same(".".join([*parts, suffix]))


@pytest.mark.parametrize(
    "raw",
    [
        "phở-ngon.vn",
        "PHỞ.com.vn",
        "xn--ph-rbt.vn",
        "phở\u3002vn",
        "phở..vn",
        "phở.vn\u3002",
        "\uff41\uff42\uff43.vn",
        "xn--.vn",
        "xn--ph-rbt-.vn",
        "a" * 64 + "ở.vn",
        ("ở" * 20 + ".") * 8 + "vn",
    ],
)
def test_to_ascii_answers_as_the_library_on_edge_cases(raw: str) -> None:
    _same(raw)
