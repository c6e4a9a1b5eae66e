"""Which claims each scope releases, computed at issue time (OIDC Core 5.1, 5.4). Pure.

Minimal disclosure: ``openid`` gives ``verified`` and ``acr`` only (with ``amr`` in the ID
token); ``age`` gives ``age_over_13/16/18`` computed from the birth date on the day of issue
(the platform's one age rule, ``identity.age.is_over``),
never the date itself, and for a child under 16 ``guardian_approved`` (a guardian approved
their account at the asking platform; never who); ``name``, ``birthdate`` and ``phone``
each need their own scope, and the consent page lists exactly these.
``phone_number_verified`` is true only for the number an SMS code proved at the account's
enrolment. ``offline_access`` asks for a refresh token.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from dinhdanh.identity.age import is_over

ACR_PREFIX = "urn:dinhdanh:loa:"
AGE_THRESHOLDS = (13, 16, 18)
# Decree 147/2024: under this age a guardian registers and supervises the account (default;
# ``DINHDANH_GUARDIAN_CHILD_AGE`` sets the provider's ``child_age``).
CHILD_AGE = 16

# scope -> (registry fields the claims are computed from, claims released)
SCOPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "openid": ((), ("sub", "verified", "acr")),
    "age": (
        ("date_of_birth",),
        (*(f"age_over_{n}" for n in AGE_THRESHOLDS), "guardian_approved"),
    ),
    "name": (("full_name",), ("name",)),
    "birthdate": (("date_of_birth",), ("birthdate",)),
    "phone": (("phone",), ("phone_number", "phone_number_verified")),
    "offline_access": ((), ()),
}
USER_SCOPES = frozenset(SCOPES)


def acr_uri(level: int) -> str:
    return f"{ACR_PREFIX}{level}"


def acr_level(uri: str) -> int | None:
    if not uri.startswith(ACR_PREFIX) or uri[len(ACR_PREFIX) :] not in ("0", "1", "2"):
        return None
    return int(uri[len(ACR_PREFIX) :])


def parse_scope(scope: str | None) -> list[str]:
    """Scope tokens in order, without duplicates (RFC 6749 3.3)."""
    seen: list[str] = []
    for token in (scope or "").split():
        if token not in seen:
            seen.append(token)
    return seen


def fields_needed(scopes: Iterable[str]) -> tuple[str, ...]:
    """Registry fields to open (and audit) for these scopes; empty means no decryption."""
    out: list[str] = []
    for s in scopes:
        for f in SCOPES.get(s, ((), ()))[0]:
            if f not in out:
                out.append(f)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the registry knows, opened only when a granted scope needs it."""

    full_name: str | None = None
    date_of_birth: date | None = None
    phone: str | None = None
    phone_verified: bool = False  # proved by an SMS code at the account's enrolment
    # A child's account approved by a guardian at the asking platform; None: not a child.
    guardian_approved: bool | None = None


def user_claims(
    scopes: Iterable[str], level: int, facts: PersonFacts, today: date
) -> dict[str, object]:
    """Claims about the user released by ``scopes`` (without ``sub``)."""
    granted = set(scopes)
    claims: dict[str, object] = {}
    if "openid" in granted:
        claims["verified"] = level >= 1
        claims["acr"] = acr_uri(level)
    if "age" in granted and facts.date_of_birth is not None:
        for n in AGE_THRESHOLDS:
            claims[f"age_over_{n}"] = is_over(facts.date_of_birth, n, today)
        if facts.guardian_approved is not None:  # a child: never who the guardian is
            claims["guardian_approved"] = facts.guardian_approved
    if "name" in granted and facts.full_name is not None:
        claims["name"] = facts.full_name
    if "birthdate" in granted and facts.date_of_birth is not None:
        claims["birthdate"] = facts.date_of_birth.isoformat()
    if "phone" in granted and facts.phone is not None:
        claims["phone_number"] = facts.phone
        claims["phone_number_verified"] = facts.phone_verified
    return claims
