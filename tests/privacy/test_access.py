"""The legal basis and purpose of an access to personal data."""

from __future__ import annotations

import pytest

from dinhdanh.privacy.access import PurposeRequired, UnknownLegalBasis, check_purpose

BASES = ("criminal_investigation", "court_order")


@pytest.mark.parametrize(
    ("basis", "purpose", "error"),
    [
        (None, "investigation 2026/042", PurposeRequired),
        ("", "aaaaa", PurposeRequired),
        ("curiosity", "investigation 2026/042", UnknownLegalBasis),
        ("court_order", None, PurposeRequired),
        ("court_order", "  ab  ", PurposeRequired),
        ("court_order", "x" * 501, PurposeRequired),
    ],
)
def test_a_legal_basis_from_the_list_and_a_purpose_are_required(
    basis: str | None, purpose: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        check_purpose(basis, purpose, BASES)
    assert type(caught.value) is error


def test_both_are_kept_for_the_audit() -> None:
    assert check_purpose(" court_order ", " case 2026/17 ", BASES) == "court_order: case 2026/17"
