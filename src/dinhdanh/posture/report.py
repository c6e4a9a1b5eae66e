"""``dinhdanh posture index``: the findings exported as Parquet (anyone can recompute the
index from them with index.py's formula), the scores at the date and at the weeks before it
(the trend), and an HTML report: ranking, trend, compliance debt by agency."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from dinhdanh.auth.opaque import as_utc
from dinhdanh.posture import models as m
from dinhdanh.posture.index import IndexFinding, Scores, SystemRef, scores
from dinhdanh.posture.rules import State

TREND_WEEKS = 12
_TS = pa.timestamp("us", tz="UTC")
FINDINGS = pa.schema(
    [
        ("agency", pa.string()),
        ("system_id", pa.string()),
        ("system", pa.string()),
        ("level", pa.int8()),
        ("code", pa.string()),
        ("severity", pa.string()),
        ("opened", _TS),
        ("deadline", _TS),
        ("fixed_at", _TS),
        ("accepted_at", _TS),
        ("accepted_until", _TS),
    ]
)
SCORES = pa.schema(
    [
        ("date", pa.date32()),
        ("kind", pa.string()),
        ("id", pa.string()),
        ("score", pa.float64()),
        ("debt", pa.int32()),
    ]
)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cybersecurity index {{ day }}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.3rem .6rem;text-align:left}</style></head><body>
<h1>Cybersecurity index, {{ day }}</h1>
<p>Formula: docs/posture.md. Recompute from findings.parquet.</p>
<h2>Ranking of agencies</h2>
<table><thead><tr><th>Rank</th><th>Agency</th><th>Name</th><th>Index</th>
<th>Overdue findings (debt)</th></tr></thead><tbody>
{% for a in ranking %}<tr><td>{{ loop.index }}</td><td>{{ a.tax_code }}</td><td>{{ a.name }}</td>
<td>{{ "%.1f"|format(a.score) }}</td><td>{{ a.debt }}</td></tr>{% endfor %}
</tbody></table>
<h2>Systems</h2>
<table><thead><tr><th>Agency</th><th>System</th><th>Level</th><th>Index</th></tr></thead><tbody>
{% for s in systems %}<tr><td>{{ s.agency }}</td><td>{{ s.system }}</td><td>{{ s.level }}</td>
<td>{{ "%.1f"|format(s.score) }}</td></tr>{% endfor %}
</tbody></table>
<h2>Trend (index by week)</h2>
<table><thead><tr><th>Agency</th>{% for d in days %}<th>{{ d }}</th>{% endfor %}</tr></thead>
<tbody>{% for a, row in trend.items() %}<tr><td>{{ a }}</td>
{% for v in row %}<td>{{ "%.1f"|format(v) }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
</body></html>
"""


def load(session: Session) -> tuple[list[SystemRef], list[IndexFinding]]:
    systems = [
        SystemRef(s.agency, s.id, s.name, s.level)
        for s in session.scalars(select(m.InformationSystem).order_by(m.InformationSystem.id))
    ]
    level = {s.system_id: s for s in systems}
    found = []
    for f in session.scalars(select(m.Finding).order_by(m.Finding.id)):
        s = level[f.system_id]
        accepted = f.state == State.ACCEPTED.value
        found.append(
            IndexFinding(
                s.agency,
                s.system_id,
                s.system,
                s.level,
                f.code,
                f.severity,
                as_utc(f.opened_at),
                as_utc(f.deadline) if f.deadline else None,
                as_utc(f.fixed_at) if f.fixed_at else None,
                as_utc(f.changed_at) if accepted else None,
                as_utc(f.accepted_until) if accepted and f.accepted_until else None,
            )
        )
    return systems, found


def weekly(
    systems: list[SystemRef], found: list[IndexFinding], as_of: datetime
) -> list[tuple[datetime, Scores]]:
    """The scores at ``as_of`` and at each of the TREND_WEEKS - 1 weeks before, oldest first."""
    days = [as_of - timedelta(weeks=w) for w in range(TREND_WEEKS - 1, -1, -1)]
    return [(day, scores(systems, found, day)) for day in days]


def write_index(
    session: Session, as_of: datetime, out: Path, names: dict[str, str]
) -> dict[str, float]:
    """Write findings.parquet, scores.parquet and report.html under ``out``; returns the
    agencies' scores at ``as_of``."""
    out.mkdir(parents=True, exist_ok=True)
    systems, found = load(session)
    findings_table = pa.Table.from_pylist([asdict(f) for f in found], schema=FINDINGS)
    pq.write_table(findings_table, out / "findings.parquet")
    days = [as_of - timedelta(weeks=w) for w in range(TREND_WEEKS - 1, -1, -1)]
    rows = []
    trend: dict[str, list[float]] = {}
    for day in days:
        sc = scores(systems, found, day)
        for a, v in sc.agencies.items():
            trend.setdefault(a, []).append(v)
            rows.append(
                {"date": day.date(), "kind": "agency", "id": a, "score": v, "debt": sc.debt[a]}
            )
        rows += [
            {"date": day.date(), "kind": "system", "id": sid, "score": v, "debt": None}
            for sid, v in sc.systems.items()
        ]
    pq.write_table(pa.Table.from_pylist(rows, schema=SCORES), out / "scores.parquet")
    now = scores(systems, found, as_of)
    ranking = sorted(
        (
            {"tax_code": a, "name": names.get(a, ""), "score": v, "debt": now.debt[a]}
            for a, v in now.agencies.items()
        ),
        key=lambda r: (-float(r["score"]), str(r["tax_code"])),  # type: ignore[arg-type]
    )
    by_system = sorted(
        ({**asdict(s), "score": now.systems[s.system_id]} for s in systems),
        key=lambda r: (r["agency"], r["system"]),
    )
    html = (
        Environment(autoescape=True)
        .from_string(PAGE)
        .render(
            day=as_of.date(),
            ranking=ranking,
            systems=by_system,
            days=[d.date() for d in days],
            trend=trend,
        )
    )
    (out / "report.html").write_text(html, "utf-8")
    return now.agencies
