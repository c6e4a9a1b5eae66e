"""Parallel requests: one ID token bound many times at once passes once; status reads add up
in the per-day counter; two binders of one account never fail with a database error."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dinhdanh.social.errors import IdTokenRejected
from dinhdanh.social.service import Status
from dinhdanh.wiring import Container
from tests.oidc.conftest import log_in
from tests.parallel import BURST, burst, only
from tests.social.conftest import add_platform, sign_in
from tests.support import Citizen


def test_one_token_sent_many_times_at_once_binds_once(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo = add_platform(container, "zalo")
    log_in(app_client, citizen)
    token = sign_in(app_client, zalo)

    def attempt(i: int) -> Status:
        with container.unit_of_work() as s:
            return container.social.bind_login(s, "zalo", f"u-{i}", token, container.clock())

    outcomes = burst(attempt)
    only(outcomes, IdTokenRejected)
    assert sum(isinstance(o, Status) for o in outcomes) == 1
    assert {o.code for o in outcomes if isinstance(o, IdTokenRejected)} == {"id_token_replayed"}


def test_parallel_binders_of_one_account_and_parallel_reads(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    zalo = add_platform(container, "zalo")
    log_in(app_client, citizen)
    tokens = [sign_in(app_client, zalo) for _ in range(4)]

    def rebind(i: int) -> Status:
        with container.unit_of_work() as s:
            return container.social.bind_login(s, "zalo", "same", tokens[i], container.clock())

    outcomes = burst(rebind, 4)
    only(outcomes)

    def read(_i: int) -> list[Status]:
        with container.unit_of_work() as s:
            return container.social.status(s, "zalo", ["same", "x", "y"], container.clock())

    only(burst(read))
    with container.unit_of_work() as s:
        assert container.social.reads(s, "zalo", container.clock().date()) == 3 * BURST
        assert container.social.status(s, "zalo", ["same"], container.clock())[0].verified


def test_accounts_bound_at_once_by_one_person_are_all_counted(
    container: Container, app_client: TestClient, citizen: Citizen
) -> None:
    """Each binding carries its person's count of accounts (ACCOUNT_LIMIT): bindings made at
    the same instant each see the others (social.account_counts), and a revocation lowers it."""
    zalo = add_platform(container, "zalo")
    log_in(app_client, citizen)
    n = 6
    tokens = [sign_in(app_client, zalo) for _ in range(n)]

    def first(i: int) -> Status:
        with container.unit_of_work() as s:
            return container.social.bind_login(s, "zalo", f"acct-{i}", tokens[i], container.clock())

    only(burst(first, n))
    container.social.account_limit = n - 1
    accounts = [f"acct-{i}" for i in range(n)]
    with container.unit_of_work() as s:
        found = container.social.status(s, "zalo", accounts, container.clock())
    assert [st.flags for st in found] == [("ACCOUNT_LIMIT",)] * n
    with container.unit_of_work() as s:
        mine = container.social.bindings_of(s, citizen.subject_id)
        assert container.social.revoke(s, citizen.subject_id, mine[0].id, container.clock())
    with container.unit_of_work() as s:
        found = container.social.status(s, "zalo", accounts, container.clock())
    assert sorted(st.flags for st in found if st.verified) == [()] * (n - 1)
