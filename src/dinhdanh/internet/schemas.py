"""Pydantic shapes of the registrar API."""

from __future__ import annotations

from datetime import datetime

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


class RegistrarActionOut(BaseModel):
    id: int
    domain: str = Field(description="A-label form")
    action: str = Field(description="verify | cleared | disowned (internet/actions.py)")
    reasons: list[str] = Field(description="the reason codes behind a verify or disowned")
    created_at: datetime


class RegistrarActionList(BaseModel):
    items: list[RegistrarActionOut]
