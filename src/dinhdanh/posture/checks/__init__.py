"""Checks: pure functions from observations (what a probe saw) to findings. No I/O here:
probes (posture/probes/) observe, checks judge, so every judgement is testable on data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"  # reported, no deadline, not in the index (e.g. "could not be tested")


@dataclass(frozen=True, slots=True)
class Found:
    """One problem seen on one target. ``code`` is stable (docs/posture.md lists them)."""

    code: str
    severity: Severity
    target: str  # an endpoint URL, or dns:NAME
    evidence: dict[str, Any] = field(default_factory=dict)

    def evidence_json(self) -> str:
        return json.dumps(self.evidence, sort_keys=True, ensure_ascii=False, default=str)
