"""``report.html``: one self-contained page (inline CSS and SVG, no script, no external asset).

Account ids come from the platform: Jinja2 autoescaping keeps them text.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

_W, _H = 420, 220

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Fake-account ranking: {{ s.platform }}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
svg{background:#fafafa;border:1px solid #ddd}
</style></head><body>
<h1>Fake-account ranking: {{ s.platform }} ({{ s.method }})</h1>
<p>{{ s.accounts }} accounts, {{ s.edges }} edges, {{ s.seeds }} trust seeds,
{{ s.labels.benign }} benign and {{ s.labels.sybil }} sybil labels;
{{ s.steps }} steps{% if not s.converged %} (step cap reached){% endif %}.
Score: 0 trusted, 1 most likely fake.</p>
<h2>Score histogram</h2>
<svg width="{{ w }}" height="{{ h }}" role="img" aria-label="score histogram">
{% for bar in bars %}<rect x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar.w }}"
 height="{{ bar.h }}" fill="#4a7ebb"><title>{{ bar.label }}</title></rect>
{% endfor %}<text x="0" y="{{ h - 2 }}" font-size="11">0</text>
<text x="{{ w - 10 }}" y="{{ h - 2 }}" font-size="11">1</text></svg>
<h2>ROC on the labelled accounts</h2>
{% if roc %}<p>AUC {{ "%.4f"|format(s.auc_on_labels) }} (labels are the platform's own and may
be wrong).</p>
<svg width="{{ h }}" height="{{ h }}" role="img" aria-label="ROC curve">
<line x1="0" y1="{{ h }}" x2="{{ h }}" y2="0" stroke="#bbb" stroke-dasharray="4"/>
<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{{ roc }}"/></svg>
{% else %}<p>Needs both benign and sybil labels.</p>{% endif %}
<h2>Densest suspicious clusters</h2>
<p>Connected groups among the 1% highest scores.</p>
{% if clusters %}<table><tr><th>accounts</th><th>edges inside</th><th>edges out</th>
<th>density</th><th>mean score</th><th>most suspicious</th></tr>
{% for c in clusters %}<tr><td>{{ c.size }}</td><td>{{ c.internal_edges }}</td>
<td>{{ c.boundary_edges }}</td><td>{{ "%.3f"|format(c.density) }}</td>
<td>{{ "%.3f"|format(c.mean_score) }}</td><td>{{ c.sample|join(", ") }}</td></tr>
{% endfor %}</table>{% else %}<p>None of three accounts or more.</p>{% endif %}
<h2>Reason codes</h2>
<table>{% for code, n in s.reasons.items() %}<tr><td>{{ code }}</td><td>{{ n }}</td></tr>
{% endfor %}</table>
</body></html>
"""

_template = Environment(autoescape=True).from_string(_PAGE)


def render_report(view: dict[str, Any], info: dict[str, Any]) -> str:
    hist: list[int] = view["histogram"]
    top = max([1, *hist])
    bw = _W / max(len(hist), 1)
    bars = [
        {
            "x": round(i * bw, 1),
            "w": round(bw - 1, 1),
            "h": round((_H - 14) * n / top, 1),
            "y": round(_H - 14 - (_H - 14) * n / top, 1),
            "label": f"{i / len(hist):.2f}-{(i + 1) / len(hist):.2f}: {n}",
        }
        for i, n in enumerate(hist)
    ]
    roc = None
    if view["roc"]:
        fpr, tpr = view["roc"]
        roc = " ".join(f"{x * _H:.1f},{_H - y * _H:.1f}" for x, y in zip(fpr, tpr, strict=True))
    return _template.render(s=info, bars=bars, roc=roc, clusters=view["clusters"], w=_W, h=_H)
