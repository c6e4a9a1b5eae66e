"""Seeded synthetic internet resources: organisations with valid tax codes, domain names with
Vietnamese words (U-labels with diacritics), IP blocks with sub-allocations, AS numbers.

Tax codes get their check digit from python-stdnum (``vn.mst.calc_check_digit``); a
nine-digit stem whose check would be 10 has no valid code and is skipped. Every row is in the
feed format of its import (internet/organisations.py, domains.py, resources.py). Everything
random comes from one ``random.Random(seed)``.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from stdnum.vn import mst

from dinhdanh.internet.domains import COLUMNS as DOMAIN_COLUMNS
from dinhdanh.internet.organisations import COLUMNS as ORGANISATION_COLUMNS
from dinhdanh.internet.resources import ASN_COLUMNS, IP_COLUMNS
from dinhdanh.synth.population import SynthCitizen

__all__ = [
    "ASN_COLUMNS",
    "DOMAIN_COLUMNS",
    "IP_COLUMNS",
    "ORGANISATION_COLUMNS",
    "SynthResources",
    "generate_resources",
    "tax_code",
    "write_feed",
]

Row = dict[str, str]

# Words of shop and company names, Vietnamese with diacritics (NFC).
WORDS = (
    "phở", "bánh", "mì", "cơm", "tấm", "cà", "phê", "trà", "sữa", "hoa", "quả", "nhà", "đất",
    "xanh", "đỏ", "vàng", "sông", "núi", "biển", "mây", "gió", "sao", "trăng", "việt", "nam",
    "hà", "nội", "sài", "gòn", "huế", "đà", "nẵng", "học", "sách", "thời", "trang", "du", "lịch",
)  # fmt: skip
KINDS = ("Công ty TNHH", "Công ty Cổ phần", "Doanh nghiệp tư nhân", "Hợp tác xã")
STREETS = ("Hàng Bông", "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Bạch Đằng", "Hai Bà Trưng")
CITIES = ("Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Huế")
SUFFIXES = ("vn", "com.vn", "net.vn", "org.vn", "edu.vn", "biz.vn", "info.vn")
TAX_PROVINCES = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13")


def tax_code(rng: random.Random) -> str:
    """A valid 10-digit tax code (the check digit computed by stdnum)."""
    while True:
        stem = rng.choice(TAX_PROVINCES) + f"{rng.randrange(1, 10**7):07d}"
        check = mst.calc_check_digit(stem)
        if len(check) == 1:  # 10: this stem has no valid code
            return stem + check


@dataclass
class SynthResources:
    organisations: list[Row]
    domains: list[Row]
    ip_blocks: list[Row]
    asns: list[Row]


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def _organisations(
    rng: random.Random, n: int, reps: Sequence[SynthCitizen], today: date
) -> list[Row]:
    rows: list[Row] = []
    seen: set[str] = set()
    while len(rows) < n:
        code = tax_code(rng)
        if code in seen:
            continue
        seen.add(code)
        established = _day(rng, date(1995, 1, 1), today)
        dissolved = _day(rng, established, today) if rng.random() < 0.05 else None
        name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 3))).title()
        rep = rng.choice(reps).id_number if reps and rng.random() < 0.9 else ""
        rows.append(
            {
                "tax_code": code,
                "name": f"{rng.choice(KINDS)} {name}",
                "address": f"{rng.randint(1, 300)} {rng.choice(STREETS)}, {rng.choice(CITIES)}",
                "status": "dissolved" if dissolved else "active",
                "established": established.isoformat(),
                "dissolved": dissolved.isoformat() if dissolved else "",
                "legal_rep_id_number": rep,
            }
        )
        if rng.random() < 0.1 and len(rows) < n:  # a branch: same head code, -001
            rows.append(rows[-1] | {"tax_code": f"{code}-001", "name": f"Chi nhánh {name}"})
    return rows


def _labels(rng: random.Random) -> Iterator[str]:
    while True:
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
        yield ("-" if rng.random() < 0.3 else "").join(words) + (
            str(rng.randint(1, 99)) if rng.random() < 0.2 else ""
        )


def _domains(
    rng: random.Random,
    n: int,
    people: Sequence[SynthCitizen],
    organisations: Sequence[Row],
    today: date,
) -> list[Row]:
    rows: list[Row] = []
    names: set[str] = set()
    labels = _labels(rng)
    living = [p for p in people if p.date_of_death is None and p.date_of_birth < today]
    while len(rows) < n:
        name = f"{next(labels)}.{rng.choice(SUFFIXES)}"
        if name in names:
            continue
        names.add(name)
        created = _day(rng, date(2005, 1, 1), today)
        row = {
            "domain": name,
            "created": created.isoformat(),
            "expires": (created + timedelta(days=365 * rng.randint(1, 10))).isoformat(),
            "nameservers": f"ns1.{name} ns2.{name}" if rng.random() < 0.5 else "",
            "status": "active",
            "registrant_dob": "",
        }
        if living and (not organisations or rng.random() < 0.5):
            p = rng.choice(living)
            row |= {
                "registrant_type": "person",
                "registrant_id": p.id_number,
                "registrant_name": p.full_name,
                "registrant_dob": p.date_of_birth.isoformat(),
            }
        else:
            org = rng.choice(organisations)
            row |= {
                "registrant_type": "organisation",
                "registrant_id": org["tax_code"],
                "registrant_name": org["name"],
            }
        rows.append(row)
    return rows


def _ip_blocks(rng: random.Random, holders: Sequence[str], today: date) -> list[Row]:
    """Per holder one IPv4 /16 from 10.0.0.0/8 (some with a /24 sub-allocation of its own)
    and one IPv6 /32 from 2001:db8::/16-style space: disjoint across holders."""
    rows: list[Row] = []
    v4 = rng.sample(range(256), k=min(len(holders), 256))  # 10.x.0.0/16
    for i, holder in enumerate(holders[: len(v4)]):
        block = IPv4Network((0x0A000000 | (v4[i] << 16), 16))
        allocated = _day(rng, date(2000, 1, 1), today).isoformat()
        rows.append(_ip_row(block, holder, allocated, "allocated"))
        if rng.random() < 0.5:
            sub = IPv4Network((int(block.network_address) | (rng.randrange(256) << 8), 24))
            rows.append(_ip_row(sub, holder, allocated, "assigned"))
        v6 = IPv6Network(((0x2402 << 112) | (i << 96), 32))
        rows.append(_ip_row(v6, holder, allocated, "allocated"))
    return rows


def _ip_row(net: IPv4Network | IPv6Network, holder: str, allocated: str, status: str) -> Row:
    return {
        "cidr": str(net),
        "holder_tax_code": holder,
        "asn": "",
        "allocated": allocated,
        "status": status,
    }


def _asns(rng: random.Random, holders: Sequence[str], today: date) -> list[Row]:
    numbers = rng.sample(range(131_072, 141_625), k=min(len(holders), 10_000))
    return [
        {
            "asn": f"AS{asn}",
            "holder_tax_code": holder,
            "name": f"AS-{holder}",
            "allocated": _day(rng, date(2000, 1, 1), today).isoformat(),
            "status": "allocated",
        }
        for asn, holder in zip(numbers, holders, strict=False)
    ]


def generate_resources(
    *,
    organisations: int,
    domains: int,
    people: Sequence[SynthCitizen] = (),
    seed: int = 20260101,
    today: date = date(2026, 1, 1),
) -> SynthResources:
    """Organisations (legal representatives drawn from ``people``), domains registered to
    ``people`` and organisations, and IP blocks and ASNs held by head organisations."""
    rng = random.Random(seed)
    orgs = _organisations(rng, organisations, people, today)
    heads = [o["tax_code"] for o in orgs if "-" not in o["tax_code"]]
    blocks = _ip_blocks(rng, heads, today)
    asns = _asns(rng, heads, today)
    return SynthResources(orgs, _domains(rng, domains, people, orgs, today), blocks, asns)


def write_feed(path: Path, rows: Sequence[Row], columns: Sequence[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns))
        w.writeheader()
        w.writerows(rows)
    return path
