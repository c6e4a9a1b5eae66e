"""`dinhdanh apikeys add --owner | --staff | --expires, list, revoke`, on every database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from dinhdanh.settings import Settings
from dinhdanh.web.app import create_app
from dinhdanh.wiring import build
from tests.cli.helpers import cli, cli_json
from tests.staff.factories import ORG, person

LAWFUL = {"legal_basis": "court_order", "case_ref": "case 2026/17"}


def _status(s: Settings, token: str) -> int:
    c = build(s)
    try:
        with TestClient(create_app(c)) as tc:
            resp = tc.post(
                "/api/v1/citizens:lookup",
                json={"id_number": "001090999999", **LAWFUL},
                headers={"Authorization": f"Bearer {token}"},
            )
    finally:
        c.close()
    return resp.status_code


def _officer_grant(s: Settings) -> str:
    """A citizen with an account (made through the services) and an officer grant (CLI)."""
    c = build(s)
    try:
        officer = person(c, 1)
    finally:
        c.close()
    grant = cli_json(
        s,
        "staff",
        "grant",
        officer.id_number,
        "--role",
        "officer",
        "--org",
        ORG,
        "--expires",
        "60d",
        "--reason",
        "new investigator",
    )
    return str(grant["id"])


def test_keys_expire_are_listed_and_revoked(settings: Settings) -> None:
    s = Settings(data_dir=settings.data_dir, database_url=settings.database_url)
    cli(s, "init")
    grant = _officer_grant(s)
    a = cli_json(s, "apikeys", "add", "--name", "Officer A", "--staff", grant, "--expires", "30d")
    b = cli_json(s, "apikeys", "add", "--name", "Admin B", "--role", "admin", "--owner", "Ops")
    assert (a["owner"], a["staff_grant"], b["owner"]) == (ORG, grant, "Ops")
    expires = datetime.fromisoformat(a["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert b["expires_at"] is None
    assert _status(s, a["token"]) == 404  # a working key: the lookup ran and missed

    listed = cli_json(s, "apikeys", "list")["items"]
    assert [(k["id"], k["name"], k["owner"], k["role"], k["active"]) for k in listed] == [
        (a["id"], "Officer A", ORG, "officer", True),
        (b["id"], "Admin B", "Ops", "admin", True),
    ]
    assert "token" not in listed[0]
    assert "secret" not in str(listed)

    assert cli_json(s, "apikeys", "revoke", a["id"]) == {"id": a["id"], "revoked": True}
    listed = cli_json(s, "apikeys", "list")["items"]
    assert [k["active"] for k in listed] == [False, True]
    assert listed[0]["revoked_at"] is not None
    assert _status(s, a["token"]) == 401
    assert a["id"] in cli(s, "apikeys", "list").stdout  # the table shows it too


def test_bad_expiry_or_unknown_key_fail_in_one_line(settings: Settings) -> None:
    s = Settings(data_dir=settings.data_dir, database_url=settings.database_url)
    cli(s, "init")
    machine = ("apikeys", "add", "--name", "X", "--role", "admin", "--owner", "Ops")
    for args in (
        (*machine, "--expires", "2020-01-01"),
        (*machine, "--expires", "soon"),
        ("apikeys", "add", "--name", "X", "--role", "admin"),  # no owner
        ("apikeys", "add", "--name", "X", "--owner", "Ops"),  # an officer key of nobody
        ("apikeys", "add", "--name", "X", "--role", "admin", "--staff", "0123456789abcdef"),
        ("apikeys", "add", "--name", "X", "--staff", "0123456789abcdef"),  # no such grant
        ("apikeys", "revoke", "0123456789abcdef"),
    ):
        proc = cli(s, *args, check=False)
        assert proc.returncode == 1, args
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert cli_json(s, "apikeys", "list") == {"items": []}


def test_agency_admin_keys_are_personal_and_need_an_agency_admin_grant(
    settings: Settings,
) -> None:
    s = Settings(data_dir=settings.data_dir, database_url=settings.database_url)
    cli(s, "init")
    officer = _officer_grant(s)
    crossed = cli(s, "apikeys", "add", "--name", "X", "--role", "agency_admin", "--staff",
                  officer, check=False)  # fmt: skip
    assert crossed.returncode == 1
    assert "officer grant gets no agency_admin token" in crossed.stderr
    machine = cli(s, "apikeys", "add", "--name", "X", "--role", "agency_admin", "--owner",
                  "Ops", check=False)  # fmt: skip
    assert machine.returncode == 1
    assert "personal" in machine.stderr
    assert cli_json(s, "apikeys", "list") == {"items": []}
