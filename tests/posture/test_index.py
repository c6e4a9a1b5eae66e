"""The index formula (property tests: fixing never lowers a score, a higher level never
weighs less) and its export, recomputed from the Parquet file alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dinhdanh.posture.index import IndexFinding, SystemRef, penalty, scores
from dinhdanh.posture.report import write_index
from dinhdanh.wiring import Container

AT = datetime(2026, 6, 1, tzinfo=UTC)
SEVERITIES = ["critical", "high", "medium", "low", "info"]


@st.composite
def finding(draw: st.DrawFn, system: int | None = None, level: int | None = None) -> IndexFinding:
    sid = system if system is not None else draw(st.integers(0, 3))
    opened = AT - timedelta(days=draw(st.integers(0, 400)))
    deadline = opened + timedelta(days=draw(st.sampled_from([1, 2, 8, 15, 30, 45, 90])))
    fixed = draw(st.one_of(st.none(), st.integers(-200, 200)))
    return IndexFinding(
        f"A{sid % 2}",
        f"S{sid}",
        f"system {sid}",
        level if level is not None else sid + 1,
        "X",
        draw(st.sampled_from(SEVERITIES)),
        opened,
        deadline,
        None if fixed is None else AT + timedelta(days=fixed),
        None,
        None,
    )


SYSTEMS = [SystemRef(f"A{i % 2}", f"S{i}", f"system {i}", i + 1) for i in range(4)]


@given(st.lists(finding(), max_size=30), st.data())
def test_fixing_a_finding_never_lowers_a_score(
    found: list[IndexFinding], data: st.DataObject
) -> None:
    before = scores(SYSTEMS, found, AT)
    if found:
        i = data.draw(st.integers(0, len(found) - 1))
        fixed = [*found[:i], _fixed(found[i]), *found[i + 1 :]]
    else:
        fixed = found
    after = scores(SYSTEMS, fixed, AT)
    for k, v in before.systems.items():
        assert after.systems[k] >= v
    for k, v in before.agencies.items():
        assert after.agencies[k] >= v
    assert all(0 < v <= 100 for v in after.systems.values())


def _fixed(f: IndexFinding) -> IndexFinding:
    from dataclasses import replace

    return replace(f, fixed_at=AT - timedelta(seconds=1))


@given(finding(), st.integers(1, 5), st.integers(1, 5))
def test_a_higher_level_never_weighs_less(f: IndexFinding, a: int, b: int) -> None:
    from dataclasses import replace

    low, high = sorted((a, b))
    assert penalty(replace(f, level=high), AT) >= penalty(replace(f, level=low), AT)


def test_worked_example() -> None:
    """docs/posture.md's example, number for number."""
    s = SystemRef("0100233488", "S", "Cổng", 4)
    day = timedelta(days=1)
    found = [
        IndexFinding("0100233488", "S", "Cổng", 4, "CERT_EXPIRED", "critical", AT - 5 * day,
                     AT - 4 * day, None, None, None),
        IndexFinding("0100233488", "S", "Cổng", 4, "CSP_MISSING", "medium", AT - 3 * day,
                     AT + 12 * day, None, None, None),
    ]  # fmt: skip
    # critical: 10 x 1.75 x (1 + 4/30) = 19.833; medium: 2 x 1.75 x 1 = 3.5
    sc = scores([s], found, AT)
    assert sc.systems["S"] == pytest.approx(100 * 10 / (10 + 19.8333 + 3.5), abs=0.01)
    assert sc.systems["S"] == pytest.approx(30.0, abs=0.01)
    assert sc.debt == {"0100233488": 1}


def test_export_recomputes(container: Container, tmp_path: Path) -> None:
    from dinhdanh.posture import models as m
    from dinhdanh.posture.checks import Found, Severity
    from dinhdanh.posture.findings import record
    from dinhdanh.posture.rules import DeadlinePolicy
    from tests.posture.factories import NOW, agencies, system

    agencies(container, tmp_path)
    made = system(container, "https://127.10.0.1", level=4)
    with container.unit_of_work() as s:
        row = s.get(m.InformationSystem, made.id)
        assert row is not None
        found = [Found("CERT_EXPIRED", Severity.CRITICAL, "https://127.10.0.1:443"),
                 Found("CSP_MISSING", Severity.MEDIUM, "https://127.10.0.1:443")]  # fmt: skip
        record(s, row, "https://127.10.0.1:443", {"tls", "http"}, found, DeadlinePolicy(), NOW)
    at = NOW + timedelta(days=10)
    with container.unit_of_work() as s:
        agencies_now = write_index(s, at, tmp_path / "out", {})
    table = pq.read_table(tmp_path / "out" / "findings.parquet").to_pylist()
    recomputed = scores(
        [SystemRef(made.agency, made.id, made.name, made.level)],
        [IndexFinding(**r) for r in table],
        at,
    )
    assert recomputed.agencies == agencies_now
    # critical opened at NOW, deadline NOW+1 (level 4): 9 days late at NOW+10.
    assert agencies_now[made.agency] == pytest.approx(
        100 * 10 / (10 + 10 * 1.75 * (1 + 9 / 30) + 2 * 1.75), abs=0.01
    )
    html = (tmp_path / "out" / "report.html").read_text("utf-8")
    assert made.agency in html
    assert "Trend" in html
    assert (
        len(pq.read_table(tmp_path / "out" / "scores.parquet")) == 12 * 2
    )  # the agency with a system, the system
