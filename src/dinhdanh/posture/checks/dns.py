"""Email and DNS checks of a registered domain (CISA BOD 18-01: SPF, DMARC at reject or
quarantine; internet.nl: DNSSEC). Pure: the probe asks checkdmarc and dnspython."""

from __future__ import annotations

from dataclasses import dataclass

from dinhdanh.posture.checks import Found, Severity

STRONG_DMARC = frozenset({"reject", "quarantine"})


@dataclass(frozen=True, slots=True)
class DnsObservation:
    domain: str
    spf: str | None  # the SPF record, None when there is none
    spf_error: str | None  # checkdmarc's complaint (syntax, too many lookups...)
    dmarc_policy: str | None  # p= of the DMARC record, None when there is none
    dmarc_error: str | None
    signed: bool  # the zone's DNSKEY set came with an RRSIG (or the resolver said AD)

    @property
    def target(self) -> str:
        return f"dns:{self.domain}"


def check_dns(obs: DnsObservation) -> list[Found]:
    found = []
    if obs.spf is None or obs.spf_error:
        evidence = {"record": obs.spf, "error": obs.spf_error}
        found.append(Found("SPF_MISSING", Severity.MEDIUM, obs.target, evidence))
    if (obs.dmarc_policy or "").lower() not in STRONG_DMARC or obs.dmarc_error:
        evidence = {"policy": obs.dmarc_policy, "error": obs.dmarc_error}
        found.append(Found("DMARC_WEAK", Severity.MEDIUM, obs.target, evidence))
    if not obs.signed:
        found.append(Found("DNSSEC_MISSING", Severity.LOW, obs.target, {}))
    return found
