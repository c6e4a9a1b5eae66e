"""A copy of the database alone reveals no personal data: grep the SQLite file and a pg_dump."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url

from dinhdanh.settings import Settings
from dinhdanh.synth import generate_population, write_citizens_csv
from tests.cli.helpers import cli, cli_json


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
    assert cli_json(s, "import", "citizens", str(feed))["created"] == len(people)

    blob = _database_bytes(s)
    assert len(blob) > 100_000  # the data is there, just not readable
    leaks = [
        value
        for p in people
        for value in (p.id_number, p.full_name, p.date_of_birth.isoformat(), p.phone)
        if value.encode() in blob
    ]
    assert leaks == []
