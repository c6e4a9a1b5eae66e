"""The events feed on PostgreSQL: a platform following its cursor never misses an event, even
when a writer that took a lower id commits after another writer and after a read.

Two citizens revoke their bindings at once (a revocation writes no audit entry, so nothing
else orders the two transactions): the first one holds its transaction open after writing
its event; the second one is started; the platform reads its feed; then the first commits.
Event ids come from one sequence, so without ordering the writers the second event (the
higher id) is read first, the cursor passes the first event's id, and the first event is
never seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.social.conftest import Plat, add_platform, bind, sign_in
from tests.support import Citizen, make_citizen

WAIT = 30.0  # seconds before a step that never happens fails the test


def _until(what: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT:g} s: {what}")
        time.sleep(0.01)


def _lock_waiters(c: Container) -> int:
    """Sessions of this database waiting for a lock another transaction holds."""
    with c.engine.connect() as conn:
        n = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return int(n)


def _read(tc: TestClient, plat: Plat, after: int) -> tuple[list[tuple[str, str]], int]:
    resp = tc.get(f"/api/v1/platforms/{plat.code}/events?after={after}", headers=plat.auth)
    assert resp.status_code == 200
    body = resp.json()
    return [(e["account_id"], e["kind"]) for e in body["items"]], int(body["next_cursor"])


def test_a_reader_following_its_cursor_misses_no_event(
    container: Container, app_client: TestClient, citizen: Citizen, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite runs one writer at a time: its event ids commit in order")
    zalo = add_platform(container, "zalo")
    other = make_citizen(container, "001090054321", "Trần Thị Bình", date(2001, 3, 4))
    for person, account in ((citizen, "first"), (other, "second")):
        with TestClient(app_client.app, base_url="https://testserver") as browser:
            log_in(browser, person)
            assert bind(browser, zalo, account, sign_in(browser, zalo)).status_code == 200
    seen, cursor = _read(app_client, zalo, 0)
    assert seen == [("first", "binding_created"), ("second", "binding_created")]

    def revoke(person: Citizen, hold: threading.Event | None = None) -> None:
        with container.unit_of_work() as s:
            (mine,) = container.social.bindings_of(s, person.subject_id)
            assert container.social.revoke(s, person.subject_id, mine.id, container.clock())
            if hold is not None:  # the event is written (its id taken); commit later
                written.set()
                assert hold.wait(WAIT)

    written, release = threading.Event(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(revoke, citizen, release)
        try:
            assert written.wait(WAIT)
            second = pool.submit(revoke, other)
            # Either the second writer commits (feed writers not ordered) or it waits for
            # the first one (ordered); the platform reads in between, in both cases.
            _until(
                "the second revocation commits or waits",
                lambda: second.done() or bool(_lock_waiters(container)),
            )
            early, cursor = _read(app_client, zalo, cursor)
        finally:
            release.set()
        first.result()
        second.result()
    late, cursor = _read(app_client, zalo, cursor)

    assert sorted(early + late) == [("first", "binding_revoked"), ("second", "binding_revoked")]
    assert _read(app_client, zalo, cursor)[0] == []
