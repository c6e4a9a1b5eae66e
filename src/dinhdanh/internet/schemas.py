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
