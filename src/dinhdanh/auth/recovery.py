"""Recovery codes: single-use second factors for a lost authenticator.

Each code is 10 symbols of Crockford's base32 alphabet (digits and letters without I, L, O
and U), 50 random bits, shown as ``ABCDE-FGHJK``. Input is forgiving the way Crockford
specifies: case, spaces and dashes are ignored, and O reads as 0, I and L as 1.

Codes are stored as SHA-256 digests, not with a slow password hash: they are random, so a
slow hash buys little, and checking a code means one digest per stored code. 50 bits are
enough against online guessing (login throttling caps it) and a code is only a second
factor: recovering one from a stolen database still leaves the Argon2id password to break.
The caller marks a matched code used (``match_code`` returns its index).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence

__all__ = [
    "ALPHABET",
    "CODE_COUNT",
    "CODE_LEN",
    "format_code",
    "generate_recovery_codes",
    "hash_code",
    "match_code",
    "normalize_code",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
CODE_LEN = 10
CODE_COUNT = 10
_GROUP = 5
_BITS_PER_SYMBOL = 5
_RANDOM_BYTES = (CODE_LEN * _BITS_PER_SYMBOL + 7) // 8
_DOMAIN = b"dinhdanh/recovery-code/1\x00"
# Crockford's decoding aliases, plus the separators people type or paste.
_INPUT_MAP = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None, "\t": None})
_VALID = frozenset(ALPHABET)


def format_code(symbols: str) -> str:
    """``ABCDEFGHJK`` -> ``ABCDE-FGHJK``."""
    return f"{symbols[:_GROUP]}-{symbols[_GROUP:]}"


def _encode(randomness: bytes) -> str:
    spare_bits = len(randomness) * 8 - CODE_LEN * _BITS_PER_SYMBOL
    value = int.from_bytes(randomness, "big") >> spare_bits
    symbols = []
    for _ in range(CODE_LEN):
        value, index = divmod(value, len(ALPHABET))
        symbols.append(ALPHABET[index])
    return "".join(reversed(symbols))


def generate_recovery_codes(
    count: int = CODE_COUNT, *, token_bytes: Callable[[int], bytes] = secrets.token_bytes
) -> list[str]:
    """``count`` distinct codes, formatted for display (``ABCDE-FGHJK``)."""
    codes: list[str] = []
    while len(codes) < count:
        code = format_code(_encode(token_bytes(_RANDOM_BYTES)))
        if code not in codes:
            codes.append(code)
    return codes


def normalize_code(code: str) -> str | None:
    """The 10 canonical symbols of ``code``, or None if it can't be a recovery code."""
    symbols = code.strip().upper().translate(_INPUT_MAP)
    if len(symbols) != CODE_LEN or not _VALID.issuperset(symbols):
        return None
    return symbols


def hash_code(code: str) -> bytes:
    """32-byte SHA-256 digest of the normalized code, the form to store."""
    symbols = normalize_code(code)
    if symbols is None:
        raise ValueError("not a recovery code")
    return hashlib.sha256(_DOMAIN + symbols.encode("ascii")).digest()


def match_code(stored_hashes: Sequence[bytes], code: str) -> int | None:
    """Index of the stored digest ``code`` matches, or None (also for malformed input)."""
    symbols = normalize_code(code)
    if symbols is None:
        return None
    digest = hashlib.sha256(_DOMAIN + symbols.encode("ascii")).digest()
    matched: int | None = None
    for index, stored in enumerate(stored_hashes):
        if hmac.compare_digest(stored, digest) and matched is None:
            matched = index
    return matched
