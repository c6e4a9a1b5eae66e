"""API keys (expiry, list, revoke) on every database, and the legal basis of an access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dinhdanh.privacy.access import (
    CaseRefRequired,
    LegalGround,
    PurposeRequired,
    UnknownLegalBasis,
    authenticate,
    check_purpose,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from dinhdanh.privacy.roles import Role
from dinhdanh.wiring import Container

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
BASES = ("criminal_investigation", "court_order")


def test_a_key_stops_working_when_it_expires(container: Container) -> None:
    with container.unit_of_work() as s:
        key_id, token = create_api_key(
            s, "Officer A", Role.OFFICER, NOW, expires_at=NOW + timedelta(days=30), owner="test org"
        )
    with container.unit_of_work() as s:
        who = authenticate(s, token, NOW + timedelta(days=29, hours=23))
        assert who is not None
        assert who.key_id == key_id
        assert authenticate(s, token, NOW + timedelta(days=30)) is None
        [info] = list_api_keys(s, NOW + timedelta(days=31))
    assert info.expires_at == NOW + timedelta(days=30)
    assert not info.active


def test_keys_are_listed_and_revoked(container: Container) -> None:
    with container.unit_of_work() as s:
        a, token_a = create_api_key(s, "Officer A", Role.OFFICER, NOW, owner="test org")
        b, token_b = create_api_key(
            s, "Admin B", Role.ADMIN, NOW + timedelta(seconds=1), owner="test org"
        )
    with container.unit_of_work() as s:
        assert revoke_api_key(s, a, NOW + timedelta(hours=1))
        assert not revoke_api_key(s, "no-such-key", NOW)
    with container.unit_of_work() as s:
        assert revoke_api_key(s, a, NOW + timedelta(hours=2))  # again: the first time stays
    later = NOW + timedelta(hours=3)
    with container.unit_of_work() as s:
        assert authenticate(s, token_a, later) is None
        assert authenticate(s, token_b, later) is not None
        keys = list_api_keys(s, later)
    assert [(k.id, k.name, k.role, k.active) for k in keys] == [
        (a, "Officer A", "officer", False),
        (b, "Admin B", "admin", True),
    ]
    assert keys[0].revoked_at == NOW + timedelta(hours=1)
    assert keys[1].revoked_at is None
    assert keys[1].expires_at is None


@pytest.mark.parametrize(
    ("basis", "case_ref", "note", "error"),
    [
        (None, "investigation 2026/042", None, PurposeRequired),
        ("", "aaaaa", None, PurposeRequired),
        ("curiosity", "investigation 2026/042", None, UnknownLegalBasis),
        ("court_order", None, None, CaseRefRequired),
        ("court_order", "  ab  ", None, CaseRefRequired),
        ("court_order", "x" * 101, None, CaseRefRequired),
        ("court_order", "case 17", "x" * 500, PurposeRequired),
    ],
)
def test_a_legal_basis_from_the_list_and_a_case_reference_are_required(
    basis: str | None, case_ref: str | None, note: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        check_purpose(basis, case_ref, BASES, note)
    assert type(caught.value) is error


def test_all_are_kept_for_the_audit() -> None:
    ground = check_purpose(" court_order ", " case 2026/17 ", BASES)
    assert ground == LegalGround("court_order", "case 2026/17", "court_order: case 2026/17")
    noted = check_purpose("court_order", "case 2026/17", BASES, "  phone of a witness ")
    assert noted.purpose == "court_order: case 2026/17; phone of a witness"
