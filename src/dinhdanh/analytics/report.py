"""Self-contained HTML reports of batch runs: one page, inline SVG charts, no script, no
network (the reconciliation reports of telecom and internet)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

__all__ = ["EMPTY", "bar_chart", "histogram", "page"]

BAR_HEIGHT = 22
EMPTY = "Nothing to show."
LABEL_WIDTH = 190
CHART_WIDTH = 720
_STYLE = """body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; } td, th { padding: .2rem .8rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
svg text { font-size: 12px; fill: #1d1d1f; } svg rect { fill: #c0392b; }
svg .tick { font-size: 10px; } svg .axis { stroke: #888; }
.note, .empty { color: #666; }"""


def bar_chart(
    title: str, bars: Sequence[tuple[str, int]], *, note: str = "", empty: str = EMPTY
) -> str:
    """Horizontal bars with their labels and counts; an empty chart says so."""
    heading = f"<h2>{html.escape(title)}</h2>"
    if note:
        heading += f'<p class="note">{html.escape(note)}</p>'
    if not bars:
        return heading + f'<p class="empty">{html.escape(empty)}</p>'
    top = max(n for _, n in bars) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 90
    height = BAR_HEIGHT * len(bars) + 4
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, n) in enumerate(bars):
        y = i * BAR_HEIGHT + 2
        width = max(1, round(span * n / top)) if n else 0
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">'
            f"{html.escape(label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width}" height="{BAR_HEIGHT - 6}">'
            f"<title>{html.escape(label)}: {n:,}</title></rect>"
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 15}">{n:,}</text>'
        )
    parts.append("</svg>")
    return heading + "".join(parts)


def histogram(title: str, months: Mapping[str, int], *, empty: str = EMPTY) -> str:
    """Vertical bars, one per month from the first to the last, gaps included."""
    heading = f"<h2>{html.escape(title)}</h2>"
    if not months:
        return heading + f'<p class="empty">{html.escape(empty)}</p>'
    first, last = min(months), max(months)
    year, month = int(first[:4]), int(first[5:])
    series: list[tuple[str, int]] = []
    while True:
        key = f"{year:04d}-{month:02d}"
        series.append((key, months.get(key, 0)))
        if key >= last:
            break
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    top = max(n for _, n in series) or 1
    plot_h, base = 200, 230
    step = max(2.0, min(24.0, (CHART_WIDTH - 60) / len(series)))
    width = int(60 + step * len(series))
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="260" '
        f'viewBox="0 0 {width} 260" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="4" y="14">{top:,}</text><line x1="50" y1="{base}" x2="{width}" '
        f'y2="{base}" class="axis"/>',
    ]
    every = max(1, len(series) // 12)
    for i, (key, n) in enumerate(series):
        x = 55 + i * step
        h = plot_h * n / top
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{max(1.0, step - 1):.1f}" '
            f'height="{h:.1f}"><title>{key}: {n:,}</title></rect>'
        )
        if i % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{base + 16}" class="tick">{key}</text>')
    parts.append("</svg>")
    return heading + "".join(parts)


def page(title: str, body: str) -> str:
    """The report page: ``title`` (plain text) and ``body`` (HTML, escaped by the caller)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{html.escape(title)}</title>
<style>
{_STYLE}
</style></head><body>
<h1>{html.escape(title)}</h1>
{body}
</body></html>
"""
