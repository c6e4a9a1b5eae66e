"""The `dinhdanh` command as an operator uses it: real processes, real files."""

from __future__ import annotations

import contextlib
import csv
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dinhdanh.settings import Settings
from dinhdanh.synth import generate_population, write_citizens_csv
from tests.cli.helpers import EXE, cli, cli_json, env_of
from tests.identity.factories import GOOD, row, write_csv


@pytest.fixture
def file_settings(settings: Settings) -> Settings:
    """Like `settings`, but the key ring lives in the data directory, as `init` makes it."""
    return Settings(data_dir=settings.data_dir, database_url=settings.database_url)


def test_init_makes_a_private_key_ring_once(file_settings: Settings) -> None:
    first = cli_json(file_settings, "init")
    ring = file_settings.data_dir / "keyring.json"
    assert first["keyring_created"] is True
    assert stat.S_IMODE(ring.stat().st_mode) == 0o600
    content = ring.read_bytes()
    assert cli_json(file_settings, "init")["keyring_created"] is False
    assert ring.read_bytes() == content


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("DINHDANH_PORT", "eighty"),
        ("DINHDANH_LOG_LEVEL", "chatty"),
        ("DINHDANH_DATABASE_URL", "mysql://x"),
    ],
)
def test_invalid_configuration_fails_in_one_line(
    file_settings: Settings, var: str, value: str
) -> None:
    env = env_of(file_settings) | {var: value}
    proc = cli(file_settings, "init", check=False, env=env)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert var in lines[0]


def test_commands_before_init_say_so(file_settings: Settings) -> None:
    proc = cli(file_settings, "audit", "verify", check=False)
    assert proc.returncode == 1
    assert "dinhdanh init" in proc.stderr


def test_import_reports_rejects_and_strict_exit_code(
    file_settings: Settings, tmp_path: Path
) -> None:
    cli(file_settings, "init")
    feed = write_csv(tmp_path / "feed.csv", [*GOOD, row("003090012345")])
    rejects = tmp_path / "rejects.csv"
    strict = cli(file_settings, "import", "citizens", str(feed), "--strict", check=False)
    assert strict.returncode == 1
    assert "nothing was applied" in strict.stderr
    result = cli_json(file_settings, "import", "citizens", str(feed), "--rejects", str(rejects))
    assert (result["created"], result["rejected"]) == (len(GOOD), 1)
    with rejects.open(encoding="utf-8") as fh:
        assert [r["reason"].split(" ")[0] for r in csv.DictReader(fh)] == ["id_unknown_province"]
    again = cli_json(file_settings, "import", "citizens", str(feed))
    assert (again["created"], again["unchanged"]) == (0, len(GOOD))


def test_retiring_a_signing_version(file_settings: Settings, tmp_path: Path) -> None:
    cli(file_settings, "init")
    cli(file_settings, "import", "citizens", str(write_csv(tmp_path / "a.csv", GOOD)))
    current = cli(file_settings, "keys", "retire", "1", check=False)
    assert current.returncode != 0
    assert "current one" in current.stderr
    cli(file_settings, "keys", "rotate")
    assert cli_json(file_settings, "keys", "retire", "1") == {
        "sign_version": 2,
        "token_retired": [1],
    }
    assert cli(file_settings, "keys", "retire", "9", check=False).returncode != 0
    assert cli_json(file_settings, "audit", "verify")["ok"] is True  # v1 checkpoints verify


def test_rotation_keeps_old_data_readable(file_settings: Settings, tmp_path: Path) -> None:
    cli(file_settings, "init")
    cli(file_settings, "import", "citizens", str(write_csv(tmp_path / "a.csv", GOOD[:2])))
    assert cli_json(file_settings, "keys", "rotate") == {"seal_version": 2, "sign_version": 2}
    cli(file_settings, "import", "citizens", str(write_csv(tmp_path / "b.csv", GOOD[2:])))
    verify = cli_json(file_settings, "audit", "verify")
    assert verify["ok"] is True
    assert verify["checkpoints"] == 2  # one signed before rotation, one after

    from dinhdanh.privacy.audit import AccessContext
    from dinhdanh.wiring import build

    c = build(file_settings)
    ctx = AccessContext("test", "officer", "rotation check")
    try:
        with c.unit_of_work() as s:
            for r in GOOD:
                view = c.registry.get_by_id_number(s, r["id_number"], ctx, c.clock())
                assert view is not None
                assert view.record.full_name == r["full_name"]
            versions = {
                int.from_bytes(blob[1:5], "big")
                for (blob,) in s.execute(text("SELECT sealed FROM citizens"))
            }
    finally:
        c.close()
    assert versions == {1, 2}


def test_audit_verify_names_the_edited_entry(file_settings: Settings, tmp_path: Path) -> None:
    if file_settings.database_url:
        pytest.skip("direct SQLite file edit; the PostgreSQL path is covered in tests/privacy")
    cli(file_settings, "init")
    cli(file_settings, "import", "citizens", str(write_csv(tmp_path / "a.csv", GOOD)))
    db = sqlite3.connect(file_settings.data_dir / "dinhdanh.db")
    db.execute("UPDATE audit_entries SET actor = 'nobody' WHERE seq = 3")
    db.commit()
    db.close()
    proc = cli(file_settings, "audit", "verify", check=False)
    assert proc.returncode == 1
    assert "entry 3" in proc.stderr


def _next_line(settings: Settings) -> int:
    engine = create_engine(settings.effective_database_url)
    try:
        with engine.connect() as conn:
            value = conn.execute(text("SELECT max(next_line) FROM import_runs")).scalar()
    except Exception:
        return 0
    finally:
        engine.dispose()
    return int(value or 0)


def test_a_killed_import_resumes(file_settings: Settings, tmp_path: Path) -> None:
    cli(file_settings, "init")
    feed = tmp_path / "pop.csv"
    n = write_citizens_csv(generate_population(30_000, seed=7), feed)
    proc = subprocess.Popen(
        [EXE, "import", "citizens", str(feed), "--chunk-size", "500"],
        env=env_of(file_settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _next_line(file_settings) == 0 and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("the import finished before it could be killed")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _next_line(file_settings)
    assert 0 < killed_at < n + 2

    result = cli_json(file_settings, "import", "citizens", str(feed), "--chunk-size", "500")
    assert result["resumed_from_line"] is not None
    assert result["resumed_from_line"] >= killed_at
    assert result["created"] + result["rejected"] == n
    assert cli_json(file_settings, "audit", "verify")["ok"] is True
    again = cli_json(file_settings, "import", "citizens", str(feed))
    assert again["unchanged"] == n - again["rejected"]
    assert again["created"] == again["updated"] == 0


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def test_sigterm_stops_the_workers_and_removes_the_spill_file(
    file_settings: Settings, tmp_path: Path
) -> None:
    cli(file_settings, "init")
    feed = tmp_path / "pop.csv"
    n = write_citizens_csv(generate_population(120_000, seed=8), feed)
    assert feed.stat().st_size > 4 << 20  # big enough for worker processes
    proc = subprocess.Popen(
        [EXE, "import", "citizens", str(feed)],
        env=env_of(file_settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while len(workers) < 2:  # the resource tracker and the workers, during pass 1
        assert proc.poll() is None, "the import finished before it could be stopped"
        assert time.monotonic() < deadline
        workers = _children(proc.pid)
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    time.sleep(0.5)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
             and "zombie" not in Path(f"/proc/{pid}/status").read_text()]  # fmt: skip
    assert alive == []
    assert list(Path(file_settings.data_dir).glob("*.spill")) == []
    result = cli_json(file_settings, "import", "citizens", str(feed))
    assert result["created"] + result["rejected"] == n


def test_demo_seeds_once_and_prints_a_working_key(file_settings: Settings) -> None:
    first = cli_json(file_settings, "demo", "--count", "300")
    assert first["created"] == 300
    token_file = Path(first["officer_api_key_file"])
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    second = cli_json(file_settings, "demo", "--count", "300")
    assert (second["created"], second["unchanged"]) == (0, 300)
    assert second["officer_api_key"] == first["officer_api_key"]
    # Carriers and subscriptions come through the real importer once; a re-run changes nothing.
    assert set(first["subscriptions"]) == {"VTL", "VNP", "MBF"}
    assert sum(v["created"] for v in first["subscriptions"].values()) > 300
    assert all(v["rejected"] == 0 for v in first["subscriptions"].values())
    assert all(v["created"] == 0 for v in second["subscriptions"].values())
    # Demo citizens and the citizens offered for enrolment have a number the code can go to.
    assert all(p["phone"].startswith("+84") for p in first["citizens"])
    assert len(first["enrolable"]) == 3
    assert second["enrolable"] == first["enrolable"]
