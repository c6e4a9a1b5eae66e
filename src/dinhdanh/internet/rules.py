"""Reconciliation rules for internet resources: reason codes and thresholds. Pure, no I/O.

Issue 12, point 4. Every domain name not ``deleted`` gets a verdict, ``ok`` with no reason
or ``flagged`` with every reason that applies; every IP block not ``returned`` likewise.

Person registrants (matched against the population registry by blind index):

- ``REGISTRANT_NOT_FOUND``: no citizen has the stated ID number (then no other registry
  check is made);
- ``REGISTRANT_MISMATCH``: the stated name or birth date differs from the registry's;
- ``REGISTRANT_DECEASED``: the registry lists the citizen as deceased;
- ``REGISTRANT_MINOR``: under ``internet_minor_age`` (default 18) on the day the name was
  registered, by the stated birth date; decided at upload by ``identity.age.is_over``, the
  platform's one age rule (internet/domains.py), and kept as a flag on the row;
- ``SHARED_REGISTRANT``: one ID number holds more than ``shared_registrant_limit`` (default
  10, ``DINHDANH_INTERNET_SHARED_REGISTRANT_LIMIT``) *unrelated* names at all registrars
  together: a proxy or a stolen identity. Names that share their label under different
  public suffixes (``phongon.vn``, ``phongon.com.vn``) are related and count once;
- ``REGISTRANT_DISOWNED``: the citizen said "not mine" on their "My internet resources"
  page. It holds for the name and the registrant it was said about: when the registrar
  re-uploads the name with another registrant, it no longer applies.

Organisation registrants (by tax code against the business registry): ``ORG_NOT_FOUND``,
``ORG_DISSOLVED`` (status ``dissolved``, or a dissolution date on or before the as-of day).

Any domain: ``EXPIRED_ACTIVE``, status ``active`` with ``expires`` before the as-of day.

IP blocks: ``HOLDER_NOT_FOUND`` (the holder's tax code is not in the business registry) and
``ORG_DISSOLVED`` (the holder is dissolved).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BITS", "Reason", "RuleConfig", "Verdict", "reasons_of"]


class Reason(StrEnum):
    REGISTRANT_NOT_FOUND = "REGISTRANT_NOT_FOUND"
    REGISTRANT_MISMATCH = "REGISTRANT_MISMATCH"
    REGISTRANT_DECEASED = "REGISTRANT_DECEASED"
    REGISTRANT_MINOR = "REGISTRANT_MINOR"
    ORG_NOT_FOUND = "ORG_NOT_FOUND"
    ORG_DISSOLVED = "ORG_DISSOLVED"
    EXPIRED_ACTIVE = "EXPIRED_ACTIVE"
    SHARED_REGISTRANT = "SHARED_REGISTRANT"
    REGISTRANT_DISOWNED = "REGISTRANT_DISOWNED"
    HOLDER_NOT_FOUND = "HOLDER_NOT_FOUND"


class Verdict(StrEnum):
    OK = "ok"
    FLAGGED = "flagged"


# Bit i of a row's mask is the i-th reason in declaration order.
BITS: Mapping[Reason, int] = {reason: 1 << i for i, reason in enumerate(Reason)}


def reasons_of(mask: int) -> list[Reason]:
    """The reasons whose bits are set in ``mask``, sorted by code."""
    return sorted(r for r, bit in BITS.items() if mask & bit)


@dataclass(frozen=True, slots=True)
class RuleConfig:
    shared_registrant_limit: int = 10

    def __post_init__(self) -> None:
        if self.shared_registrant_limit < 1:
            raise ValueError("shared_registrant_limit must be at least 1")
