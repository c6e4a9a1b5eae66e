"""Demo registry: a synthetic population imported through the real importer.

The feed carries a ``phone`` column (the importer's optional column): until the telecom
registry answers, enrolment sends its one-time code to this number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from dinhdanh.cli.demo.base import Demo, Seeded
from dinhdanh.store.batch import DEFAULT_CHUNK_SIZE
from dinhdanh.synth import CITIZEN_FIELDS, SynthCitizen


def feed_path(demo: Demo) -> Path:
    return demo.dir / f"citizens-{demo.seed}-{demo.count}-phones.csv"


def write_demo_feed(citizens: Iterable[SynthCitizen], path: Path) -> int:
    count = 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow((*CITIZEN_FIELDS, "phone"))
        for c in citizens:
            death = c.date_of_death
            writer.writerow(
                (
                    c.id_number,
                    c.full_name,
                    c.date_of_birth.isoformat(),
                    c.sex.value,
                    c.guardian_id_number or "",
                    death.isoformat() if death is not None else "",
                    c.phone,
                )
            )
            count += 1
    tmp.replace(path)
    return count


def seed(demo: Demo) -> Seeded:
    from dinhdanh.cli.imports import run_citizen_import
    from dinhdanh.synth import generate_population

    feed = feed_path(demo)
    feed.parent.mkdir(parents=True, exist_ok=True)
    if not feed.exists():
        write_demo_feed(generate_population(demo.count, seed=demo.seed), feed)
    result = run_citizen_import(
        demo.ctx,
        feed,
        rejects=None,
        strict=True,
        chunk_size=DEFAULT_CHUNK_SIZE,
        actor="cli:demo",
        quiet=demo.quiet,
    )
    line = (
        f"demo population: {result['total_rows']} citizens "
        f"({result['created']} new, {result['unchanged']} unchanged)"
    )
    return Seeded(result, [line])
