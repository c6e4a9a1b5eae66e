"""`dinhdanh demo`: a synthetic population, its SIM subscriptions at three demo carriers, a demo
officer key, a demo platform (OIDC client) and a few demo citizens with an account, so a
newcomer can try the API, log in and enrol at once.

Subscriptions come from ``synth.telecom.generate_subscriptions`` over the same population and
go through the real importer, one upload per carrier (VTL, VNP, MBF): enrolment sends its
codes to the numbers the telecom registry lists (``auth.phones``). About 2 % of them are
planted junk (a stolen ID, a wrong name...), so a few citizens have no usable number.

Idempotent: secrets are generated once and kept in the data directory (mode 0600):
``demo-officer.key``, ``demo-client.json`` (client id and secret) and ``demo-citizens.json``
(ID numbers, passwords, TOTP secrets). A re-run re-imports nothing, creates nothing and prints
the same credentials (the current TOTP code aside).
"""

from __future__ import annotations

import base64
import csv
import json
import os
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from dinhdanh.auth import opaque, totp
from dinhdanh.auth.clients import ClientConfigError
from dinhdanh.cli.common import container_from, emit_json, fail, out, settings_from
from dinhdanh.identity import indexes
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.staff.roles import StaffRole
from dinhdanh.store.batch import DEFAULT_CHUNK_SIZE, BatchReport, OnReject, Progress
from dinhdanh.store.private import spill_dir
from dinhdanh.synth import CITIZEN_FIELDS, SynthCitizen
from dinhdanh.synth.telecom import SynthSubscription
from dinhdanh.telecom.feed import COLUMNS as SUBSCRIPTION_COLUMNS
from dinhdanh.telecom.msisdn import CARRIERS
from dinhdanh.wiring import Container, init_data_dir

DEMO_SEED = 20250101
DEMO_CLIENT_ID = "demo-platform"
DEMO_REDIRECT = "http://127.0.0.1:8080/callback"
DEMO_POST_LOGOUT = "http://127.0.0.1:8080/"
DEMO_CITIZENS = 3
DEMO_CARRIERS = ("VTL", "VNP", "MBF")


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 (never overwrite: the first secret is the secret)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_demo_feed(citizens: Iterable[SynthCitizen], path: Path) -> int:
    """The registry feed plus a ``phone`` column (the importer's optional column): until the
    telecom registry answers, enrolment sends its one-time code to this number."""
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


def _import_subscriptions(ctx: typer.Context, out_dir: Path, quiet: bool) -> dict[str, Any]:
    """Register the demo carriers (once) and import their uploads (a re-run changes nothing)."""
    from dinhdanh.cli.imports import run_import
    from dinhdanh.telecom.blocks import declare_ports
    from dinhdanh.telecom.importer import import_subscriptions

    with container_from(ctx) as c, c.unit_of_work() as session:
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

        report = run_import(ctx, run, rejects=None, label="msisdn", quiet=quiet)
        results[code] = {k: report[k] for k in ("total_rows", "created", "unchanged", "rejected")}
    return results


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


def _ensure_client(c: Container, path: Path) -> dict[str, Any]:
    if not path.exists():
        data = {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": opaque.new_token(),
            "redirect_uri": DEMO_REDIRECT,
        }
        _write_private(path, json.dumps(data, indent=2) + "\n")
    data = json.loads(path.read_text(encoding="utf-8"))
    with c.unit_of_work() as session:
        if c.auth.clients.get(session, data["client_id"]) is None:
            try:
                c.auth.clients.create(
                    session,
                    name="Demo platform",
                    redirect_uris=[data["redirect_uri"]],
                    post_logout_redirect_uris=[DEMO_POST_LOGOUT],
                    grant_types=("authorization_code", "refresh_token", "client_credentials"),
                    client_id=data["client_id"],
                    secret=data["client_secret"],
                    now=c.clock(),
                )
            except ClientConfigError as exc:
                fail(f"demo client: {exc}")
    return dict(data)


def _ensure_citizens(c: Container, path: Path, feed: Path) -> list[dict[str, str]]:
    if not path.exists():
        people = _pick_citizens(c, feed, DEMO_CITIZENS, skip=set())
        for person in people:
            person["password"] = _demo_password()
            secret = totp.new_secret()
            person["totp_secret"] = base64.b32encode(secret).decode().rstrip("=")
        _write_private(path, json.dumps(people, ensure_ascii=False, indent=2) + "\n")
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


DEMO_ORGANISATION = "Demo provincial police"


def _demo_officer_token(c: Container, person: dict[str, str]) -> str:
    """The last demo citizen is also an officer: a staff grant and a personal API token."""
    now = c.clock()
    by = AccessContext("cli:demo", "system", "demo officer")
    with c.unit_of_work() as session:
        account = c.auth.accounts.by_id_number(session, person["id_number"])
        if account is None:
            fail(f"demo citizen {person['id_number']} has no account")
        grant = c.staff.grant(
            session,
            account.subject_id,
            StaffRole.OFFICER,
            DEMO_ORGANISATION,
            now + c.staff.max_grant,
            "demo officer",
            by,
            now,
        )
        _, token, _ = c.staff.issue_token(session, grant.id, "demo officer", by, now)
    return token


def _with_code(person: dict[str, str]) -> dict[str, str]:
    b32 = person["totp_secret"]
    secret = base64.b32decode(b32 + "=" * (-len(b32) % 8))
    return person | {"totp_code": totp.totp_at(secret, int(time.time()))}


def demo(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(min=1, help="Citizens to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic population.")] = DEMO_SEED,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Seed a demo population, officer key, platform client and citizens (re-running changes
    nothing)."""
    from dinhdanh.cli.imports import run_citizen_import
    from dinhdanh.synth import generate_population
    from dinhdanh.synth.telecom import generate_subscriptions

    settings = settings_from(ctx)
    init_data_dir(settings)[1].dispose()
    feed = settings.data_dir / "demo" / f"citizens-{seed}-{count}-phones.csv"
    feed.parent.mkdir(parents=True, exist_ok=True)
    if not feed.exists():
        write_demo_feed(generate_population(count, seed=seed), feed)
    result = run_citizen_import(
        ctx,
        feed,
        rejects=None,
        strict=True,
        chunk_size=DEFAULT_CHUNK_SIZE,
        actor="cli:demo",
        quiet=json_out,
    )
    subs_dir = settings.data_dir / "demo" / f"subscriptions-{seed}-{count}"
    if not (subs_dir / f"{DEMO_CARRIERS[-1]}.ports").exists():
        subs_dir.mkdir(parents=True, exist_ok=True)
        population = generate_population(count, seed=seed)
        write_demo_subscriptions(
            generate_subscriptions(population, seed=seed + 1, carriers=DEMO_CARRIERS), subs_dir
        )
    subscriptions = _import_subscriptions(ctx, subs_dir, json_out)
    token_file = settings.data_dir / "demo-officer.key"
    with container_from(ctx) as c:
        client = _ensure_client(c, settings.data_dir / "demo-client.json")
        people = _ensure_citizens(c, settings.data_dir / "demo-citizens.json", feed)
        if not token_file.exists():
            _write_private(token_file, _demo_officer_token(c, people[-1]) + "\n")
        # A few citizens without an account who can try enrolment (born before 2000).
        enrolable = _pick_citizens(
            c, feed, 3, skip={p["id_number"] for p in people}, born_before="2000-01-01"
        )
        c.checkpoint_audit()
        issuer = c.auth.issuer
    token = token_file.read_text().strip()
    result |= {
        "officer_api_key": token,
        "officer_api_key_file": str(token_file),
        "issuer": issuer,
        "client": client,
        "citizens": [_with_code(p) for p in people],
        "subscriptions": subscriptions,
        "enrolable": enrolable,
    }
    if json_out:
        emit_json(result)
        return
    lines = [
        f"demo population: {result['total_rows']} citizens "
        f"({result['created']} new, {result['unchanged']} unchanged)",
        "demo carriers: "
        + ", ".join(f"{k} {v['total_rows']} subscriptions" for k, v in subscriptions.items()),
        f"officer API key of {people[-1]['id_number']}, {DEMO_ORGANISATION} "
        f"(also in {token_file}):\n{token}",
        f"demo platform: client_id {client['client_id']}, secret {client['client_secret']}, "
        f"redirect {client['redirect_uri']}",
        f"demo citizens (log in at {issuer}/login; `dinhdanh demo --json` prints current codes):",
    ]
    lines += [
        f"  {p['id_number']}  password {p['password']}  TOTP secret {p['totp_secret']}"
        for p in people
    ]
    lines.append(f"citizens who can enrol at {issuer}/enrol (code on /dev/outbox in dev):")
    lines += [f"  {p['id_number']}  {p['full_name']}  {p['date_of_birth']}" for p in enrolable]
    out.print("\n".join(lines), highlight=False)
