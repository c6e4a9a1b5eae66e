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

    @property
    def item(self) -> str:
        """Which one, where a target can have a code more than once (a CVE, a cookie)."""
        return str(self.evidence.get("cve") or self.evidence.get("cookie") or "")[:120]


# Which check family decides each code: a re-check of a family that ran on a target fixes
# that family's findings it did not see again, and only those.
FAMILIES: dict[str, frozenset[str]] = {
    "tls": frozenset(
        {
            "TLS_PROTOCOL_OBSOLETE",
            "TLS_CIPHER_WEAK",
            "CERT_EXPIRED",
            "CERT_EXPIRING",
            "CERT_UNTRUSTED",
            "CERT_HOSTNAME_MISMATCH",
            "CERT_KEY_WEAK",
            "TLS_PQ_HYBRID_UNKNOWN",
            "TLS_PQ_HYBRID_MISSING",
        }
    ),
    "http": frozenset(
        {
            "HSTS_MISSING",
            "CSP_MISSING",
            "XCTO_MISSING",
            "FRAME_ANCESTORS_MISSING",
            "COOKIE_INSECURE",
            "SERVER_VERSION_DISCLOSED",
            "KNOWN_EXPLOITED",
            "KEV_VERSION_UNKNOWN",
        }
    ),
    "redirect": frozenset({"HTTP_NO_HTTPS_REDIRECT"}),
    "dns": frozenset({"SPF_MISSING", "DMARC_WEAK", "DNSSEC_MISSING"}),
    "port": frozenset({"RISKY_PORT_OPEN"}),
}
FAMILY_OF = {code: family for family, codes in FAMILIES.items() for code in codes}
