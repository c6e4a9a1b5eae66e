"""A ranking feeds the status API's ``risk``: each ranked account's score and reason codes,
stored by its per-platform key, replaced whole by the next ranking, kept apart per platform;
verified accounts are trust seeds; a status read costs a fixed number of statements per
chunk of ids, whatever the number of accounts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dinhdanh.social import models as m
from dinhdanh.social.platform_data import Kind
from dinhdanh.social.signals import Risk
from dinhdanh.social.sybil import Method
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.social.conftest import add_platform, bind, sign_in
from tests.statements import statements
from tests.support import Citizen

# An honest square a-b-c-d and a sybil triangle x-y-z, joined by one attack edge d-x.
SQUARE_AND_TRIANGLE = ["a,b", "b,c", "c,d", "d,a", "a,c", "d,x", "x,y", "y,z", "z,x"]


def upload(c: Container, tmp_path: Path, code: str, kind: Kind, rows: list[str]) -> None:
    head = "src_account,dst_account,weight" if kind is Kind.GRAPH else "account,label"
    feed = tmp_path / f"{code}-{kind}.csv"
    tail = ",1" if kind is Kind.GRAPH else ""
    feed.write_text(head + "\n" + "".join(f"{r}{tail}\n" for r in rows), encoding="utf-8")
    c.platform_data.import_file(kind, feed, code, c.unit_of_work, c.clock())


def ranked(c: Container, tmp_path: Path, code: str = "zalo") -> dict[str, float]:
    upload(c, tmp_path, code, Kind.GRAPH, SQUARE_AND_TRIANGLE)
    upload(c, tmp_path, code, Kind.LABELS, ["b,benign", "y,sybil"])
    result, stored = c.platform_data.rank(code, Method.SYBILSCAR, c.unit_of_work)
    accounts = result.graph.accounts.to_pylist()
    assert stored == len(accounts) == 7
    return dict(zip(accounts, result.ranking.score.tolist(), strict=True))


def risk_rows(c: Container, code: str) -> list[m.RiskScore]:
    with c.unit_of_work() as s:
        return list(s.scalars(select(m.RiskScore).where(m.RiskScore.platform == code)))


def test_the_ranking_is_what_the_status_api_answers_as_risk(
    container: Container, app_client: TestClient, tmp_path: Path
) -> None:
    zalo = add_platform(container, "zalo")
    scores = ranked(container, tmp_path)
    resp = app_client.post(
        "/api/v1/platforms/zalo/accounts:status",
        json={"account_ids": ["y", "a", "never-ranked"]},
        headers=zalo.auth,
    )
    assert resp.status_code == 200, resp.text
    y, a, never = resp.json()["items"]
    assert y["risk"] == {"score": scores["y"], "reasons": ["LOW_TRUST", "LABELLED_SYBIL"]}
    assert a["risk"] == {"score": scores["a"], "reasons": []}
    assert y["risk"]["score"] > a["risk"]["score"]
    assert never["risk"] is None
    assert y["verified"] is False
    single = app_client.get("/api/v1/platforms/zalo/accounts/z/status", headers=zalo.auth)
    assert single.json()["risk"]["score"] == scores["z"]
    assert "LABELLED_SYBIL_NEIGHBOURHOOD" in single.json()["risk"]["reasons"]


def test_a_new_ranking_replaces_the_previous_one(
    container: Container, app_client: TestClient, tmp_path: Path
) -> None:
    add_platform(container, "zalo")
    ranked(container, tmp_path)
    assert len(risk_rows(container, "zalo")) == 7
    upload(container, tmp_path, "zalo", Kind.GRAPH, ["p,q", "q,r"])
    container.platform_data.rank("zalo", Method.SYBILRANK, container.unit_of_work)
    assert len(risk_rows(container, "zalo")) == 3
    with container.unit_of_work() as s:
        a, q = container.social.status(s, "zalo", ["a", "q"], container.clock())
    assert a.risk is None  # not in the new graph: no longer ranked
    assert isinstance(q.risk, Risk)


def test_rankings_of_two_platforms_are_kept_apart(
    container: Container, app_client: TestClient, tmp_path: Path
) -> None:
    add_platform(container, "zalo")
    add_platform(container, "other")
    ranked(container, tmp_path, "zalo")
    with container.unit_of_work() as s:
        assert container.social.status(s, "other", ["y"], container.clock())[0].risk is None
    ranked(container, tmp_path, "other")  # the same account ids
    zalo_keys = {r.account_key for r in risk_rows(container, "zalo")}
    other_keys = {r.account_key for r in risk_rows(container, "other")}
    assert len(zalo_keys) == len(other_keys) == 7
    assert not zalo_keys & other_keys  # no value joins the two platforms' rows
    upload(container, tmp_path, "other", Kind.GRAPH, ["p,q"])
    container.platform_data.rank("other", Method.SYBILSCAR, container.unit_of_work)
    assert len(risk_rows(container, "zalo")) == 7  # other's new ranking left zalo's alone


def test_verified_accounts_are_trust_seeds(
    container: Container, app_client: TestClient, citizen: Citizen, tmp_path: Path
) -> None:
    zalo = add_platform(container, "zalo")
    upload(container, tmp_path, "zalo", Kind.GRAPH, SQUARE_AND_TRIANGLE)
    plain, _ = container.platform_data.rank("zalo", Method.SYBILRANK, container.unit_of_work)
    assert len(plain.seeds) == 0
    log_in(app_client, citizen)
    assert bind(app_client, zalo, "c", sign_in(app_client, zalo)).status_code == 200
    seeded, _ = container.platform_data.rank("zalo", Method.SYBILRANK, container.unit_of_work)
    accounts = seeded.graph.accounts.to_pylist()
    assert [accounts[i] for i in seeded.seeds] == ["c"]
    with container.unit_of_work() as s:
        c, x = container.social.status(s, "zalo", ["c", "x"], container.clock())
    assert c.verified
    assert c.risk is not None
    assert x.risk is not None
    assert c.risk.score < x.risk.score


def test_a_status_read_costs_a_fixed_number_of_statements_per_chunk(
    container: Container, app_client: TestClient, tmp_path: Path
) -> None:
    add_platform(container, "zalo")
    ranked(container, tmp_path)
    many = [*"abcdxyz", *(f"n{i}" for i in range(2493))]  # 2,500 ids: three chunks of 1,000

    def read(ids: list[str]) -> list[str]:
        with statements(container.engine) as seen, container.unit_of_work() as s:
            container.social.status(s, "zalo", ids, container.clock())
        return [q for q in seen if "platform_risk" in q or "platform_first_reports" in q]

    assert len(read(["a"])) == 1  # risk and first report in one; a was in the uploaded graph
    assert len(read(many)) == 3 + 1  # one per chunk, plus recording the never-seen ids at once
    again = read(many)
    assert len(again) == 3  # all seen now: nothing written
    assert not any(q.lstrip().upper().startswith("INSERT") for q in again)
    with container.unit_of_work() as s:
        statuses = container.social.status(s, "zalo", many, container.clock())
        n = s.scalar(select(func.count()).select_from(m.FirstReport))
    assert n == len(many)
    risks = np.array([st.risk is not None for st in statuses])
    assert risks[:7].all()
    assert not risks[7:].any()
