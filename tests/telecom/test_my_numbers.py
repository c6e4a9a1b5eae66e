""" "My numbers" through the pages and the JSON API of a logged-in citizen."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from dinhdanh.privacy.audit import AccessContext
from dinhdanh.telecom.importer import import_subscriptions
from dinhdanh.wiring import Container
from tests.oidc.conftest import Citizen, csrf_of, log_in
from tests.telecom.factories import sub, write_csv

CTX = AccessContext("test", "carrier_upload", "seed")


def upload(c: Container, tmp_path: Path, carrier: str, rows: list[dict[str, str]]) -> None:
    with c.unit_of_work() as s:
        c.telecom.add_carrier(s, carrier, carrier, datetime.now(UTC))
    report = import_subscriptions(
        write_csv(tmp_path / f"{carrier}.csv", rows),
        carrier=carrier,
        telecom=c.telecom,
        ring=c.ring,
        unit_of_work=c.unit_of_work,
        ctx=CTX,
        clock=c.clock,
        today=c.clock().date(),
        workers=1,
    )
    assert report.rejected == []


def test_my_numbers_page_and_api(
    app_client: TestClient, container: Container, citizen: Citizen, tmp_path: Path
) -> None:
    me = {
        "id_number": citizen.id_number,
        "full_name": citizen.full_name,
        "date_of_birth": citizen.date_of_birth.isoformat(),
    }
    other = {
        "id_number": "079195000001",
        "full_name": "Trần Thị Bình",
        "date_of_birth": "1995-02-28",
    }
    upload(container, tmp_path, "VTL", [sub("0962000001", **me), sub("0962000002", **other)])
    upload(
        container,
        tmp_path,
        "VNP",
        [sub("0888000001", **me), sub("0888000002", status="terminated", **me)],
    )

    assert app_client.get("/api/v1/me/numbers").status_code == 401
    log_in(app_client, citizen)
    listed = app_client.get("/api/v1/me/numbers").json()["items"]
    assert [(n["carrier"], n["msisdn"], n["declaration"]) for n in listed] == [
        ("VTL", "+84962000001", None),
        ("VNP", "+84888000001", None),
    ]

    page = app_client.get("/account/numbers")
    assert page.status_code == 200
    assert "+84962000001" in page.text
    assert "+84962000002" not in page.text  # someone else's
    token = csrf_of(page.text)
    resp = app_client.post(
        "/account/numbers/+84888000001/disown", data={"csrf": token}, follow_redirects=False
    )
    assert resp.status_code == 303
    with container.unit_of_work() as s:
        case = container.telecom.case_of(s, "VNP", "+84888000001")
        assert case is not None
        assert (case.state, case.reasons) == ("flagged", "DISOWNED")

    # The JSON API needs the page's CSRF token, and only reaches one's own numbers.
    url = "/api/v1/me/numbers/0962000001:confirm"
    assert app_client.post(url).status_code == 403
    ok = app_client.post(url, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200, ok.text
    assert ok.json()["declaration"] == "confirmed"
    theirs = app_client.post(
        "/api/v1/me/numbers/0962000002:disown", headers={"X-CSRF-Token": token}
    )
    assert (theirs.status_code, theirs.json()["code"]) == (404, "number_not_found")
    with container.unit_of_work() as s:
        assert container.telecom.case_of(s, "VTL", "+84962000002") is None
        assert container.audit.verify(s).ok
