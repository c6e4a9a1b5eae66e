"""SD-JWT serialization (RFC 9901), the parts age credentials use. Pure.

- Section 4.2.1, Disclosures for object properties: base64url of the UTF-8 JSON array
  ``[salt, claim name, claim value]``. We write compact JSON; any JSON spelling parses (no
  canonicalization: the digest covers the exact string received).
- Section 4.2.3, hashing: the digest is base64url(SHA-256(the Disclosure's ASCII bytes)).
- Section 4 and 4.3, compact serialization: ``<Issuer-signed JWT>~<D.1>~...~<D.N>~`` for an
  SD-JWT, followed by the KB-JWT for an SD-JWT+KB (no trailing ``~``).
- Section 4.3.1: the KB-JWT's ``sd_hash`` is the digest of the SD-JWT, from its first
  character up to and including the last ``~`` before the KB-JWT.
- Section 9.3 (salt entropy): 128 bits from ``secrets``.

Array-element Disclosures (two elements) parse too, for the RFC's examples; age credentials
have none. Every failure raises ``SdJwtError``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from dinhdanh.crypto.compact import b64url, unb64url
from dinhdanh.crypto.jose import JoseError

__all__ = [
    "DIGEST_ALG",
    "SALT_BYTES",
    "Disclosure",
    "SdJwtError",
    "Serialized",
    "digest",
    "join",
    "make_disclosure",
    "new_salt",
    "parse_disclosure",
    "sd_hash",
    "split",
]

DIGEST_ALG = "sha-256"
SALT_BYTES = 16
# Claim names a Disclosure may not carry (RFC 9901 section 4.2.1 and 7.1).
RESERVED = frozenset({"_sd", "...", "_sd_alg"})


class SdJwtError(ValueError):
    """A part of an SD-JWT is malformed."""


def new_salt() -> str:
    """A fresh salt: 128 random bits, base64url."""
    return b64url(secrets.token_bytes(SALT_BYTES))


def make_disclosure(salt: str, name: str, value: Any) -> str:
    """The Disclosure of an object property (RFC 9901 section 4.2.1)."""
    if name in RESERVED:
        raise SdJwtError(f"{name!r} cannot be selectively disclosed")
    text = json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":"))
    return b64url(text.encode("utf-8"))


def digest(disclosure: str) -> str:
    """The SHA-256 digest of a Disclosure, or of any serialized string (section 4.2.3)."""
    return b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class Disclosure:
    salt: str
    name: str | None  # None for an array element
    value: Any


def parse_disclosure(disclosure: str) -> Disclosure:
    """Decode a Disclosure: a JSON array of a string salt, a claim name and a value (or, for
    an array element, a salt and a value)."""
    try:
        items = json.loads(unb64url(disclosure))
    except (JoseError, UnicodeDecodeError, ValueError, RecursionError):
        raise SdJwtError("a Disclosure is not base64url-encoded JSON") from None
    if not isinstance(items, list) or len(items) not in (2, 3) or not isinstance(items[0], str):
        raise SdJwtError("a Disclosure is an array of a string salt, a name and a value")
    if len(items) == 2:
        return Disclosure(items[0], None, items[1])
    if not isinstance(items[1], str) or items[1] in RESERVED:
        raise SdJwtError("a Disclosure's claim name must be a string and not reserved")
    return Disclosure(items[0], items[1], items[2])


@dataclass(frozen=True, slots=True)
class Serialized:
    """A compact SD-JWT or SD-JWT+KB, split at its ``~``."""

    jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str  # "" when there is no Key Binding JWT

    @property
    def sd_jwt(self) -> str:
        """The SD-JWT without its KB-JWT: what ``sd_hash`` is computed over."""
        return join(self.jwt, self.disclosures)


def split(serialized: str) -> Serialized:
    """Split a compact SD-JWT (+KB). Empty Disclosures are refused."""
    parts = serialized.split("~")
    if len(parts) < 2 or not parts[0]:
        raise SdJwtError("an SD-JWT is a JWT followed by '~'-separated Disclosures")
    disclosures = tuple(parts[1:-1])
    if not all(disclosures):
        raise SdJwtError("an SD-JWT has an empty Disclosure")
    return Serialized(parts[0], disclosures, parts[-1])


def join(jwt: str, disclosures: tuple[str, ...] | list[str], kb_jwt: str = "") -> str:
    """The compact serialization: the SD-JWT (ending in ``~``), then the KB-JWT if any."""
    return "~".join((jwt, *disclosures)) + "~" + kb_jwt


def sd_hash(sd_jwt: str) -> str:
    """The KB-JWT's ``sd_hash`` of an SD-JWT (its compact form, ending in ``~``)."""
    return digest(sd_jwt)
