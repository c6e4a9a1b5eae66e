"""Demo telecom registry: the population's SIM subscriptions at three demo carriers.

Subscriptions come from ``synth.telecom.generate_subscriptions`` over the same population and
go through the real importer, one upload per carrier: enrolment sends its codes to the
numbers the telecom registry lists (``auth.phones``). About 2 % of them are planted junk (a
stolen ID, a wrong name...), so a few citizens have no usable number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dinhdanh.cli.common import container_from
from dinhdanh.cli.demo.base import Demo, Seeded
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.store.batch import DEFAULT_CHUNK_SIZE, BatchReport, OnReject, Progress
from dinhdanh.store.private import spill_dir
from dinhdanh.synth.telecom import SynthSubscription
from dinhdanh.telecom.feed import COLUMNS as SUBSCRIPTION_COLUMNS
from dinhdanh.telecom.msisdn import CARRIERS
from dinhdanh.wiring import Container

DEMO_CARRIERS = ("VTL", "VNP", "MBF")


def write_demo_subscriptions(subscriptions: Iterable[SynthSubscription], out_dir: Path) -> None:
    """One upload file per carrier, in the carriers' upload columns, and beside it the
    numbers the carrier declares ported in (``CODE.ports``, one a line)."""
    from dinhdanh.synth.telecom import ported

    handles, ports = {}, {}
    try:
        for code in DEMO_CARRIERS:
            handles[code] = (out_dir / f"{code}.tmp").open("w", encoding="utf-8", newline="")
            ports[code] = (out_dir / f"{code}.ports.tmp").open("w", encoding="utf-8")
        writers = {code: csv.writer(h) for code, h in handles.items()}
        for w in writers.values():
            w.writerow(SUBSCRIPTION_COLUMNS)
        for sub in subscriptions:
            row = sub.upload_row()
            writers[sub.carrier].writerow([row[col] for col in SUBSCRIPTION_COLUMNS])
            if ported(sub):
                ports[sub.carrier].write(sub.msisdn + "\n")
    finally:
        for h in (*handles.values(), *ports.values()):
            h.close()
    for code in DEMO_CARRIERS:
        (out_dir / f"{code}.ports.tmp").replace(out_dir / f"{code}.ports")
        (out_dir / f"{code}.tmp").replace(out_dir / f"{code}.csv")


def _import_subscriptions(demo: Demo, out_dir: Path) -> dict[str, Any]:
    """Register the demo carriers (once) and import their uploads (a re-run changes nothing)."""
    from dinhdanh.cli.imports import run_import
    from dinhdanh.telecom.blocks import declare_ports
    from dinhdanh.telecom.importer import import_subscriptions

    with container_from(demo.ctx) as c, c.unit_of_work() as session:
        known = {carrier.code for carrier in c.telecom.carriers(session)}
        for code in DEMO_CARRIERS:
            if code not in known:
                c.telecom.add_carrier(session, code, CARRIERS[code].name, c.clock())
            ported = out_dir / f"{code}.ports"
            if ported.exists():
                numbers = ported.read_text(encoding="utf-8").split()
                declare_ports(session, code, numbers, c.clock())
    results: dict[str, Any] = {}
    for code in DEMO_CARRIERS:

        def run(
            c: Container, progress: Progress, on_reject: OnReject | None, code: str = code
        ) -> BatchReport:
            return import_subscriptions(
                out_dir / f"{code}.csv",
                carrier=code,
                telecom=c.telecom,
                ring=c.ring,
                unit_of_work=c.unit_of_work,
                ctx=AccessContext("cli:demo", "carrier_upload", f"demo upload of {code}"),
                clock=c.clock,
                today=c.clock().date(),
                minor_age=c.settings.telecom_minor_age,
                chunk_size=DEFAULT_CHUNK_SIZE,
                workers=1,
                spill_dir=spill_dir(c.settings.data_dir),
                progress=progress,
                on_reject=on_reject,
            )

        report = run_import(demo.ctx, run, rejects=None, label="msisdn", quiet=demo.quiet)
        results[code] = {k: report[k] for k in ("total_rows", "created", "unchanged", "rejected")}
    return results


def seed(demo: Demo) -> Seeded:
    from dinhdanh.synth import generate_population
    from dinhdanh.synth.telecom import generate_subscriptions

    subs_dir = demo.dir / f"subscriptions-{demo.seed}-{demo.count}"
    if not (subs_dir / f"{DEMO_CARRIERS[-1]}.ports").exists():
        subs_dir.mkdir(parents=True, exist_ok=True)
        population = generate_population(demo.count, seed=demo.seed)
        write_demo_subscriptions(
            generate_subscriptions(population, seed=demo.seed + 1, carriers=DEMO_CARRIERS),
            subs_dir,
        )
    subscriptions = _import_subscriptions(demo, subs_dir)
    line = "demo carriers: " + ", ".join(
        f"{k} {v['total_rows']} subscriptions" for k, v in subscriptions.items()
    )
    return Seeded({"subscriptions": subscriptions}, [line])
