"""Parallel issuers and revokers on one status list: no index given twice, no revoked bit
lost, no database error."""

from __future__ import annotations

from itertools import chain

from dinhdanh.age.statuslist import INVALID
from dinhdanh.age.wallet import Wallet
from dinhdanh.crypto.compact import decode
from dinhdanh.wiring import Container
from tests.age.conftest import CTX, make_teen
from tests.parallel import BURST, burst, only


def test_parallel_batches_get_distinct_entries_and_revocations_all_stick(
    container: Container,
) -> None:
    c = container
    teen = make_teen(c, c.clock().date())
    lists = c.age_credentials.lists
    with c.unit_of_work() as s:  # the first list exists before the burst
        lists.allocate(s, 1, c.clock())
    keys = [Wallet().holder_keys(5) for _ in range(BURST)]

    def batch(i: int) -> list[tuple[int, int]]:
        with c.unit_of_work() as s:
            issued = c.age_credentials.issue_batch(s, teen.subject_id, keys[i], CTX, c.clock())
        out = []
        for credential in issued:
            entry = decode(credential.split("~")[0]).claims()["status"]["status_list"]
            out.append((lists.list_id(entry["uri"]) or 0, entry["idx"]))
        return out

    outcomes = burst(batch)
    only(outcomes)
    entries = list(chain.from_iterable(o for o in outcomes if isinstance(o, list)))
    assert len(entries) == len(set(entries)) == 5 * BURST

    def revoke(i: int) -> int:
        with c.unit_of_work() as s:
            return lists.revoke(s, entries[5 * i : 5 * i + 5], c.clock())

    revoked = burst(revoke)
    only(revoked)
    assert sum(r for r in revoked if isinstance(r, int)) == 5 * BURST
    with c.unit_of_work() as s:
        assert {lists.status(s, lst, idx) for lst, idx in entries} == {INVALID}
