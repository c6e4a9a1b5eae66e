"""A copy of the database alone reveals no personal data: grep the SQLite file and a pg_dump.
Nor do the files the platform leaves behind: temp files, the spill, rejects and reconciliation
outputs (the outputs name numbers, never people, and are private to the operator)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from sqlalchemy import make_url

from dinhdanh.settings import Settings
from dinhdanh.synth import generate_population, write_citizens_csv
from dinhdanh.synth.telecom import generate_subscriptions, write_subscriptions_csv
from tests.cli.helpers import cli, cli_json, serving
from tests.staff.factories import officer_token_in


def _database_bytes(settings: Settings) -> bytes:
    if not settings.database_url:
        files = sorted(settings.data_dir.glob("dinhdanh.db*"))  # the file, its WAL and SHM
        assert files
        return b"".join(f.read_bytes() for f in files)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        if os.environ.get("CI"):
            pytest.fail("pg_dump is not installed")
        pytest.skip("pg_dump is not installed")
    url = make_url(settings.database_url)
    return subprocess.run(
        [
            pg_dump,
            "--no-owner",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout


def test_no_personal_data_in_plaintext(settings: Settings, tmp_path: Path) -> None:
    s = Settings(data_dir=settings.data_dir, database_url=settings.database_url)
    cli(s, "init")
    people = list(generate_population(2_000, seed=11))
    feed = tmp_path / "feed.csv"
    write_citizens_csv(people, feed)
    imported = cli_json(s, "import", "citizens", str(feed))
    assert imported["created"] == len(people)
    # The import also derives the registry's guardian links (age.guardians): their table is
    # in the copy too.
    assert imported["guardian_links"]["added"] > 0

    blob = _database_bytes(s)
    assert len(blob) > 100_000  # the data is there, just not readable
    leaks = [
        value
        for p in people
        for value in (p.id_number, p.full_name, p.date_of_birth.isoformat(), p.phone)
        if value.encode() in blob
    ]
    assert leaks == []


@pytest.mark.parametrize("workers", [1, 2], ids=["uvicorn", "granian"])
def test_no_personal_data_in_the_server_log(
    settings: Settings, tmp_path: Path, workers: int
) -> None:
    """Officer lookups, and a client still sending the former GETs (ID number in the path,
    name and birth date in the query): the server's output names none of them."""
    if settings.database_url:
        pytest.skip("the log is the web layer's; one database is enough")
    s = Settings(data_dir=settings.data_dir)
    cli(s, "init")
    people = [p for p in generate_population(40, seed=5) if p.date_of_death is None][:5]
    feed = tmp_path / "feed.csv"
    write_citizens_csv(people, feed)
    cli(s, "import", "citizens", str(feed))
    officer = {"Authorization": f"Bearer {officer_token_in(s)}"}
    lawful = {"legal_basis": "criminal_investigation", "case_ref": "case 2026/17"}
    log = tmp_path / "serve.log"
    with serving(s, log, workers=workers) as base:
        for p in people:
            born = p.date_of_birth.isoformat()
            found = httpx.post(
                f"{base}/api/v1/citizens:lookup",
                json={"id_number": p.id_number, **lawful},
                headers=officer,
            )
            assert found.status_code == 200, found.text
            search = {"full_name": p.full_name, "date_of_birth": born, **lawful}
            listed = httpx.post(f"{base}/api/v1/citizens:search", json=search, headers=officer)
            assert p.id_number in listed.text
            httpx.get(f"{base}/api/v1/citizens/{p.id_number}", params=lawful, headers=officer)
            httpx.get(f"{base}/api/v1/citizens", params=search, headers=officer)
    text = log.read_text()
    if workers == 1:
        assert "POST /api/v1/citizens%3Alookup" in text  # uvicorn logs the requests
    values = [
        form
        for p in people
        for value in (p.id_number, p.full_name, p.date_of_birth.isoformat())
        for form in (value, quote(value), quote_plus(value))
    ]
    assert [v for v in values if v in text] == []


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_no_personal_data_in_files_left_behind(settings: Settings, tmp_path: Path) -> None:
    s = Settings(data_dir=settings.data_dir, database_url=settings.database_url)
    cli(s, "init")
    people = list(generate_population(400, seed=12))
    feed = tmp_path / "feed.csv"
    write_citizens_csv(people, feed)
    bad = tmp_path / "bad.csv"
    bad.write_text(feed.read_text(encoding="utf-8").replace(",M,", ",X,"), encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    result = cli_json(s, "import", "citizens", str(bad), "--rejects", str(rejects))
    assert result["rejected"] > 0
    assert _mode(rejects) == 0o600  # it names people: the operator's eyes only
    cli_json(s, "import", "citizens", str(feed))
    cli(s, "carriers", "add", "VTL", "--name", "Viettel")
    subs = list(generate_subscriptions(people, seed=13, carriers=("VTL",)))
    upload = tmp_path / "VTL.csv"
    write_subscriptions_csv(subs, upload)
    sub_rejects = tmp_path / "sub-rejects.csv"
    cli_json(
        s, "import", "subscriptions", str(upload), "--carrier", "VTL",
        "--rejects", str(sub_rejects),
    )  # fmt: skip
    assert _mode(sub_rejects) == 0o600
    out = tmp_path / "out"
    cli_json(s, "reconcile", "subscriptions", "--as-of", "2026-01-01", "--out", str(out))
    assert _mode(out) == 0o700
    outputs = sorted(out.iterdir())
    assert {p.name for p in outputs} == {"VTL.parquet", "summary.json", "report.html"}
    assert {_mode(p) for p in outputs} == {0o600}

    values = [
        v.encode()
        for p in people
        for v in (p.id_number, p.full_name, p.date_of_birth.isoformat(), p.phone)
    ]
    # The data directory holds the database, the key ring, an empty private spill and the
    # reconciliation's Parquet snapshots (store.snapshots: blind indexes and flags only).
    left = sorted(
        p for p in s.data_dir.rglob("*") if p.is_file() and not p.name.startswith("dinhdanh.db")
    )
    snapshots = [p for p in left if p.parent.name == "snapshots"]
    assert sorted(p.name.split(".")[0] for p in snapshots) == ["citizens", "subscriptions-VTL"]
    assert [p.name for p in left if p not in snapshots] == ["keyring.json"]
    assert {_mode(p) for p in snapshots} == {0o600}
    assert _mode(s.data_dir / "snapshots") == 0o700
    for spill in (s.data_dir / "spill").iterdir():
        assert _mode(spill) == 0o700
    leaks = [(p.name, v) for p in [*outputs, *snapshots] for v in values if v in p.read_bytes()]
    assert leaks == []
