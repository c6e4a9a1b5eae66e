"""Anonymous RDAP answers reused for a few seconds per process (internet/answer_cache.py):
a change shows once the answer is older than the TTL, an officer's answer is never reused,
and every anonymous query is still counted by the rate limit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from dinhdanh.internet import models as m
from dinhdanh.internet.answer_cache import AnswerCache
from dinhdanh.privacy.access import Role
from dinhdanh.wiring import Container
from tests.internet import rdap_data as d
from tests.internet.test_rdap import BASIS, ok, rdap_error, tc  # noqa: F401 (fixture)
from tests.web.test_officer_api import key


def test_kept_answers_expire_and_the_oldest_go_first() -> None:
    cache = AnswerCache(ttl=5, size=2)
    cache.put("a", b"A", 100.0)
    assert cache.get("a", 104.9) == b"A"
    assert cache.get("a", 105.0) is None  # ttl seconds after it was read: read again
    cache.put("b", b"B", 101.0)
    cache.put("c", b"C", 102.0)
    assert (cache.get("a", 102.0), cache.get("b", 102.0), cache.get("c", 102.0)) == (
        None,
        b"B",
        b"C",
    )
    off = AnswerCache(ttl=0)
    off.put("a", b"A", 1.0)
    assert off.get("a", 1.0) is None


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
