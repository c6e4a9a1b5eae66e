"""Pydantic shapes of the telecom API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt


class CarrierIn(BaseModel):
    code: str = Field(min_length=2, max_length=16, examples=["VTL"])
    name: str = Field(min_length=1, max_length=200, examples=["Viettel"])


class CarrierOut(BaseModel):
    code: str
    name: str
    api_key: str | None = Field(default=None, description="shown once, when created")


class RejectedRow(BaseModel):
    line: int
    msisdn: str
    reason: str


class UploadReport(BaseModel):
    run_id: str | None
    total_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="every rejected row, counted")
    resumed_from_line: int | None
    aborted: bool
    rejected_rows: list[RejectedRow] = Field(description="the first 100 rejected rows, by line")
    rejected_rows_truncated: bool = Field(
        description="more rows were rejected than listed; `rejected_rows_url` has them all"
    )
    rejected_rows_url: str | None = Field(
        default=None,
        description="when any row was rejected: GET it (CSV or ?format=jsonl) for every "
        "rejected row, for DINHDANH_UPLOAD_REJECTS_DAYS days",
    )


class ActionOut(BaseModel):
    id: int
    msisdn: str
    action: str
    created_at: datetime


class ActionList(BaseModel):
    items: list[ActionOut]


# An action id: the column is a 32-bit INTEGER on PostgreSQL, and SQLite's is 64-bit; a
# larger one was a database error (500). Strict: the document says integers, so true, "1" or
# 1.0 is refused, not read as an id.
ActionId = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]


class AckIn(BaseModel):
    ids: list[ActionId] = Field(max_length=10_000)


class AckOut(BaseModel):
    acknowledged: int
