"""Exposed services: configured risky ports open on a system's registered addresses. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from dinhdanh.posture.checks import Found, Severity

# Default list (settings.posture_risky_ports): remote shells and desktops, file sharing,
# databases and caches that should never face the internet.
RISKY_PORTS = (23, 445, 3389, 1433, 3306, 5432, 6379, 9200, 11211, 27017)
NAMES = {
    23: "telnet",
    445: "smb",
    3389: "rdp",
    1433: "mssql",
    3306: "mysql",
    5432: "postgresql",
    6379: "redis",
    9200: "elasticsearch",
    11211: "memcached",
    27017: "mongodb",
}


@dataclass(frozen=True, slots=True)
class PortObservation:
    host: str
    port: int
    open: bool
    unauthenticated: bool = False  # answered a data command without credentials

    @property
    def target(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


def check_port(obs: PortObservation, risky: frozenset[int]) -> list[Found]:
    if not obs.open or obs.port not in risky:
        return []
    evidence: dict[str, object] = {"service": NAMES.get(obs.port, "tcp")}
    if obs.unauthenticated:
        evidence["unauthenticated"] = True
    severity = Severity.CRITICAL if obs.unauthenticated else Severity.HIGH
    return [Found("RISKY_PORT_OPEN", severity, obs.target, evidence)]
