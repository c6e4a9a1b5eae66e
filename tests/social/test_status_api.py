"""The status routes' answers, which skip FastAPI's response validation on the hot path: the
batch answer is exactly its documented model's (every item a StatusOut, nothing more), each
item equals the single route's answer, and the key check still comes first."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from dinhdanh.privacy.access import revoke_api_key
from dinhdanh.web.routers.platforms import BatchOut, StatusOut
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.social.conftest import add_platform, bind, sign_in
from tests.support import Citizen, make_citizen

BATCH = "/api/v1/platforms/zalo/accounts:status"


def test_the_answers_are_the_documented_models(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo = add_platform(container, "zalo")
    log_in(app_client, citizen)
    assert bind(app_client, zalo, "adult", sign_in(app_client, zalo)).status_code == 200
    young = make_citizen(container, "001211054321", "Trần Thị Bình", date(2011, 3, 4))
    with TestClient(app_client.app, base_url="https://testserver") as browser:
        log_in(browser, young)
        assert bind(browser, zalo, "young", sign_in(browser, zalo)).status_code == 200
    ids = ["young", "nobody", "adult"]

    resp = app_client.post(BATCH, json={"account_ids": ids}, headers=zalo.auth)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    # Parsed as the model and dumped again: no field missing, added or of another type.
    assert BatchOut.model_validate(body).model_dump(mode="json") == body
    assert [(i["account_id"], i["verified"], i["age_over_16"]) for i in body["items"]] == [
        ("young", True, False),
        ("nobody", False, None),
        ("adult", True, True),
    ]
    for item in body["items"]:
        one = app_client.get(
            f"/api/v1/platforms/zalo/accounts/{item['account_id']}/status", headers=zalo.auth
        )
        assert one.status_code == 200
        assert StatusOut.model_validate(one.json()).model_dump(mode="json") == one.json()
        assert one.json() == item


def test_the_key_is_checked_before_anything_is_read_or_counted(
    container: Container, app_client: TestClient
) -> None:
    zalo = add_platform(container, "zalo")
    add_platform(container, "fb")
    none = app_client.post(BATCH, json={"account_ids": ["a"]})
    assert none.status_code == 401
    assert none.json()["code"] == "unauthenticated"
    wrong = app_client.post(
        BATCH, json={"account_ids": ["a"]}, headers={"Authorization": "Bearer dd_x_y"}
    )
    assert wrong.status_code == 401
    other = app_client.get(
        "/api/v1/platforms/fb/accounts/a/status", headers=zalo.auth
    )  # zalo's key, fb's route
    assert other.status_code == 403
    assert other.json()["code"] == "forbidden"
    with container.unit_of_work() as s:
        assert container.social.reads(s, "zalo", container.clock().date()) == 0
        assert container.social.reads(s, "fb", container.clock().date()) == 0


def test_a_revoked_platform_key_reads_no_more_status(
    container: Container, app_client: TestClient
) -> None:
    zalo = add_platform(container, "zalo")
    url = "/api/v1/platforms/zalo/accounts/a/status"
    assert app_client.get(url, headers=zalo.auth).status_code == 200  # now remembered
    key_id = zalo.auth["Authorization"].split("_")[1]
    with container.unit_of_work() as s:
        assert revoke_api_key(s, key_id, container.clock())
    refused = app_client.get(url, headers=zalo.auth)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"
    with container.unit_of_work() as s:
        assert container.social.reads(s, "zalo", container.clock().date()) == 1
