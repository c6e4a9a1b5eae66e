"""Password authenticator: Argon2id hashing and the password policy.

- Hashing: Argon2id (RFC 9106) through argon2-cffi, in the PHC string format
  (``$argon2id$v=19$m=19456,t=2,p=1$salt$hash``), so every stored hash names its own
  parameters. The defaults, m=19 MiB, t=2, p=1, are OWASP's minimum for Argon2id.
  ``needs_rehash`` tells the login flow to re-hash after a successful login once the
  parameters change.
- Policy: NIST SP 800-63B-4, section 3.1.1.2 (memorized secrets): NFKC-normalize, count
  Unicode code points, require at least 8 and allow at least 64 (we allow 128), reject
  passwords on a list of commonly used ones and those containing context-specific words
  (the user's ID number or name). No composition rules, no periodic expiry.

Passwords are NFKC-normalized before hashing and before verification alike, so the same
characters typed on two keyboards (precomposed or combining Vietnamese diacritics, full-width
digits) give the same hash.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "DEFAULT_PARAMS",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "Argon2Params",
    "PolicyViolation",
    "check_password_policy",
    "common_passwords",
    "dummy_verify",
    "hash_password",
    "needs_rehash",
    "normalize_password",
    "verify_password",
]

MIN_LENGTH = 8
MAX_LENGTH = 128
# A password containing a 4+ character part of the user's data is refused. Shorter parts
# ("An", "Lê", and the middle names "Thị", "Văn") are everywhere ("vanilla", "nothing"), so
# they only count when the password's letters are made of nothing but such parts.
_MIN_CONTAINED = 4
_MIN_PART = 2
_TOKEN_SPLIT = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """Argon2id cost parameters; ``memory_kib`` is in KiB (19456 KiB = 19 MiB)."""

    memory_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


DEFAULT_PARAMS = Argon2Params()


@functools.cache
def _hasher(params: Argon2Params) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        salt_len=params.salt_len,
        type=Type.ID,
    )


def normalize_password(password: str) -> str:
    """NFKC, as NIST SP 800-63B asks before hashing and before counting characters."""
    return unicodedata.normalize("NFKC", password)


# One Argon2id run at a time per process (`serve` runs one worker process per core). Each
# run walks 19 MiB; a web worker's threads running dozens at once thrash the CPU caches, and
# every login got slower than queueing them would make it (measured: 35 logins/s on 2 cores
# with 32 concurrent clients, where one hash takes ~30 ms).
_ARGON2_SLOTS = threading.BoundedSemaphore(1)


def hash_password(password: str, params: Argon2Params = DEFAULT_PARAMS) -> str:
    """Argon2id PHC string of the NFKC-normalized password, with a fresh 16-byte salt."""
    with _ARGON2_SLOTS:
        return _hasher(params).hash(normalize_password(password))


def verify_password(stored: str, password: str) -> bool:
    """True if ``password`` matches ``stored``; a malformed ``stored`` is just False.

    argon2-cffi recomputes the hash with the parameters ``stored`` names and compares in
    constant time.
    """
    try:
        with _ARGON2_SLOTS:
            return _hasher(DEFAULT_PARAMS).verify(stored, normalize_password(password))
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return hash_password("dinhdanh: no such account")


def dummy_verify(password: str) -> bool:
    """Spend the time of one verification and return False.

    Call it when the account does not exist, so response time doesn't tell whether it does.
    """
    verify_password(_dummy_hash(), password)
    return False


def needs_rehash(stored: str, params: Argon2Params = DEFAULT_PARAMS) -> bool:
    """True if ``stored`` was made with other parameters (or isn't an Argon2 hash at all)."""
    try:
        return _hasher(params).check_needs_rehash(stored)
    except InvalidHashError:
        return True


class PolicyViolation(StrEnum):
    """Why a new password is refused; the value is the stable code pages translate."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    CONTAINS_USER_DATA = "contains_user_data"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lowercased (source: ``data/README.md``)."""
    text = resources.files("dinhdanh.auth").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(text.splitlines())


def _fold(text: str) -> str:
    # "Nguyễn Văn Đức" and "nguyen van duc" must meet: users often type names without
    # diacritics. đ/Đ is a letter of its own in Unicode, not d plus a mark.
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("đ", "d").replace("Đ", "D").casefold()


def _user_parts(user_inputs: Sequence[str]) -> tuple[set[str], frozenset[str]]:
    contained: set[str] = set()
    letter_parts: set[str] = set()
    for value in user_inputs:
        parts = [p for p in _TOKEN_SPLIT.split(_fold(value)) if p]
        for part in [*parts, "".join(parts)]:
            if len(part) >= _MIN_CONTAINED:
                contained.add(part)
            if len(part) >= _MIN_PART and part.isalpha():
                letter_parts.add(part)
    return contained, frozenset(letter_parts)


def _made_of(letters: str, parts: frozenset[str]) -> bool:
    # Word break: can ``letters`` be cut into a sequence of ``parts``?
    if not letters or not parts:
        return False
    longest = max(map(len, parts))
    reachable = [True] + [False] * len(letters)
    for end in range(1, len(letters) + 1):
        reachable[end] = any(
            reachable[start] and letters[start:end] in parts
            for start in range(max(0, end - longest), end)
        )
    return reachable[-1]


def _contains_user_data(folded: str, user_inputs: Sequence[str]) -> bool:
    contained, letter_parts = _user_parts(user_inputs)
    if any(part in folded for part in contained):
        return True
    return _made_of("".join(c for c in folded if c.isalpha()), letter_parts)


def check_password_policy(
    password: str, *, user_inputs: Sequence[str] = ()
) -> list[PolicyViolation]:
    """Every rule ``password`` breaks, in a fixed order; empty means acceptable.

    ``user_inputs`` are context-specific words: the ID number, the full name (split into
    parts here), the phone number. Compared without case or diacritics, a password is
    refused if it contains a part of 4 or more characters (or a whole input), or if its
    letters are only parts of the inputs ("Duc1990!" for "Nguyễn Văn Đức").
    """
    normalized = normalize_password(password)
    violations: list[PolicyViolation] = []
    if len(normalized) < MIN_LENGTH:
        violations.append(PolicyViolation.TOO_SHORT)
    elif len(normalized) > MAX_LENGTH:
        violations.append(PolicyViolation.TOO_LONG)
    if normalized.lower() in common_passwords():
        violations.append(PolicyViolation.COMMON)
    if _contains_user_data(_fold(normalized), user_inputs):
        violations.append(PolicyViolation.CONTAINS_USER_DATA)
    return violations
