"""Age credentials: presentations verified per second on one core, batches of 10 issued per
second, for EdDSA and ML-DSA-65 issuers; the sd-jwt reference implementation verifies the same
presentations as peer.

    .venv/bin/python benchmarks/age.py [--seconds 3] [--runs 3] [--database sqlite|postgres]
        [--protocols]

Setup: a fresh data directory (and database: SQLite in it, or a scratch PostgreSQL one), one
synthetic citizen of 17.

Issuance: ``AgeCredentials.issue_batch`` with 10 holder keys, each batch in its own unit of
work, commit included: the registry read of the birth date and its audit entry, 10 random
status entries, 10 signatures, the sealed batch row. The wallet makes the holder keys
beforehand (its work, not the issuer's; not timed).

Verification: ``verify_presentation`` on one thread (one core), over a pool of presentations
the test wallet made beforehand (each of its own credential and holder key, one claim
disclosed, KB-JWT with nonce and audience), cycled; the status list comes from our database
through ``local_status`` and is cached for its ttl, as a verifier does. The peer verifies the
same presentations: sd-jwt 0.10 (jwcrypto) wrapped with the exp and KB-JWT freshness checks
it lacks (tests/age/reference.py).

With --protocols, the same over HTTP through the app's test client (in process, no network):
an OpenID4VCI batch of 10 as a wallet goes through it (the offer made by the service, then
the issuer's metadata, the provider's discovery, /token, /age/vci/nonce, 10 fresh holder keys
and proofs made by the test wallet, /age/vci/credential, the wallet's checks on storing), and
an OpenID4VP round (the platform's request, the wallet's presentation POSTed to the
response_uri and verified there, the platform's read of the result).

Each figure is the median of --runs timed runs of --seconds each (all runs are printed),
in calls per second of wall-clock time and per second of the process's CPU time (on a shared
machine the second says what one core does; it leaves out the PostgreSQL server's work).
Targets (issue 11, 2 vCPUs): 2,000 verifications/s per core with an EdDSA issuer, 1,000/s
with ML-DSA-65; 200 EdDSA batches/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PrivateKey

from _measure import scratch_postgres

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/age/reference.py

from tests.age.reference import reference_verify

from dinhdanh.age.credentials.keys import IssuerAlg
from dinhdanh.age.credentials.verifier import verify_presentation
from dinhdanh.age.wallet import HolderAlg, Wallet
from dinhdanh.crypto import generate_keyring, keyring_to_json
from dinhdanh.identity.age import latest_birth
from dinhdanh.identity.idnumber import Sex
from dinhdanh.identity.rules import CitizenRecord
from dinhdanh.privacy.audit import AccessContext
from dinhdanh.settings import Settings
from dinhdanh.wiring import Container, build, init_data_dir

CTX = AccessContext("bench", "citizen", "age credentials")
AUDIENCE, NONCE = "https://shop.example.vn", "bench-nonce-1"
POOL = 500  # distinct presentations per kind (50 batches)
KEY_BATCHES = 200


@contextmanager
def container(database: str) -> Iterator[Container]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = stack.enter_context(scratch_postgres()) if database == "postgres" else None
        settings = Settings(
            data_dir=tmp / "var", database_url=url, keyring=keyring_to_json(generate_keyring())
        )
        init_data_dir(settings)[1].dispose()
        yield stack.enter_context(closing(build(settings)))


def citizen(c: Container) -> str:
    dob = latest_birth(17, date.today())
    rec = CitizenRecord("001309054321", "Phạm Thị Dung", dob, Sex.FEMALE, "001")
    ctx = AccessContext("bench", "registry_import", "seed")
    with c.unit_of_work() as s:
        c.registry.upsert(s, [rec], ctx, c.clock())
        subject = c.registry.subject(s, rec.id_number)
    assert subject is not None
    return subject.subject_id


@dataclass
class Rate:
    wall: list[float]  # calls per second of wall-clock time, one figure per run
    cpu: list[float]  # calls per second of this process's CPU time (PostgreSQL's not counted)


def rate(fn: Callable[[int], None], seconds: float, runs: int) -> Rate:
    """``runs`` timed runs of ``seconds`` each; ``fn(i)`` does call number i."""
    fn(0)  # warm up (status list fetched, caches filled)
    out = Rate([], [])
    for _ in range(runs):
        n, start, cpu = 0, time.perf_counter(), time.process_time()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(10):
                fn(n)
                n += 1
        out.wall.append(n / elapsed)
        out.cpu.append(n / (time.process_time() - cpu))
    return out


def issuance(c: Container, subject: str, alg: IssuerAlg, seconds: float, runs: int) -> Rate:
    wallet = Wallet()
    # A wallet's keys, made beforehand and reused across batches (never within one).
    keys = [wallet.holder_keys(10) for _ in range(KEY_BATCHES)]

    def batch(i: int) -> None:
        with c.unit_of_work() as s:
            c.age_credentials.issue_batch(
                s, subject, keys[i % KEY_BATCHES], CTX, c.clock(), alg=alg
            )

    return rate(batch, seconds, runs)


def presentations(c: Container, subject: str, holder: HolderAlg, issuer: IssuerAlg) -> list[str]:
    wallet = Wallet(holder)
    for _ in range(POOL // 10):
        keys = wallet.holder_keys(10)
        with c.unit_of_work() as s:
            wallet.store(
                c.age_credentials.issue_batch(s, subject, keys, CTX, c.clock(), alg=issuer)
            )
    return [wallet.present("age_over_16", NONCE, AUDIENCE, c.clock()) for _ in range(POOL)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="length of one timed run")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per figure (median)")
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--protocols", action="store_true", help="also OpenID4VCI/VP over HTTP")
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, database {args.database}, "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    results: list[dict[str, object]] = []

    def report(what: str, r: Rate, unit: str) -> None:
        wall, cpu = statistics.median(r.wall), statistics.median(r.cpu)
        shown = ", ".join(f"{x:,.0f}" for x in r.wall)
        print(f"{what:56} {wall:8,.0f} {unit} ({shown}); {cpu:8,.0f} per CPU-second")
        results.append(
            {
                "what": what,
                "per_second": round(wall, 1),
                "runs": [round(x, 1) for x in r.wall],
                "per_cpu_second": round(cpu, 1),
            }
        )

    # The bare signature checks under each verification, timed in the same run: on a shared
    # machine they say how fast the CPU was during this run.
    ed = Ed25519PrivateKey.generate()
    ml = MLDSA65PrivateKey.generate()
    msg = b"x" * 600
    ed_sig, ml_sig = ed.sign(msg), ml.sign(msg)
    ed_pub, ml_pub = ed.public_key(), ml.public_key()
    report("bare Ed25519 verify (cryptography)", rate(lambda _i: ed_pub.verify(ed_sig, msg),
           args.seconds, args.runs), "/s")  # fmt: skip
    report("bare ML-DSA-65 verify (cryptography)", rate(lambda _i: ml_pub.verify(ml_sig, msg),
           args.seconds, args.runs), "/s")  # fmt: skip
    with container(args.database) as c:
        subject = citizen(c)
        for alg in ("EdDSA", "ML-DSA-65"):
            batches = issuance(c, subject, alg, args.seconds, args.runs)  # type: ignore[arg-type]
            report(f"batches of 10 issued, {alg} issuer", batches, "batches/s")
        jwks = c.age_credentials.metadata()["jwks"]
        trust = c.age_credentials.trust(c.age_credentials.local_status(c.unit_of_work, c.clock))
        for holder, issuer in (("EdDSA", "EdDSA"), ("ES256", "EdDSA"), ("EdDSA", "ML-DSA-65")):
            pool = presentations(c, subject, holder, issuer)  # type: ignore[arg-type]
            now = c.clock()

            def ours(i: int, pool: list[str] = pool, now: datetime = now) -> None:
                verify_presentation(
                    pool[i % POOL], NONCE, AUDIENCE, now, claims="age_over_16", trust=trust
                )

            def peer(i: int, pool: list[str] = pool, now: datetime = now) -> None:
                reference_verify(pool[i % POOL], jwks, NONCE, AUDIENCE, now)

            label = f"{issuer} issuer, {holder} holder"
            report(f"presentations verified, {label}", rate(ours, args.seconds, args.runs), "/s")
            report(f"  peer sd-jwt 0.10, {label}", rate(peer, args.seconds, args.runs), "/s")
        if args.protocols:
            protocols(c, subject, args.seconds, args.runs, report)
    print(json.dumps(results, ensure_ascii=False))


def protocols(
    c: Container, subject: str, seconds: float, runs: int, report: Callable[[str, Rate, str], None]
) -> None:
    from fastapi.testclient import TestClient

    from dinhdanh.age.credentials.vci import Issuance
    from dinhdanh.web.app import create_app

    with c.unit_of_work() as s:
        added = c.social.add_platform(s, "bench", "Bench", ["https://bench.example/cb"], c.clock())
    auth = {"Authorization": f"Bearer {added.api_key}"}
    with TestClient(create_app(c), base_url="https://testserver") as tc:

        def vci(_i: int) -> None:
            with c.unit_of_work() as s:
                offer = Issuance.offer_uri(c.age_issuance.offer(s, subject, c.clock()))
            Wallet().fetch(tc, offer, c.clock())

        report(
            "OpenID4VCI batches of 10 over HTTP (test client)",
            rate(vci, seconds, runs),
            "batches/s",
        )
        wallet = Wallet()
        for _ in range(300):
            keys = wallet.holder_keys(10)
            with c.unit_of_work() as s:
                wallet.store(c.age_credentials.issue_batch(s, subject, keys, CTX, c.clock()))
        api = "/api/v1/platforms/bench/age-requests"

        def vp(_i: int) -> None:
            if not len(wallet):
                wallet.request(lambda k: _issue(c, subject, k), 10)
            asked = tc.post(api, json={"claim": "age_over_16"}, headers=auth).json()
            assert wallet.answer(tc, asked["request_uri"], c.clock()).status_code == 200
            assert tc.get(f"{api}/{asked['id']}", headers=auth).json()["value"] is True

        report("OpenID4VP rounds over HTTP (test client)", rate(vp, seconds, runs), "rounds/s")


def _issue(c: Container, subject: str, keys: list[dict[str, str]]) -> list[str]:
    with c.unit_of_work() as s:
        return c.age_credentials.issue_batch(s, subject, keys, CTX, c.clock())


if __name__ == "__main__":
    main()
