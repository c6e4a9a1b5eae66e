"""Posture use cases, gathered: the register, findings and their lifecycle, and scans."""

from __future__ import annotations

from dataclasses import dataclass

from dinhdanh.internet.service import Internet
from dinhdanh.posture.register import Register
from dinhdanh.privacy.audit import AuditLog
from dinhdanh.staff.service import Staff


@dataclass(frozen=True, slots=True)
class Posture:
    register: Register


def build_posture(internet: Internet, staff: Staff, audit: AuditLog) -> Posture:
    return Posture(register=Register(internet, staff, audit))
