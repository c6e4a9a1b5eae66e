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
_PLAIN_LABEL = re.compile(_LABEL)
# The label separators IDNA splits on (RFC 3490 section 3.1), as the library does.
_DOTS = re.compile("[\u002e\u3002\uff0e\uff61]")


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
    Raises DomainNameError(domain_invalid | domain_too_long).

    The answer is ``idna.encode(name, uts46=True)`` and ``idna.decode`` of that, computed
    with less work (a batch import maps a million names and their name servers): a plain
    ASCII LDH name is only lower-cased, as both passes would give it back; otherwise the
    U-labels are taken from the mapped input, which is what decoding the A-labels it was
    encoded to gives back (tests/internet/test_names.py holds both equal to the library's
    two passes)."""
    text = _checked(raw)
    plain = _plain(text)
    if plain is not None:
        return plain, plain
    try:
        mapped = idna.uts46_remap(text, std3_rules=False)  # what encode(uts46=True) does first
        ascii_name, unicode_name = _both_forms(mapped)
    except (idna.IDNAError, UnicodeError) as exc:
        raise DomainNameError(_why(text, exc)) from None
    return _within(ascii_name), unicode_name


def ascii_form(raw: str) -> str:
    """The A-label form ``to_ascii`` gives, without the U-label (RDAP's lookup key). Raises
    DomainNameError as ``to_ascii``."""
    text = raw.strip().removesuffix(".") if raw.isascii() else ""
    plain = _plain(text) if text else None
    if plain is not None:
        return plain
    return to_ascii(raw)[0]  # the U-labels come almost free (``_both_forms``)


def _checked(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise DomainNameError(Reason("domain_missing", "the domain name is empty"))
    if len(text) > MAX_INPUT:
        raise DomainNameError(Reason("domain_too_long", f"over {MAX_NAME} characters"))
    return text.removesuffix(".")


def _plain(text: str) -> str | None:
    """``text`` lower-cased if it is a plain ASCII LDH name: one that IDNA 2008 with UTS 46
    gives back lower-cased and otherwise unchanged, as A-labels and as U-labels."""
    if not text.isascii():
        return None
    lowered = text.lower()
    return lowered if len(lowered) <= MAX_NAME and _LDH.fullmatch(lowered) else None


def _both_forms(mapped: str) -> tuple[str, str]:
    """``idna.encode(mapped)`` and ``idna.decode`` of that, label by label: a plain LDH label
    (``mapped`` is lower case) is its own A-label and U-label, as the library's checks give
    it back; another label goes through the library's ``alabel``, and a non-ASCII one,
    having passed its checks and been Punycode-encoded, is what decoding gives back. Names
    the library treats as a whole (an empty label, a trailing dot, over-long input) go
    through its two passes."""
    labels = _DOTS.split(mapped)
    if len(mapped) > MAX_NAME or not all(labels):
        ascii_name = idna.encode(mapped).decode("ascii")
        return ascii_name, idna.decode(ascii_name)
    ace: list[str] = []
    uni: list[str] = []
    for label in labels:
        if label.isascii() and _PLAIN_LABEL.fullmatch(label):
            ace.append(label)
            uni.append(label)
            continue
        a_label = idna.alabel(label).decode("ascii")
        ace.append(a_label)
        uni.append(idna.ulabel(a_label) if label.isascii() else label)
    return ".".join(ace), ".".join(uni)


def _within(ascii_name: str) -> str:
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
