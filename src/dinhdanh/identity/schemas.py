"""Pydantic shapes of the citizen registry at the API edge."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from dinhdanh.identity.provinces import province
from dinhdanh.identity.service import CitizenView


class ProvinceOut(BaseModel):
    code: str
    name: str


class CitizenOut(BaseModel):
    subject_id: str
    id_number: str
    full_name: str
    date_of_birth: date
    sex: str
    province: ProvinceOut
    guardian_id_number: str | None
    date_of_death: date | None
    phone: str | None

    @classmethod
    def of(cls, view: CitizenView) -> CitizenOut:
        rec = view.record
        prov = province(rec.province_code)
        return cls(
            subject_id=view.subject_id,
            id_number=rec.id_number,
            full_name=rec.full_name,
            date_of_birth=rec.date_of_birth,
            sex=rec.sex.value,
            province=ProvinceOut(code=rec.province_code, name=prov.name if prov else ""),
            guardian_id_number=rec.guardian_id_number,
            date_of_death=rec.date_of_death,
            phone=rec.phone,
        )


class CitizenList(BaseModel):
    items: list[CitizenOut]


class Lawful(BaseModel):
    """Why an officer reads personal data: every value goes into the audit entry."""

    legal_basis: str | None = Field(
        default=None, max_length=100, description="a code from DINHDANH_LEGAL_BASES (required)"
    )
    case_ref: str | None = Field(
        default=None,
        max_length=200,
        description="the case or file the read serves (required, 3-100 chars)",
    )
    purpose: str | None = Field(
        default=None, max_length=1000, description="an optional note on the read"
    )
    disclosure_delay_days: int | None = Field(
        default=None,
        ge=1,
        le=365,
        description="keep this read from the citizen's access log for so many days "
        "(DINHDANH_AUDIT_DELAY_BASES only, at most DINHDANH_AUDIT_MAX_DISCLOSURE_DAYS)",
    )


class LookupIn(Lawful):
    id_number: str = Field(max_length=32, description="12-digit personal identification number")


class SearchIn(Lawful):
    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date = Field(description="ISO 8601 date")
