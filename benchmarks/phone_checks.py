"""Phone checks (social.phone): does a registered number take longer than an unknown one?

In-process, through the service (the unit of work a request runs), one platform, limits out
of the way. For each step, N calls for a number held by a registry citizen and N for a
number nobody holds, interleaved in random order:

- start (code sent): must not differ: it never reads the telecom registry;
- confirm with a wrong code: must not differ either;
- confirm with the right code: differs by design (a binding is written, or nothing is):
  only the SIM's holder, who has the code, can see this one.

Prints the median and p99 in milliseconds for each, and the ratio of the medians.

    .venv/bin/python benchmarks/phone_checks.py [--n 300] [--postgres]

PostgreSQL (with --postgres): DINHDANH_BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1/postgres); a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import scratch_postgres
from dinhdanh.crypto import generate_keyring, keyring_to_json
from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.telecom.feed import SubscriptionFeed, SubscriptionRecord, check_subscription
from dinhdanh.wiring import Container, build, init_data_dir

CTX = AccessContext("bench", "bench", "phone check benchmark")
HELD, NOBODY = "+84912345678", "+84987654321"


def _seed(c: Container, ring_json: str) -> None:
    now = datetime.now(UTC)
    rec = CitizenRecord("001090012345", "Nguyễn Văn An", date(1990, 5, 12), Sex.MALE, "001")
    row = {
        "msisdn": "0912345678",
        "id_number": rec.id_number,
        "full_name": rec.full_name,
        "date_of_birth": rec.date_of_birth.isoformat(),
        "activation_date": "2025-03-01",
        "channel": "store",
        "agent_id": "",
        "imei": "",
        "status": "active",
    }
    record = check_subscription(row, now.date())
    assert isinstance(record, SubscriptionRecord)
    prepared = SubscriptionFeed(ring_json).prepare_one(record)
    with c.unit_of_work() as s:
        c.registry.upsert(s, [rec], CTX, now)
        c.telecom.add_carrier(s, "VTL", "Viettel", now)
        c.social.add_platform(s, "bench", "Bench", ["https://bench.example/cb"], now)
    with c.unit_of_work() as s:
        c.telecom.apply_upload(s, "VTL", [prepared], CTX, now)
    pc = c.phone_checks
    pc.config = replace(pc.config, per_number=10**9, per_account=10**9, per_platform=10**9)


def _code(c: Container, e164: str) -> str:
    with c.unit_of_work() as s:
        msg = next(m for m in c.auth.outbox.messages(s, 10) if m.to == e164)
    found = re.search(r"Code (\d{6})\.", msg.text)
    assert found is not None
    return found.group(1)


def _since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _run(c: Container, n: int) -> dict[str, dict[str, list[float]]]:
    """One phase per step, so that no step pays for another's writes (the bindings the
    right codes write would otherwise slow the registered number's next calls)."""
    pc = c.phone_checks
    times: dict[str, dict[str, list[float]]] = {
        step: {HELD: [], NOBODY: []} for step in ("start", "wrong code", "right code")
    }
    order = [HELD, NOBODY] * n
    random.Random(7).shuffle(order)
    checks = []
    for i, number in enumerate(order):
        start = time.perf_counter()
        with c.unit_of_work() as s:
            check = pc.create(s, "bench", f"acct-{i}", number, datetime.now(UTC)).id
        times["start"][number].append(_since(start))
        checks.append((number, check, _code(c, number)))
    for step in ("wrong code", "right code"):
        for number, check, code in checks:
            sent = code if step == "right code" else f"{(int(code) + 1) % 1_000_000:06d}"
            start = time.perf_counter()
            with c.unit_of_work() as s:
                pc.confirm(s, "bench", check, sent, datetime.now(UTC))
            times[step][number].append(_since(start))
    return times


def _ms(values: list[float]) -> str:
    p99 = statistics.quantiles(values, n=100)[98]
    return f"median {statistics.median(values):6.2f} ms, p99 {p99:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    ring_json = keyring_to_json(generate_keyring())
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(scratch_postgres()) if args.postgres else None
        settings = Settings(data_dir=tmp / "var", database_url=url, keyring=ring_json)
        init_data_dir(settings)[1].dispose()
        c = build(settings)
        stack.callback(c.close)
        _seed(c, ring_json)
        times = _run(c, args.n)
    result = {}
    print(f"phone checks, {'PostgreSQL' if args.postgres else 'SQLite'}, n={args.n} each")
    for step, by in times.items():
        held, nobody = by[HELD], by[NOBODY]
        ratio = statistics.median(held) / statistics.median(nobody)
        print(f"  {step:10}  registered: {_ms(held)} | unknown: {_ms(nobody)} | x{ratio:.2f}")
        result[step] = {"ratio_of_medians": round(ratio, 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
