"""Domain names under .vn: IDNA 2008 with UTS 46 mapping (the `idna` package) and the public
suffix list (the `publicsuffixlist` package, which bundles the list: nothing is downloaded).

A name is stored twice: its A-label form (ASCII, ``xn--`` labels, lower case), which is the key,
and its U-label form (Unicode), which people read. Both come from the library; nothing here
decides which code points are allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import idna
from publicsuffixlist import PublicSuffixList

from dinhdanh.store.feeds import Reason

TLD = "vn"
MAX_NAME = 253  # RFC 1035 section 2.3.4, without the trailing dot
MAX_INPUT = 1024  # longer input is not worth mapping
# Lower-case LDH labels with no hyphen in the 3rd and 4th place (so no ``xn--``): names that
# IDNA 2008 with UTS 46 leaves as they are (tests/internet/test_names.py holds the two equal).
_LABEL = r"(?!-)(?![a-z0-9]{2}--)[a-z0-9-]{1,63}(?<!-)"
_LDH = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")


@dataclass(frozen=True, slots=True)
class DomainName:
    ascii: str  # A-labels, lower case: xn--ph-ngon-h14c.vn
    unicode: str  # U-labels: phở-ngon.vn
    suffix: str  # its public suffix, A-labels: vn, com.vn, gov.vn


class DomainNameError(ValueError):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package, read once


def to_ascii(raw: str) -> tuple[str, str]:
    """(A-label form, U-label form) of any name, through IDNA 2008 with UTS 46 mapping (case
    folded, full-width forms mapped). One trailing dot (an absolute name) is dropped.
    Raises DomainNameError(domain_invalid | domain_too_long)."""
    text = raw.strip()
    if not text:
        raise DomainNameError(Reason("domain_missing", "the domain name is empty"))
    if len(text) > MAX_INPUT:
        raise DomainNameError(Reason("domain_too_long", f"over {MAX_NAME} characters"))
    text = text.removesuffix(".")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
        unicode_name = idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError) as exc:
        raise DomainNameError(_why(text, exc)) from None
    if len(ascii_name) > MAX_NAME:
        raise DomainNameError(
            Reason("domain_too_long", f"{len(ascii_name)} characters as A-labels, over {MAX_NAME}")
        )
    return ascii_name, unicode_name


def ascii_form(raw: str) -> str:
    """The A-label form ``to_ascii`` gives, without the U-label (RDAP's lookup key). A plain
    ASCII LDH name is only lower-cased: the IDNA passes would give it back unchanged. Raises
    DomainNameError as ``to_ascii``."""
    text = raw.strip().removesuffix(".").lower() if raw.isascii() else ""
    if len(text) <= MAX_NAME and _LDH.fullmatch(text):
        return text
    text = raw.strip()
    if not text:
        raise DomainNameError(Reason("domain_missing", "the domain name is empty"))
    if len(text) > MAX_INPUT:
        raise DomainNameError(Reason("domain_too_long", f"over {MAX_NAME} characters"))
    text = text.removesuffix(".")
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise DomainNameError(_why(text, exc)) from None
    if len(ascii_name) > MAX_NAME:
        raise DomainNameError(
            Reason("domain_too_long", f"{len(ascii_name)} characters as A-labels, over {MAX_NAME}")
        )
    return ascii_name


def _why(text: str, exc: Exception) -> Reason:
    """domain_too_long when every label is valid and only the whole is too long."""
    try:
        labels = idna.uts46_remap(text, std3_rules=True, transitional=False).split(".")
        length = len(b".".join(idna.alabel(label) for label in labels))
    except (idna.IDNAError, UnicodeError):
        length = 0
    if length > MAX_NAME:
        return Reason("domain_too_long", f"{length} characters as A-labels, over {MAX_NAME}")
    return Reason("domain_invalid", f"not a valid IDNA name: {exc}")


def parse_registrable(raw: str) -> DomainName:
    """A name a registrant can hold under .vn: exactly one label below a public suffix of
    .vn (``phở-ngon.vn``, ``example.com.vn``). Raises DomainNameError with the reason:
    domain_missing, domain_invalid, domain_too_long, domain_not_vn, domain_is_public_suffix
    (``com.vn`` itself) or domain_not_registrable (``www.example.vn``: register
    ``example.vn``)."""
    ascii_name, unicode_name = to_ascii(raw)
    if ascii_name.rsplit(".", 1)[-1] != TLD:
        raise DomainNameError(Reason("domain_not_vn", f"{ascii_name} is not under .{TLD}"))
    psl = _psl()
    suffix = psl.publicsuffix(ascii_name)
    registrable = psl.privatesuffix(ascii_name)
    if registrable is None or suffix is None:
        raise DomainNameError(Reason("domain_is_public_suffix", f"{ascii_name} is a public suffix"))
    if registrable != ascii_name:
        raise DomainNameError(
            Reason("domain_not_registrable", f"{ascii_name} lies under {registrable}")
        )
    return DomainName(ascii_name, unicode_name, suffix)


def parse_host(raw: str) -> str:
    """A host name (a name server) in A-label form; any TLD. Raises DomainNameError."""
    ascii_name, _ = to_ascii(raw)
    if "." not in ascii_name:
        raise DomainNameError(Reason("domain_invalid", f"{ascii_name} is not a host name"))
    return ascii_name
