"""Pydantic shapes of the registrar API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RegistrarIn(BaseModel):
    code: str = Field(min_length=2, max_length=16, examples=["PAVN"])
    name: str = Field(min_length=1, max_length=200, examples=["P.A Việt Nam"])


class RegistrarOut(BaseModel):
    code: str
    name: str
    api_key: str | None = Field(default=None, description="shown once, when created")


class RejectedDomain(BaseModel):
    line: int
    domain: str
    reason: str


class DomainUploadReport(BaseModel):
    run_id: str | None
    total_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="every rejected row, counted")
    resumed_from_line: int | None
    aborted: bool
    rejected_rows: list[RejectedDomain] = Field(description="the first 100 rejected rows")
    rejected_rows_truncated: bool = Field(
        description="more rows were rejected than listed; `rejected_rows_url` has them all"
    )
    rejected_rows_url: str | None = Field(
        default=None,
        description="when any row was rejected: GET it (CSV or ?format=jsonl) for every "
        "rejected row, for DINHDANH_UPLOAD_REJECTS_DAYS days",
    )
