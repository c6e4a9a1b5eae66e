"""Which carrier may upload which number: number blocks by carrier, plus declared ports.

Finding 3 of the hardening issue: a carrier that uploaded another carrier's customers got
them flagged and locked. A carrier may upload a number only when the longest block prefix
that covers it is the carrier's own, or when the carrier declared the number ported in
(mobile number portability, 2018). Pure: the blocks and ports are loaded by the service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dinhdanh.store.feeds import Reason

__all__ = ["OUT_OF_RANGE", "NumberPlan", "national", "valid_prefix"]

OUT_OF_RANGE = Reason(
    "msisdn_out_of_range",
    "the number is in no block of this carrier and is not declared ported to it",
)
MAX_PREFIX = 9  # a whole national number: a block of one


def national(e164: str) -> str:
    """The nine national digits of a ``+84`` E.164 number."""
    return e164[3:] if e164.startswith("+84") else e164


def valid_prefix(prefix: str) -> bool:
    """A block is 1 to 9 leading digits of the national number (no trunk 0)."""
    return prefix.isascii() and prefix.isdigit() and 1 <= len(prefix) <= MAX_PREFIX


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """The blocks of every carrier (longest prefix wins) and the numbers ported to one."""

    carrier: str
    blocks: tuple[tuple[str, str], ...]  # (prefix, carrier), every carrier's
    ported_in: frozenset[str]  # E.164 numbers declared ported to ``carrier``

    @classmethod
    def of(
        cls, carrier: str, blocks: Iterable[tuple[str, str]], ported_in: Iterable[str]
    ) -> NumberPlan:
        ordered = tuple(sorted(blocks, key=lambda b: -len(b[0])))
        return cls(carrier, ordered, frozenset(ported_in))

    def holder(self, e164: str) -> str | None:
        """The carrier whose block covers the number most narrowly, if any."""
        digits = national(e164)
        for prefix, code in self.blocks:
            if digits.startswith(prefix):
                return code
        return None

    def allows(self, e164: str) -> bool:
        return e164 in self.ported_in or self.holder(e164) == self.carrier
