"""Pydantic shapes of the telecom API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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
        description="more rows were rejected than listed; `dinhdanh import subscriptions "
        "--rejects FILE` writes them all"
    )


class ActionOut(BaseModel):
    id: int
    msisdn: str
    action: str
    created_at: datetime


class ActionList(BaseModel):
    items: list[ActionOut]


class AckIn(BaseModel):
    ids: list[int] = Field(max_length=10_000)


class AckOut(BaseModel):
    acknowledged: int
