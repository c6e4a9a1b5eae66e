"""Posture use cases, gathered: the register, the scanner built from the settings, and the
policy findings' deadlines follow."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from dinhdanh.internet.service import Internet
from dinhdanh.posture.checks.kev import load_ranges
from dinhdanh.posture.checks.tls import load_roots
from dinhdanh.posture.probes import Sslyze, resolver_for
from dinhdanh.posture.register import Register
from dinhdanh.posture.rules import DeadlinePolicy
from dinhdanh.posture.scan import ScanConfig, Scanner
from dinhdanh.privacy.audit import AuditLog
from dinhdanh.settings import Settings
from dinhdanh.staff.service import Staff

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def policy_of(s: Settings) -> DeadlinePolicy:
    """Deadlines by severity from the settings (rules.DeadlinePolicy halves them for
    systems of level 4 and 5)."""
    return DeadlinePolicy(
        critical=s.posture_deadline_critical_days,
        high=s.posture_deadline_high_days,
        medium=s.posture_deadline_medium_days,
        low=s.posture_deadline_low_days,
    )


@dataclass(frozen=True, slots=True)
class Posture:
    register: Register
    settings: Settings

    @property
    def policy(self) -> DeadlinePolicy:
        return policy_of(self.settings)

    def trust_store(self) -> Path:
        if self.settings.posture_trust_store is not None:
            return self.settings.posture_trust_store
        return Path(ssl.get_default_verify_paths().cafile or SYSTEM_BUNDLE)

    def scanner(self) -> Scanner:
        s = self.settings
        config = ScanConfig(
            concurrency=s.posture_concurrency,
            per_host=s.posture_per_host,
            timeout=s.posture_timeout_seconds,
            retries=s.posture_retries,
            risky_ports=frozenset(s.posture_risky_ports),
            warn_days=s.posture_cert_warn_days,
            policy=self.policy,
            kev_ranges=tuple(load_ranges(s.posture_kev_versions) if s.posture_kev_versions else ()),
        )
        bundle = self.trust_store()
        tool = Sslyze(s.posture_sslyze_python, str(bundle))
        resolver = resolver_for(s.posture_resolver, s.posture_timeout_seconds)
        return Scanner(self.register, config, tool, load_roots(bundle.read_bytes()), resolver)


def build_posture(settings: Settings, internet: Internet, staff: Staff, audit: AuditLog) -> Posture:
    return Posture(Register(internet, staff, audit, policy_of(settings)), settings)
