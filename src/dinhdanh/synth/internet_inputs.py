"""Seeded inputs of the internet reconciliation engine at scale (benchmarks/reconcile_internet.py).

The engine sees blind indexes as opaque 16-byte values compared for equality, so these are
drawn at random (one ``numpy`` generator, fixed seed) rather than computed from synthetic
people: what matters is which rows share a value. Every reason code is planted at a known
rate. Columns are those of ``internet.reconcile``'s inputs; files are Parquet in ``out``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["EngineInputs", "write_engine_inputs"]

SUFFIXES = np.array(["vn", "com.vn", "net.vn", "org.vn", "edu.vn"])
REGISTRARS = 10
DISSOLVED = (date(2010, 1, 1), date(2025, 12, 31))
SHARED_NAMES = 15  # names of each planted shared registrant (the default limit is 10)


@dataclass(frozen=True, slots=True)
class EngineInputs:
    citizens: int
    organisations: int
    domains: int
    ipblocks: int


def _bidx(raw: np.ndarray) -> pa.Array:
    """(n, 16) uint8 -> a binary column."""
    n = len(raw)
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), n, [None, pa.py_buffer(np.ascontiguousarray(raw).tobytes())]
    )
    return fixed.cast(pa.binary())


def _days(rng: np.random.Generator, n: int, first: date, last: date) -> np.ndarray:
    span = (np.datetime64(last) - np.datetime64(first)).astype(int)
    return np.datetime64(first) + rng.integers(0, span, n).astype("timedelta64[D]")


def write_engine_inputs(
    out: Path, *, citizens: int, domains: int, organisations: int, ipblocks: int, seed: int
) -> EngineInputs:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    ids = rng.integers(0, 256, (citizens, 16), dtype=np.uint8)
    names = rng.integers(0, 256, (citizens, 16), dtype=np.uint8)
    dobs = rng.integers(0, 256, (citizens, 16), dtype=np.uint8)
    registry = pa.table(
        {
            "id_bidx": _bidx(ids),
            "name_bidx": _bidx(names),
            "dob_bidx": _bidx(dobs),
            "deceased": rng.random(citizens) < 0.005,
        }
    )
    pq.write_table(registry, out / "registry.parquet")
    del registry

    codes = np.char.zfill(np.arange(100_000_000, 100_000_000 + organisations).astype(str), 10)
    dissolved = rng.random(organisations) < 0.03
    pq.write_table(
        pa.table(
            {
                "tax_code": codes,
                "status": np.where(dissolved, "dissolved", "active"),
                "dissolved": pa.array(
                    np.where(
                        dissolved, _days(rng, organisations, *DISSOLVED), np.datetime64("NaT")
                    ),
                    pa.date32(),
                    from_pandas=True,
                ),
            }
        ),
        out / "organisations.parquet",
    )

    n = domains
    person = rng.random(n) < 0.8
    holder = rng.integers(0, citizens, n)
    # Planted shared registrants: a few citizens holding SHARED_NAMES names each.
    shared = np.flatnonzero(person)[: max(1, n // 2000) * SHARED_NAMES]
    holder[shared] = rng.integers(0, citizens, len(shared) // SHARED_NAMES + 1).repeat(
        SHARED_NAMES
    )[: len(shared)]
    id_b, name_b, dob_b = ids[holder].copy(), names[holder].copy(), dobs[holder].copy()
    unknown = rng.random(n) < 0.01
    id_b[unknown] = rng.integers(0, 256, (int(unknown.sum()), 16), dtype=np.uint8)
    wrong_name = rng.random(n) < 0.01
    name_b[wrong_name] = rng.integers(0, 256, (int(wrong_name.sum()), 16), dtype=np.uint8)
    wrong_dob = rng.random(n) < 0.01
    dob_b[wrong_dob] = rng.integers(0, 256, (int(wrong_dob.sum()), 16), dtype=np.uint8)
    # 1 % of organisation registrants name a tax code the registry does not list.
    org_code = np.char.zfill(
        (100_000_000 + rng.integers(0, int(organisations * 1.01) + 1, n)).astype(str), 10
    )
    ascii_names = np.char.add(
        np.char.add("d", np.arange(n).astype(str)), np.char.add(".", rng.choice(SUFFIXES, n))
    )
    created = _days(rng, n, date(2005, 1, 1), date(2025, 12, 31))
    # Renewed names run past 2026-01-01; about 1 % lapsed in the month before.
    expires = np.datetime64("2026-01-01") + rng.integers(-30, 3000, n).astype("timedelta64[D]")
    status = rng.choice(
        np.array(["active", "expired", "suspended", "deleted"]), n, p=[0.95, 0.02, 0.01, 0.02]
    )
    null_bidx = pa.nulls(n, pa.binary())
    mask = pa.array(~person)
    domains_table = pa.table(
        {
            "registrar": np.char.add("R", (rng.integers(0, REGISTRARS, n)).astype(str)),
            "ascii_name": ascii_names,
            "registrant_type": np.where(person, "person", "organisation"),
            "registrant_tax_code": pc.if_else(mask, pa.array(org_code), pa.nulls(n, pa.string())),
            "registrant_id_bidx": pc.if_else(mask, null_bidx, _bidx(id_b)),
            "registrant_name_bidx": pc.if_else(mask, null_bidx, _bidx(name_b)),
            "registrant_dob_bidx": pc.if_else(mask, null_bidx, _bidx(dob_b)),
            "registrant_minor": pc.if_else(
                mask, pa.nulls(n, pa.bool_()), pa.array(rng.random(n) < 0.005)
            ),
            "created": pa.array(created, pa.date32()),
            "expires": pa.array(expires, pa.date32()),
            "status": status,
        }
    )
    pq.write_table(domains_table, out / "domains.parquet")
    gone = rng.random(n) < 0.001
    disowned = domains_table.filter(pa.array(person & gone)).select(
        ["ascii_name", "registrant_id_bidx"]
    )
    pq.write_table(disowned.rename_columns(["ascii_name", "id_bidx"]), out / "disowned.parquet")
    del domains_table

    blocks = np.arange(ipblocks)
    holders = np.char.zfill(
        (100_000_000 + rng.integers(0, int(organisations * 1.01) + 1, ipblocks)).astype(str), 10
    )
    pq.write_table(
        pa.table(
            {
                "cidr": np.char.add(
                    np.char.add(
                        np.char.mod("2001:%x:", 0x4000 + (blocks >> 16)),
                        np.char.mod("%x", blocks & 0xFFFF),
                    ),
                    "::/48",
                ),
                "holder_tax_code": holders,
                "status": rng.choice(np.array(["allocated", "assigned", "returned"]), ipblocks),
            }
        ),
        out / "ipblocks.parquet",
    )
    return EngineInputs(citizens, organisations, n, ipblocks)
