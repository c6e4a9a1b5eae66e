"""`dinhdanh staff grant | revoke | list`, on every database, audited as the operator."""

from __future__ import annotations

import getpass

from dinhdanh.settings import Settings
from dinhdanh.wiring import build
from tests.cli.helpers import cli, cli_json
from tests.staff.factories import ORG, person


def test_grant_list_and_revoke(settings: Settings) -> None:
    s = Settings(data_dir=settings.data_dir, database_url=settings.database_url)
    cli(s, "init")
    c = build(s)
    try:
        officer = person(c, 1)
        without_account = person(c, 2, with_account=False)
    finally:
        c.close()
    args = ("--role", "investigator", "--org", ORG, "--expires", "90d", "--reason", "case HS-17")
    grant = cli_json(s, "staff", "grant", officer.id_number, *args)
    assert (grant["subject_id"], grant["role"], grant["organisation"]) == (
        officer.subject_id,
        "investigator",
        ORG,
    )
    assert grant["granted_by"] == f"operator:{getpass.getuser()}"
    assert [g["id"] for g in cli_json(s, "staff", "list")["items"]] == [grant["id"]]
    assert grant["id"] in cli(s, "staff", "list").stdout

    ended = cli_json(s, "staff", "revoke", grant["id"], "--reason", "moved to another unit")
    assert ended["state"] == "revoked"
    assert cli_json(s, "staff", "list")["items"] == []
    [listed] = cli_json(s, "staff", "list", "--all")["items"]
    assert (listed["state"], listed["revoke_reason"]) == ("revoked", "moved to another unit")

    for bad in (
        ("staff", "revoke", grant["id"], "--reason", "twice"),  # already ended
        ("staff", "grant", without_account.id_number, *args),  # no account: not a person here
        ("staff", "grant", "001090999999", *args),  # nobody
        ("staff", "grant", officer.id_number, *args[:-4], "--expires", "400d", *args[-2:]),
        ("staff", "grant", officer.id_number, *args[:4], "--expires", "2020-01-01", *args[-2:]),
    ):
        proc = cli(s, *bad, check=False)
        assert proc.returncode == 1, bad
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
