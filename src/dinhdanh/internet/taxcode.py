"""Vietnamese tax codes (mã số thuế): 10 digits, or 13 for a branch (``0101234567-001``).

Validated by python-stdnum's ``stdnum.vn.mst`` (length, digits, the check digit of the first
nine); nothing is computed here. The stored form is stdnum's compact one (digits only).
"""

from __future__ import annotations

from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
from stdnum.vn import mst

from dinhdanh.store.feeds import Reason

HEAD = 10  # digits of the enterprise's own code; a branch adds three


class TaxCodeError(ValueError):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason


def parse_tax_code(raw: str | None) -> str:
    """The compact tax code (10 or 13 digits). Raises TaxCodeError: tax_code_missing,
    tax_code_checksum, tax_code_component (an all-zero sequence or branch) or
    tax_code_format (length, non-digits)."""
    text = (raw or "").strip()
    if not text:
        raise TaxCodeError(Reason("tax_code_missing", "the tax code is empty"))
    try:
        return str(mst.validate(text))
    except InvalidChecksum:
        reason = Reason("tax_code_checksum", f"{text!r}: the check digit does not match")
    except InvalidComponent:
        reason = Reason("tax_code_component", f"{text!r}: zero sequence or branch number")
    except ValidationError:
        reason = Reason("tax_code_format", f"{text!r}: 10 digits, or 13 with a branch")
    raise TaxCodeError(reason)


def head_of(tax_code: str) -> str:
    """The enterprise's own code: a branch's first ten digits."""
    return tax_code[:HEAD]


def display(tax_code: str) -> str:
    """The usual written form: ``0101234567`` or ``0101234567-001``."""
    return str(mst.format(tax_code))
