"""Pure checks of a citizen record as a population-registry feed delivers it. No I/O."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from dinhdanh.identity.idnumber import IdNumberError, Sex, parse
from dinhdanh.identity.phone import e164_or_none
from dinhdanh.store.feeds import Reason

MAX_NAME = 200
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class CitizenRecord:
    id_number: str
    full_name: str
    date_of_birth: date
    sex: Sex
    province_code: str
    guardian_id_number: str | None = None
    date_of_death: date | None = None
    phone: str | None = None

    def canonical(self) -> str:
        """One string per distinct record: equal strings mean nothing changed.

        Fields are joined by U+001F, which no field can hold (names have whitespace collapsed,
        the rest are digits, dates and E.164).
        """
        return "\x1f".join(
            (
                self.id_number,
                self.full_name,
                self.date_of_birth.isoformat(),
                self.sex.value,
                self.guardian_id_number or "",
                self.date_of_death.isoformat() if self.date_of_death else "",
                self.phone or "",
            )
        )

    @classmethod
    def from_canonical(cls, text: str) -> CitizenRecord:
        """Inverse of canonical(); the input comes from our own sealed storage."""
        id_number, name, dob, sex, guardian, dod, phone = text.split("\x1f")
        return cls(
            id_number=id_number,
            full_name=name,
            date_of_birth=date.fromisoformat(dob),
            sex=Sex(sex),
            province_code=id_number[:3],
            guardian_id_number=guardian or None,
            date_of_death=date.fromisoformat(dod) if dod else None,
            phone=phone or None,
        )


def normalize_name(raw: str) -> str:
    """Unicode NFC, single spaces, no surrounding space: the stored form of a name."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", raw)).strip()


def fold_name(raw: str) -> str:
    """The matching form of a name: NFC, case-folded, spaces collapsed (blind-index input)."""
    return unicodedata.normalize("NFC", normalize_name(raw).casefold())


def parse_date(raw: str | None, field: str) -> date | Reason | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return Reason("invalid_date", f"{field} {text!r} is not a real ISO 8601 date")


def _parse_sex(raw: str | None) -> Sex | Reason:
    text = (raw or "").strip().upper()
    if text in ("M", "F"):
        return Sex(text)
    return Reason("invalid_sex", f"sex must be M or F, not {raw!r}")


def check_citizen(row: Mapping[str, str | None], today: date) -> CitizenRecord | list[Reason]:
    """Validate one row; return the record, or every reason it is rejected."""
    reasons: list[Reason] = []
    id_number = None
    try:
        id_number = parse(row.get("id_number") or "")
    except IdNumberError as exc:
        reasons.append(Reason(exc.code, str(exc)))

    name = normalize_name(row.get("full_name") or "")
    if not name:
        reasons.append(Reason("name_missing", "full_name is empty"))
    elif len(name) > MAX_NAME:
        reasons.append(Reason("name_too_long", f"full_name is over {MAX_NAME} characters"))

    dob = parse_date(row.get("date_of_birth"), "date_of_birth")
    if dob is None:
        reasons.append(Reason("invalid_date", "date_of_birth is missing"))
    elif isinstance(dob, Reason):
        reasons.append(dob)
    elif dob > today:
        reasons.append(Reason("birth_in_future", f"date_of_birth {dob} is after {today}"))

    dod = parse_date(row.get("date_of_death"), "date_of_death")
    if isinstance(dod, Reason):
        reasons.append(dod)
    elif dod is not None:
        if dod > today:
            reasons.append(Reason("death_in_future", f"date_of_death {dod} is after {today}"))
        if isinstance(dob, date) and dod < dob:
            reasons.append(Reason("death_before_birth", f"date_of_death {dod} precedes birth"))

    sex = _parse_sex(row.get("sex"))
    if isinstance(sex, Reason):
        reasons.append(sex)

    if id_number is not None and isinstance(dob, date) and isinstance(sex, Sex):
        reasons.extend(Reason(i.code, i.message) for i in id_number.validate_against(dob, sex))

    guardian = (row.get("guardian_id_number") or "").strip() or None
    if guardian is not None:
        try:
            guardian = parse(guardian).value
        except IdNumberError as exc:
            reasons.append(Reason("guardian_id_invalid", f"guardian_id_number: {exc}"))
        if id_number is not None and guardian == id_number.value:
            reasons.append(Reason("guardian_is_self", "a citizen cannot be their own guardian"))

    phone_raw = (row.get("phone") or "").strip()
    phone = e164_or_none(phone_raw) if phone_raw else None
    if phone_raw and phone is None:
        reasons.append(Reason("invalid_phone", f"phone {phone_raw!r} is not a Vietnamese mobile"))

    if reasons or id_number is None or not isinstance(dob, date) or not isinstance(sex, Sex):
        return reasons
    return CitizenRecord(
        id_number=id_number.value,
        full_name=name,
        date_of_birth=dob,
        sex=sex,
        province_code=id_number.province.code,
        guardian_id_number=guardian,
        date_of_death=dod if isinstance(dod, date) else None,
        phone=phone,
    )
