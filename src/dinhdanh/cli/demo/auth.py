"""Demo citizens: three with an account (password and TOTP, kept in ``demo-citizens.json``)
and three without, who can try enrolment. All are living adults whose code would reach a
number the telecom registry lists for them, so this seeder runs after the telecom one."""

from __future__ import annotations

import base64
import csv
import json
import os
import time
from datetime import date
from pathlib import Path

from dinhdanh.auth import totp
from dinhdanh.cli.common import container_from, fail
from dinhdanh.cli.demo.base import Demo, Seeded, write_private
from dinhdanh.cli.demo.identity import feed_path
from dinhdanh.identity import indexes
from dinhdanh.wiring import Container

DEMO_CITIZENS = 3


def _is_adult(born: str, today: date) -> bool:
    dob = date.fromisoformat(born)
    return (today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))) >= 18


def _pick_citizens(
    c: Container, feed: Path, n: int, *, skip: set[str], born_before: str = "9999"
) -> list[dict[str, str]]:
    """The first ``n`` living adults (file order: deterministic) whose enrolment code would
    reach a number the telecom registry lists for them; ``phone`` is the first such number."""
    picked: list[dict[str, str]] = []
    now = c.clock()
    with feed.open(encoding="utf-8", newline="") as handle, c.unit_of_work() as session:
        for row in csv.DictReader(handle):
            if row["date_of_death"] or row["id_number"] in skip:
                continue
            if row["date_of_birth"] >= born_before or not _is_adult(row["date_of_birth"], now):
                continue
            subject = c.auth.accounts.subject_of(session, row["id_number"])
            if subject is None:
                continue
            id_bidx = indexes.id_index(c.ring, row["id_number"])
            numbers = c.auth.phones.numbers_for(session, id_bidx, subject, now)
            if not numbers:
                continue
            picked.append(
                {
                    "id_number": row["id_number"],
                    "full_name": row["full_name"],
                    "date_of_birth": row["date_of_birth"],
                    "phone": numbers[0],
                }
            )
            if len(picked) == n:
                break
    return picked


def _demo_password() -> str:
    # Four random groups: long, not in the common-password list, no personal data.
    return "-".join(os.urandom(3).hex() for _ in range(4))


def _ensure_citizens(c: Container, path: Path, feed: Path) -> list[dict[str, str]]:
    if not path.exists():
        people = _pick_citizens(c, feed, DEMO_CITIZENS, skip=set())
        for person in people:
            person["password"] = _demo_password()
            secret = totp.new_secret()
            person["totp_secret"] = base64.b32encode(secret).decode().rstrip("=")
        write_private(path, json.dumps(people, ensure_ascii=False, indent=2) + "\n")
    people = list(json.loads(path.read_text(encoding="utf-8")))
    now = c.clock()
    with c.unit_of_work() as session:
        for person in people:
            if c.auth.accounts.by_id_number(session, person["id_number"]) is not None:
                continue  # already there (a re-run): leave it as the citizen left it
            subject = c.auth.accounts.subject_of(session, person["id_number"])
            if subject is None:
                fail(f"demo citizen {person['id_number']} is not in the registry")
            account = c.auth.accounts.create(session, subject, 1, now)
            if c.auth.accounts.set_password(account, person["password"], [], now):
                fail("the demo password does not pass the password policy")
            b32 = person["totp_secret"]
            c.auth.accounts.set_totp(account, base64.b32decode(b32 + "=" * (-len(b32) % 8)), now)
    return people


def _with_code(person: dict[str, str]) -> dict[str, str]:
    b32 = person["totp_secret"]
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    return person | {"totp_code": totp.totp_at(secret, int(time.time()))}


def seed(demo: Demo) -> Seeded:
    feed = feed_path(demo)
    with container_from(demo.ctx) as c:
        people = _ensure_citizens(c, demo.settings.data_dir / "demo-citizens.json", feed)
        # A few citizens without an account who can try enrolment (born before 2000).
        enrolable = _pick_citizens(
            c, feed, 3, skip={p["id_number"] for p in people}, born_before="2000-01-01"
        )
        issuer = c.auth.issuer
    lines = [
        f"demo citizens (log in at {issuer}/login; `dinhdanh demo --json` prints current codes):"
    ]
    lines += [
        f"  {p['id_number']}  password {p['password']}  TOTP secret {p['totp_secret']}"
        for p in people
    ]
    lines.append(f"citizens who can enrol at {issuer}/enrol (code on /dev/outbox in dev):")
    lines += [f"  {p['id_number']}  {p['full_name']}  {p['date_of_birth']}" for p in enrolable]
    result = {
        "issuer": issuer,
        "citizens": [_with_code(p) for p in people],
        "enrolable": enrolable,
    }
    return Seeded(result, lines)
