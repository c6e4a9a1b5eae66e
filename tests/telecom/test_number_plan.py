"""Hardening finding 3: a carrier uploads only numbers of its own blocks or declared ported to
it, and a number active at two carriers is reviewed, never actioned (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dinhdanh.auth.phones import TelecomPhones
from dinhdanh.identity import indexes
from dinhdanh.privacy.roles import Role
from dinhdanh.settings import Settings
from dinhdanh.telecom import blocks
from dinhdanh.telecom.numberplan import NumberPlan
from dinhdanh.web.app import create_app
from dinhdanh.wiring import Container
from tests.cli.helpers import cli, cli_json
from tests.identity.factories import GOOD
from tests.telecom.factories import csv_bytes, sub, write_csv
from tests.telecom.test_carrier_api import CSV, bearer
from tests.telecom.test_store_reconciliation import CTX, NOW, run, seed, verdicts

AN, BINH = GOOD[0], GOOD[1]
VTL_NUMBER = "0962000001"  # Viettel's 96 block


def who(person: dict[str, str]) -> dict[str, str]:
    return {k: person[k] for k in ("id_number", "full_name", "date_of_birth")}


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as tc:
        yield tc


def test_longest_block_wins_and_ports_override() -> None:
    plan = NumberPlan.of("VNP", [("96", "VTL"), ("9620", "VNP")], ["+84962100000"])
    assert plan.holder("+84962000001") == "VNP"
    assert plan.holder("+84961000001") == "VTL"
    assert plan.allows("+84962000001")
    assert not plan.allows("+84961000001")
    assert plan.allows("+84962100000")  # ported in
    assert plan.holder("+84550000000") is None


def test_a_carrier_cannot_upload_another_carriers_numbers(
    client: TestClient, container: Container
) -> None:
    admin = bearer(container, Role.ADMIN)
    key = {}
    for code in ("VTL", "VNP"):
        resp = client.post("/api/v1/carriers", json={"code": code, "name": code}, headers=admin)
        key[code] = {"Authorization": f"Bearer {resp.json()['api_key']}"}
    url = "/api/v1/carriers/VNP/subscriptions:batch"
    body = csv_bytes([sub("0912000001", **who(AN)), sub(VTL_NUMBER, **who(BINH))])
    report = client.post(url, content=body, headers=key["VNP"] | CSV).json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert [(r["line"], r["reason"].split(" ")[0]) for r in report["rejected_rows"]] == [
        (3, "msisdn_out_of_range")
    ]
    # Strict: the out-of-range row refuses the whole file.
    strict = client.post(url + "?strict=true", content=body, headers=key["VNP"] | CSV).json()
    assert strict["aborted"] is True
    # Declared ported in, the number is VNP's to upload; VTL's own upload is untouched.
    with container.unit_of_work() as s:
        assert blocks.declare_ports(s, "VNP", [VTL_NUMBER], NOW) == 1
    again = client.post(url, content=body, headers=key["VNP"] | CSV).json()
    assert (again["created"], again["unchanged"], again["rejected"]) == (1, 1, 0)


def test_a_duplicate_across_carriers_is_reviewed_not_locked(
    container: Container, tmp_path: Path
) -> None:
    c = container
    seed(c, tmp_path, [sub(VTL_NUMBER, **who(AN))], carrier="VTL")
    with c.unit_of_work() as s:
        blocks.declare_ports(s, "VNP", [VTL_NUMBER], NOW)
    seed(c, tmp_path, [sub(VTL_NUMBER, **who(BINH))], carrier="VNP")
    out = tmp_path / "out"
    result = run(c, out)
    assert verdicts(out, "VTL") == {"+84962000001": ["DUPLICATE_MSISDN"]}
    assert verdicts(out, "VNP") == {"+84962000001": ["DUPLICATE_MSISDN"]}
    assert result["opened"] == 0  # review only: no lock timeline for either carrier
    with c.unit_of_work() as s:
        c.telecom.advance(s, datetime(2027, 1, 1, tzinfo=UTC))
        # Nor does an enrolment code go to a number two carriers list.
        view = c.registry.get_by_id_number(s, AN["id_number"], CTX, NOW)
        assert view is not None
        id_bidx = indexes.id_index(c.ring, AN["id_number"])
        assert (
            TelecomPhones(c.registry, c.telecom, c.audit).numbers_for(
                s, id_bidx, view.subject_id, NOW
            )
            == []
        )
    with c.unit_of_work() as s:
        assert c.telecom.pending_actions(s, "VTL") == []
        assert c.telecom.pending_actions(s, "VNP") == []


def test_blocks_are_seeded_and_never_taken_silently(container: Container) -> None:
    with container.unit_of_work() as s:
        container.telecom.add_carrier(s, "VTL", "Viettel", NOW)
        container.telecom.add_carrier(s, "NEWCO", "New carrier", NOW)
        assert ("96", "VTL") in blocks.blocks(s, "VTL")
        assert blocks.blocks(s, "NEWCO") == []  # not in the public plan: nothing to upload
        with pytest.raises(blocks.BlockTaken):
            blocks.add_blocks(s, "NEWCO", ["096"], NOW)
        assert blocks.add_blocks(s, "NEWCO", ["0961", "+84962"], NOW) == ["961", "962"]
        plan = blocks.number_plan(s, "NEWCO")
        assert plan.allows("+84961234567")
        assert not plan.allows("+84971234567")


def test_cli_manages_blocks_and_ports(settings: Settings, tmp_path: Path) -> None:
    cli(settings, "init")
    cli(settings, "carriers", "add", "XYZ", "--name", "Xyz")
    added = cli_json(settings, "carriers", "ranges", "add", "XYZ", "0599", "0598")
    assert added == {"carrier": "XYZ", "added": ["599", "598"]}
    listed = cli_json(settings, "carriers", "ranges", "list", "XYZ")
    assert listed == [{"carrier": "XYZ", "prefix": "598"}, {"carrier": "XYZ", "prefix": "599"}]
    cli(settings, "carriers", "add", "VTL", "--name", "Viettel")  # the plan's blocks
    taken = cli(settings, "carriers", "ranges", "add", "XYZ", "96", check=False)
    assert taken.returncode == 1
    assert "belongs to VTL" in taken.stderr
    feed = tmp_path / "ports.txt"
    feed.write_text("msisdn\n0962000001\n+84912000001\n")
    assert cli_json(settings, "carriers", "ports", "add", "XYZ", "--file", str(feed)) == {
        "carrier": "XYZ",
        "declared": 2,
    }
    assert cli_json(settings, "carriers", "ports", "list", "XYZ")["ported_in"] == [
        "+84912000001",
        "+84962000001",
    ]
    rows = [sub("0599000001"), sub("0962000001"), sub("0977000001")]
    upload = write_csv(tmp_path / "xyz.csv", rows)
    rejects = tmp_path / "rejects.csv"
    result = cli_json(
        settings, "import", "subscriptions", str(upload), "--carrier", "XYZ",
        "--rejects", str(rejects),
    )  # fmt: skip
    assert (result["created"], result["rejected"]) == (2, 1)
    assert "msisdn_out_of_range" in rejects.read_text()
