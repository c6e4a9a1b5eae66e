"""Anonymous RDAP answers kept per process until the registry changes
(internet/answer_cache.py, ADR 0025): a re-import or a citizen's "not mine" drops them, a
change made around the service shows once the answer is older than the TTL, an officer's
answer is never kept (and each is audited), a kept answer stays redacted, and every anonymous
query is still counted by the rate limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from dinhdanh.identity import indexes
from dinhdanh.internet import models as m
from dinhdanh.internet.answer_cache import AnswerCache
from dinhdanh.internet.importer import import_domains, import_ip_blocks, import_organisations
from dinhdanh.privacy.roles import Role
from dinhdanh.wiring import Container
from tests.internet import rdap_data as d
from tests.internet.factories import CTX, NOW, ORG, block, company, org, run_of, write
from tests.internet.test_rdap import (
    BASIS,
    PERSONAL,
    ok,
    rdap_error,
    registrant,
    tc,  # noqa: F401 (fixture)
    vcard,
)
from tests.oidc.conftest import log_in
from tests.support import FULL_NAME, ID_NUMBER, Citizen
from tests.web.test_officer_api import key


def test_kept_answers_expire_and_the_least_recently_used_go_first() -> None:
    cache = AnswerCache(ttl=5, size=2)
    epoch = cache.check(100.0, lambda: 0)
    cache.put("a", b"A", 100.0, epoch)
    assert cache.get("a", 104.9) == b"A"
    assert cache.get("a", 105.0) is None  # ttl seconds after it was read: read again
    cache.put("b", b"B", 101.0, epoch)
    cache.put("c", b"C", 102.0, epoch)  # "a" is the least recently used
    assert (cache.get("a", 102.0), cache.get("b", 102.0), cache.get("c", 102.0)) == (
        None,
        b"B",
        b"C",
    )
    assert cache.get("b", 102.5) == b"B"  # used: now "c" is the least recently used
    cache.put("d", b"D", 103.0, epoch)
    assert (cache.get("b", 103.0), cache.get("c", 103.0), cache.get("d", 103.0)) == (
        b"B",
        None,
        b"D",
    )
    for off in (AnswerCache(ttl=0), AnswerCache(ttl=5, size=0)):
        off.put("a", b"A", 1.0, off.check(1.0, lambda: 0))
        assert off.get("a", 1.0) is None
        assert not off.on


def test_a_moved_generation_drops_everything_when_next_checked() -> None:
    reads: list[float] = []
    generation = 7

    def read() -> int:
        reads.append(0)
        return generation

    cache = AnswerCache(ttl=300, size=10, check_every=1.0)
    epoch = cache.check(10.0, read)
    cache.put("a", b"A", 10.0, epoch)
    generation = 8  # a writer committed, in any process
    assert cache.check(10.5, read) == epoch  # not read again within check_every
    assert cache.get("a", 10.5) == b"A"
    assert len(reads) == 1
    assert cache.check(11.0, read) == epoch + 1  # read: it moved, everything dropped
    assert cache.get("a", 11.0) is None
    assert len(reads) == 2
    assert cache.check(12.0, read) == epoch + 1  # read, unchanged: nothing dropped
    assert len(reads) == 3


def test_an_answer_read_before_a_drop_is_not_kept() -> None:
    cache = AnswerCache(ttl=300, size=10, check_every=0)
    before = cache.check(1.0, lambda: 1)
    cache.clear()  # a change seen while the answer was being built
    cache.put("a", b"stale", 1.0, before)
    assert cache.get("a", 1.5) is None
    cache.put("a", b"fresh", 2.0, cache.check(2.0, lambda: 1))
    assert cache.get("a", 2.5) == b"fresh"


def _suspend(c: Container, name: str) -> None:
    with c.unit_of_work() as s:
        s.execute(update(m.Domain).where(m.Domain.ascii_name == name).values(status="suspended"))


def test_a_change_shows_after_the_ttl_and_at_once_to_an_officer(
    tc: TestClient,  # noqa: F811
    container: Container,
) -> None:
    url = f"/rdap/domain/{d.COMPANY_NAME}"
    assert ok(tc.get(url))["status"] == ["active"]
    _suspend(container, d.COMPANY_NAME)
    assert ok(tc.get(url))["status"] == ["active"]  # the kept answer
    officer = key(container, Role.OFFICER)
    assert ok(tc.get(url, headers=officer | BASIS))["status"] == ["server hold"]
    container.rdap_answers.ttl = 0  # as if the TTL had passed
    assert ok(tc.get(url))["status"] == ["server hold"]


def test_a_kept_answer_is_still_counted(tc: TestClient, container: Container) -> None:  # noqa: F811
    container.settings = container.settings.model_copy(update={"rdap_rate_limit": 2})
    url = f"/rdap/ip/{d.SUB_BLOCK}"
    ok(tc.get(url))
    ok(tc.get(url))
    rdap_error(tc.get(url), 429, "rate_limited")


def _statuses(client: TestClient, name: str) -> list[str]:
    status: list[str] = ok(client.get(f"/rdap/domain/{name}"))["status"]
    return status


def test_a_re_import_shows_once_the_generation_is_checked(
    tc: TestClient,  # noqa: F811
    container: Container,
    tmp_path: Path,
) -> None:
    cache = container.rdap_answers
    cache.check_every = 3600  # as if the last check were recent
    assert _statuses(tc, d.COMPANY_NAME) == ["active"]
    feed = write(tmp_path / "again.csv", [company(d.COMPANY_NAME, status="suspended")])
    report = import_domains(
        feed,
        registrar=d.REGISTRAR,
        internet=container.internet,
        ring=container.ring,
        ctx=CTX,
        run=run_of(container),
    )
    assert report.counts.updated == 1, report.rejected
    assert _statuses(tc, d.COMPANY_NAME) == ["active"]  # kept: the counter not read yet
    cache.check_every = 0  # the next query reads the counter
    assert _statuses(tc, d.COMPANY_NAME) == ["server hold"]
    assert _statuses(tc, d.COMPANY_NAME) == ["server hold"]  # and keeps the new answer
    assert len(cache) == 1


@pytest.mark.parametrize("kind", ["organisations", "ipblocks"])
def test_other_imports_drop_the_kept_answers(
    tc: TestClient,  # noqa: F811
    container: Container,
    tmp_path: Path,
    kind: str,
) -> None:
    cache = container.rdap_answers
    cache.check_every = 0
    ok(tc.get(f"/rdap/domain/{d.COMPANY_NAME}"))
    ok(tc.get(f"/rdap/ip/{d.SUB_BLOCK}"))
    assert len(cache) == 2
    epoch = cache.epoch
    run = run_of(container)
    if kind == "organisations":
        feed = write(tmp_path / "o.csv", [org(ORG, name="Công ty TNHH Phở Ngon Mới")])
        report = import_organisations(
            feed, internet=container.internet, ring=container.ring, ctx=CTX, run=run
        )
    else:
        feed = write(tmp_path / "b.csv", [block("14.161.0.0/24")])
        report = import_ip_blocks(feed, internet=container.internet, run=run)
    assert report.counts.created + report.counts.updated == 1, report.rejected
    holder = registrant(ok(tc.get(f"/rdap/domain/{d.COMPANY_NAME}")))
    assert cache.epoch == epoch + 1
    assert len(cache) == 1  # the IP answer went too
    if kind == "organisations":
        assert vcard(holder)["fn"] == "Công ty TNHH Phở Ngon Mới"


def test_a_disowned_name_drops_the_kept_answers(
    tc: TestClient,  # noqa: F811
    container: Container,
) -> None:
    cache = container.rdap_answers
    cache.check_every = 0
    ok(tc.get(f"/rdap/domain/{d.PERSON_NAME}"))
    assert len(cache) == 1
    epoch = cache.epoch
    c = container
    bidx = indexes.id_index(c.ring, ID_NUMBER)
    with c.unit_of_work() as s:
        subject = c.registry.subject_by_index(s, bidx)
        assert subject is not None
        c.internet.disown(s, subject.subject_id, bidx, d.PERSON_NAME, CTX, NOW)
    ok(tc.get(f"/rdap/domain/{d.COMPANY_NAME}"))
    assert (cache.epoch, len(cache)) == (epoch + 1, 1)


def test_officers_answers_are_never_kept_and_each_is_audited(
    tc: TestClient,  # noqa: F811
    container: Container,
    citizen: Citizen,
) -> None:
    url = f"/rdap/domain/{d.PERSON_NAME}"
    officer = key(container, Role.OFFICER)
    cache = container.rdap_answers
    full = ok(tc.get(url, headers=officer | BASIS))
    assert vcard(registrant(full))["fn"] == FULL_NAME
    assert len(cache) == 0  # the full record was not kept
    for _ in range(2):  # the second anonymous answer comes from the cache
        anonymous = tc.get(url)
        body = ok(anonymous)
        assert body["redacted"]
        assert not any(v in anonymous.text for v in PERSONAL)
        assert len(cache) == 1
    again = ok(tc.get(url, headers=officer | BASIS))  # not the kept, redacted answer
    assert "redacted" not in again
    assert vcard(registrant(again))["fn"] == FULL_NAME
    assert len(cache) == 1
    log_in(tc, citizen)
    reads = [i for i in tc.get("/api/v1/me/access-log").json()["items"] if i["role"] == "officer"]
    assert len(reads) == 2  # both officer reads, none of the anonymous ones
