"""The pure RDAP builders: search patterns (RFC 9082 partial match), paging cursors, RFC 9537
redaction entries, and the person entity with and without the stated record."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.internet import rdap
from dinhdanh.internet.service import DomainView, PersonRegistrant

VIEW = DomainView(
    "0190a000-0000-7000-8000-000000000001",
    "xn--ph-ngon-h14c.vn",
    "phở-ngon.vn",
    "vn",
    "PAVN",
    "person",
    None,
    None,
    False,
    date(2020, 1, 1),
    date(2027, 1, 1),
    ("ns1.example.vn",),
    "active",
    datetime(2026, 6, 1, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("exam*", rdap.Pattern("exam", "", False)),
        ("EXAM*.COM.VN", rdap.Pattern("exam", "com.vn", False)),
        ("Phở*.vn", rdap.Pattern("phở", "vn", False)),
        ("PHO\u031b\u0309*", rdap.Pattern("phở", "", False)),  # decomposed: NFC as stored
        ("phở-ngon.vn", rdap.Pattern("xn--ph-ngon-h14c.vn", "", True)),
        ("XN--PH-NGON-H14C.VN", rdap.Pattern("xn--ph-ngon-h14c.vn", "", True)),
    ],
)
def test_patterns(raw: str, expected: rdap.Pattern) -> None:
    assert rdap.parse_pattern(raw) == expected


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", rdap.PatternError),
        ("a" * 254, rdap.PatternError),
        ("ex*am*", rdap.PatternError),
        ("ex*am", rdap.PatternError),
        ("a.ex*", rdap.PatternError),
        ("ex%*", rdap.PatternError),
        ("ex_*", rdap.PatternError),
        ("ex*.-vn", rdap.PatternError),
        ("-bad-.vn", rdap.PatternError),
        ("e*", rdap.TooBroad),
        ("*", rdap.TooBroad),
    ],
)
def test_bad_patterns(raw: str, error: type[rdap.PatternError]) -> None:
    with pytest.raises(error) as caught:
        rdap.parse_pattern(raw)
    assert type(caught.value) is error
    assert caught.value.status == (422 if error is rdap.TooBroad else 400)


@given(st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}", fullmatch=True))
def test_cursors_round_trip(name: str) -> None:
    cursor = rdap.encode_cursor(name)
    assert "=" not in cursor
    assert rdap.decode_cursor(cursor) == name


@pytest.mark.parametrize("cursor", ["!!", rdap.encode_cursor("Ab"), rdap.encode_cursor("a b")])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(rdap.PatternError):
        rdap.decode_cursor(cursor)


def test_redaction_entries_follow_rfc_9537() -> None:
    entries = rdap.redacted("$")
    assert len(entries) == 6
    for e in entries:
        assert set(e) == {"name", "prePath", "pathLang", "method", "reason"}
        assert e["method"] == "removal"
        assert e["pathLang"] == "jsonpath"
        assert e["prePath"].startswith("$.")
    inner = rdap.redacted(rdap.IN_DOMAIN)
    assert all(e["prePath"].startswith(rdap.IN_DOMAIN + ".") for e in inner)


def test_person_entity_with_and_without_the_record() -> None:
    hidden = rdap.person_entity(VIEW, None, "https://rdap.test")
    assert hidden["handle"] == "P-" + VIEW.id
    assert hidden["vcardArray"][1] == [
        ["version", {}, "text", "4.0"],
        ["kind", {}, "text", "individual"],
    ]
    assert "publicIds" not in hidden
    person = PersonRegistrant("001090012345", "Nguyễn Văn An", date(1990, 5, 12), None)
    full = rdap.person_entity(VIEW, person, "https://rdap.test")
    props = {p[0]: p[3] for p in full["vcardArray"][1]}
    assert (props["fn"], props["bday"]) == ("Nguyễn Văn An", "1990-05-12")
    assert full["publicIds"][0]["identifier"] == "001090012345"


def test_top_marks_redaction_and_paging() -> None:
    plain = rdap.top({"objectClassName": "domain"})
    assert plain["rdapConformance"] == ["rdap_level_0"]
    marked = rdap.top({"redacted": rdap.redacted("$")}, staff=False, paging=True)
    assert marked["rdapConformance"] == ["rdap_level_0", "redacted", "paging"]
    assert rdap.REDACTION_NOTICE in marked["notices"]
    assert rdap.STAFF_NOTICE in rdap.top({}, staff=True)["notices"]
