"""UNVERIFIED: an account the platform reported (asked its status, or named it in an uploaded
graph or labels) and that is still unbound when the grace period since that FIRST report has
passed. First reports are written once, by inserts that skip existing rows; a read of accounts
already seen writes none. With the container's clock moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dinhdanh.social import models as m
from dinhdanh.social.platform_data import Kind
from dinhdanh.social.service import Status
from dinhdanh.social.signals import Signals
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.parallel import burst, only
from tests.social.conftest import add_platform, bind, sign_in
from tests.social.test_risk import upload
from tests.statements import statements
from tests.support import Citizen, Clock

GRACE = timedelta(days=90)


@pytest.fixture
def clock(container: Container) -> Clock:
    clock = Clock()
    container.clock = clock
    return clock


def status(c: Container, code: str, *ids: str) -> list[Status]:
    with c.unit_of_work() as s:
        return c.social.status(s, code, list(ids), c.clock())


def first_reports(c: Container, code: str) -> int:
    with c.unit_of_work() as s:
        stmt = select(func.count()).select_from(m.FirstReport).where(m.FirstReport.platform == code)
        return int(s.scalar(stmt) or 0)


def test_an_unbound_account_is_unverified_once_the_grace_period_has_passed(
    container: Container, app_client: TestClient, clock: Clock
) -> None:
    zalo = add_platform(container, "zalo")
    assert container.settings.social_unverified_days == 90
    url = "/api/v1/platforms/zalo/accounts/u-1/status"
    fresh = app_client.get(url, headers=zalo.auth).json()
    assert (fresh["verified"], fresh["flags"]) == (False, [])
    clock.advance(GRACE - timedelta(seconds=1))
    assert app_client.get(url, headers=zalo.auth).json()["flags"] == []
    clock.advance(timedelta(seconds=1))
    late = app_client.get(url, headers=zalo.auth).json()
    assert (late["verified"], late["flags"]) == (False, ["UNVERIFIED"])
    # Counted from the first report: an account first asked about now has its own 90 days.
    assert status(container, "zalo", "u-1", "u-2") == [
        Status("u-1", False, flags=("UNVERIFIED",)),
        Status("u-2", False),
    ]


def test_a_read_of_accounts_already_seen_writes_no_first_report(
    container: Container, clock: Clock
) -> None:
    add_platform(container, "zalo")
    t0 = clock.now

    def inserts(*ids: str) -> int:
        with statements(container.engine) as seen:
            status(container, "zalo", *ids)
        return sum("INSERT INTO platform_first_reports" in q for q in seen)

    assert inserts("a", "b") == 1  # one statement for both
    clock.advance(timedelta(days=1))
    assert inserts("a", "b") == 0
    assert inserts("b", "a", "c") == 1
    assert first_reports(container, "zalo") == 3
    with container.unit_of_work() as s:
        signals, key = container.social.signals, container.social._account_key
        assert signals.first_report(s, "zalo", key("zalo", "a")) == t0  # not moved by re-reads
        assert signals.first_report(s, "zalo", key("zalo", "c")) == t0 + timedelta(days=1)


def test_accounts_in_an_uploaded_graph_or_labels_start_their_grace_at_the_upload(
    container: Container, app_client: TestClient, clock: Clock, tmp_path: Path
) -> None:
    zalo = add_platform(container, "zalo")
    upload(container, tmp_path, "zalo", Kind.GRAPH, ["a,b"])
    assert first_reports(container, "zalo") == 2
    clock.advance(timedelta(days=30))
    labels = b"account,label\nb,benign\nl,sybil\n"
    resp = app_client.put(
        "/api/v1/platforms/zalo/social-labels",
        content=labels,
        headers=zalo.auth | {"content-type": "text/csv"},
    )
    assert resp.status_code == 200, resp.text
    assert first_reports(container, "zalo") == 3  # b was reported already
    clock.advance(GRACE - timedelta(days=30))
    # Never asked about before, yet flagged at the first read: the graph named them.
    a, b, l_ = status(container, "zalo", "a", "b", "l")
    assert a.flags == b.flags == ("UNVERIFIED",)
    assert l_.flags == ()
    clock.advance(timedelta(days=30))
    assert status(container, "zalo", "l")[0].flags == ("UNVERIFIED",)


def test_a_strict_upload_refused_reports_nothing(
    container: Container, clock: Clock, tmp_path: Path
) -> None:
    add_platform(container, "zalo")
    feed = tmp_path / "g.csv"
    feed.write_text("src_account,dst_account,weight\na,b,1\nc,c,1\n", encoding="utf-8")
    report = container.platform_data.import_file(
        Kind.GRAPH, feed, "zalo", container.unit_of_work, clock(), strict=True
    )
    assert report.aborted
    assert first_reports(container, "zalo") == 0


def test_a_bound_account_is_not_unverified_until_its_binding_ends(
    container: Container, app_client: TestClient, citizen: Citizen, clock: Clock
) -> None:
    clock.now = datetime.now(UTC)  # the login's TOTP code is computed at the real time
    zalo = add_platform(container, "zalo")
    assert status(container, "zalo", "u-1")[0].flags == ()  # first reported unbound
    log_in(app_client, citizen)
    assert bind(app_client, zalo, "u-1", sign_in(app_client, zalo)).status_code == 200
    clock.advance(GRACE * 2)
    bound = status(container, "zalo", "u-1")[0]
    assert bound.verified
    assert bound.flags == ()
    with container.unit_of_work() as s:
        (mine,) = container.social.bindings_of(s, citizen.subject_id)
        assert container.social.revoke(s, citizen.subject_id, mine.id, clock())
    assert status(container, "zalo", "u-1")[0].flags == ("UNVERIFIED",)


def test_platforms_first_reports_are_their_own(container: Container, clock: Clock) -> None:
    add_platform(container, "zalo")
    add_platform(container, "other")
    status(container, "zalo", "same-id")
    clock.advance(GRACE)
    assert status(container, "other", "same-id")[0].flags == ()
    assert status(container, "zalo", "same-id")[0].flags == ("UNVERIFIED",)


def test_the_grace_period_is_a_setting(container: Container, clock: Clock) -> None:
    add_platform(container, "zalo")
    week = Signals(timedelta(days=7))
    with container.unit_of_work() as s:
        keys = [container.social._account_key("zalo", a) for a in ("a", "b")]
        week.read(s, "zalo", keys, (), clock(), record=True)
    clock.advance(timedelta(days=7))
    with container.unit_of_work() as s:
        seen = week.read(s, "zalo", keys, keys[1:], clock(), record=True)
    assert seen.flags_of(keys[0]) == ("UNVERIFIED",)
    assert seen.flags_of(keys[1]) == ()  # bound


def test_parallel_first_reads_of_overlapping_accounts_all_succeed(
    container: Container, clock: Clock
) -> None:
    add_platform(container, "zalo")
    ids = [f"u-{i}" for i in range(300)]

    def read(i: int) -> list[Status]:
        mine = ids[i * 20 : i * 20 + 100]  # each overlaps its neighbours
        return status(container, "zalo", *(mine if i % 2 else reversed(mine)))

    only(burst(read))
    assert first_reports(container, "zalo") == len(ids)  # together they cover all 300
