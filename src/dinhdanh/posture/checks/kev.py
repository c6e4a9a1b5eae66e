"""Known exploited vulnerabilities: a catalogue in CISA KEV's JSON format, matched against
the products and versions a server discloses. Pure.

KEV entries name a vendor and a product but carry no version ranges. Two ways to match:

- **Stated ranges** (``AffectedRange``, from a local mapping file, ``load_ranges``): for a
  CVE with ranges, a disclosed ``product/version`` matches when the product is a range's
  (case-insensitive) and the version lies within its bounds, in NVD's CPE-match vocabulary
  (versionStartIncluding/Excluding, versionEndIncluding/Excluding), compared by
  ``packaging.version`` (PEP 440 ordering: 1.9 < 1.18.0 < 1.18.1). A version it cannot
  parse ("1.18.0-ubuntu") is no finding; a ``KEV_VERSION_UNKNOWN`` note (info: no deadline,
  not in the index) says the entry could not be decided.
- **Text** (CVEs without ranges): the versions appear in the vulnerability's name or
  description ("Apache HTTP Server 2.4.49 and 2.4.50 contain a path traversal"). A disclosed
  ``product/version`` matches when every word of the product is a word of the entry's
  vendor and product, and the version appears as a whole word in its name or description.
  That misses entries that state ranges only ("before 2.4.51"), which is what ranges are
  for; the finding cites the entry: a lead to confirm, not a verdict.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from packaging.version import InvalidVersion, Version

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


BOUNDS = (
    "versionStartIncluding",
    "versionStartExcluding",
    "versionEndIncluding",
    "versionEndExcluding",
)


@dataclass(frozen=True, slots=True)
class AffectedRange:
    """Versions of a product a CVE affects (NVD's CPE-match bounds; None: unbounded)."""

    cve_id: str
    product: str
    start_including: Version | None = None
    start_excluding: Version | None = None
    end_including: Version | None = None
    end_excluding: Version | None = None

    def contains(self, v: Version) -> bool:
        return not (
            (self.start_including is not None and v < self.start_including)
            or (self.start_excluding is not None and v <= self.start_excluding)
            or (self.end_including is not None and v > self.end_including)
            or (self.end_excluding is not None and v >= self.end_excluding)
        )

    def describe(self) -> str:
        parts = [
            f"{op} {bound}"
            for op, bound in (
                (">=", self.start_including),
                (">", self.start_excluding),
                ("<=", self.end_including),
                ("<", self.end_excluding),
            )
            if bound is not None
        ]
        return ", ".join(parts) or "every version"


def parse_range(row: Mapping[str, str | None]) -> AffectedRange:
    """One row of the mapping (cveID, product and the four bounds; empty: unbounded).
    Raises ValueError."""
    cve, product = (row.get("cveID") or "").strip(), (row.get("product") or "").strip()
    if not cve or not product:
        raise ValueError("cveID and product are required")
    bounds: list[Version | None] = []
    for name in BOUNDS:
        raw = (row.get(name) or "").strip()
        try:
            bounds.append(Version(raw) if raw else None)
        except InvalidVersion:
            raise ValueError(f"{name} {raw!r} is not a version") from None
    if bounds[0] is not None and bounds[1] is not None:
        raise ValueError("give versionStartIncluding or versionStartExcluding, not both")
    if bounds[2] is not None and bounds[3] is not None:
        raise ValueError("give versionEndIncluding or versionEndExcluding, not both")
    return AffectedRange(cve, product, *bounds)


def load_ranges(path: Path) -> list[AffectedRange]:
    """The mapping file (CSV with a header; settings.posture_kev_versions). Raises
    ValueError naming the line of the first bad row."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"cveID", "product"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: no column {', '.join(sorted(missing))}")
        out = []
        for row in reader:
            try:
                out.append(parse_range(row))
            except ValueError as exc:
                raise ValueError(f"{path}, line {reader.line_num}: {exc}") from None
    return out


def _by_ranges(
    target: str, product: str, version: str, entry: KevEntry, ranges: Sequence[AffectedRange]
) -> list[Found]:
    mine = [r for r in ranges if r.product.lower() == product.lower()]
    if not mine:
        return []
    disclosed = f"{product}/{version}"
    try:
        v = Version(version)
    except InvalidVersion:
        evidence = {
            "cve": entry.cve_id,
            "product": disclosed,
            "name": entry.name,
            "note": "version unknown: not comparable with the entry's version ranges",
        }
        return [Found("KEV_VERSION_UNKNOWN", Severity.INFO, target, evidence)]
    within = [r.describe() for r in mine if r.contains(v)]
    if not within:
        return []
    evidence = {"cve": entry.cve_id, "product": disclosed, "name": entry.name, "range": within[0]}
    return [Found("KNOWN_EXPLOITED", Severity.CRITICAL, target, evidence)]


def check_kev(
    target: str,
    disclosed: Iterable[tuple[str, str]],
    catalogue: Sequence[KevEntry],
    ranges: Sequence[AffectedRange] = (),
) -> list[Found]:
    """Entries with stated ranges are matched by them only; the others by their text."""
    by_cve: defaultdict[str, list[AffectedRange]] = defaultdict(list)
    for r in ranges:
        by_cve[r.cve_id].append(r)
    found = []
    for product, version in disclosed:
        for e in catalogue:
            if e.cve_id in by_cve:
                found += _by_ranges(target, product, version, e, by_cve[e.cve_id])
            elif matches(e, product, version):
                evidence = {"cve": e.cve_id, "product": f"{product}/{version}", "name": e.name}
                found.append(Found("KNOWN_EXPLOITED", Severity.CRITICAL, target, evidence))
    return found
