"""Known exploited vulnerabilities: a catalogue in CISA KEV's JSON format, matched against
the products and versions a server discloses. Pure.

KEV entries name a vendor and a product but carry no version ranges; the versions appear in
the vulnerability's name or description ("Apache HTTP Server 2.4.49 and 2.4.50 contain a path
traversal"). A disclosed ``product/version`` matches an entry when every word of the product
is a word of the entry's vendor and product, and the version appears as a whole word in its
name or description. That misses entries that state ranges only ("before 2.4.51"), which is
why the finding cites the entry: it is a lead to confirm, not a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from dinhdanh.posture.checks import Found, Severity

WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve_id: str
    vendor: str
    product: str
    name: str
    description: str
    date_added: date | None


def parse_catalogue(data: object) -> list[KevEntry]:
    """Entries of a KEV JSON document (``{"vulnerabilities": [...]}``). Raises ValueError."""
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise ValueError("not a KEV catalogue: no 'vulnerabilities' list")  # noqa: TRY004
    out = []
    for i, v in enumerate(data["vulnerabilities"]):
        try:
            added = v.get("dateAdded")
            out.append(
                KevEntry(
                    str(v["cveID"]),
                    str(v["vendorProject"]),
                    str(v["product"]),
                    str(v.get("vulnerabilityName", "")),
                    str(v.get("shortDescription", "")),
                    date.fromisoformat(added) if added else None,
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"vulnerability {i}: {exc}") from None
    return out


def _has_version(text: str, version: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(version)}(?![\w]|\.\d)", text) is not None


def matches(entry: KevEntry, product: str, version: str) -> bool:
    words = set(WORD.findall(f"{entry.vendor} {entry.product}".lower()))
    wanted = WORD.findall(product.lower())
    if not wanted or not set(wanted) <= words:
        return False
    return _has_version(f"{entry.name} {entry.description}", version)


def check_kev(
    target: str, disclosed: Iterable[tuple[str, str]], catalogue: Sequence[KevEntry]
) -> list[Found]:
    found = []
    for product, version in disclosed:
        for e in catalogue:
            if matches(e, product, version):
                evidence = {"cve": e.cve_id, "product": f"{product}/{version}", "name": e.name}
                found.append(Found("KNOWN_EXPLOITED", Severity.CRITICAL, target, evidence))
    return found
