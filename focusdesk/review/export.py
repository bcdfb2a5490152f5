"""Review export: Markdown, and self-contained HTML (inline CSS, charts as data: PNGs).

The HTML loads nothing: no scripts, no remote URLs; items are named, not linked,
except by ``file:`` or ``mailto:`` where they have one. Charts are drawn with
matplotlib's Agg backend (no Qt in the core); without matplotlib they are tables.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import datetime

from focusdesk.review.assemble import Review, StoryEntry
from focusdesk.review.stats import GoalFocus, SourceSignal

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:52em;margin:2em auto;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.entry{margin:.8em 0}.meta{color:#666;font-size:.88em}.summary{margin:.2em 0 0 0}
.ev{background:#fff4c2}table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left}
tr:nth-child(even){background:#f5f5f5}.chart{max-width:100%}.weak{color:#666;font-style:italic}
"""


def _when(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def _story_note(e: StoryEntry) -> str:
    if e.story_size <= 1:
        return ""
    return f"{e.story_size} items from {', '.join(e.story_sources)}"


def days_in(review: Review) -> list[str]:
    """Every local date (ISO) with focus time, sorted."""
    return sorted({d for g in review.focus for d in g.per_day})


# -- Markdown ---------------------------------------------------------------------------------
def to_markdown(review: Review) -> str:
    """The review as Markdown."""
    out = [f"# Review {_when(review.since)} – {_when(review.until)}", ""]
    out.append(
        f"{review.items_in_period} items in the period: {len(review.done)} done, "
        f"{len(review.dismissed)} dismissed, {review.open_count} left open."
    )
    for group in review.groups:
        out += ["", f"## {group.goal_title}", ""]
        for e in group.entries:
            out.append(f"- **{e.title}** ({e.source_name}; score {e.score:.2f}; {e.status})")
            note = _story_note(e)
            if note:
                out.append(f"  - story: {note}")
            if e.summary.sentences:
                out.append(f"  - {e.summary.text}")
        if group.total > len(group.entries):
            out.append(f"- … and {group.total - len(group.entries)} more")
        if group.weak:
            out.append(f"- _{group.weak_text}_")
    if review.done or review.dismissed:
        out += ["", "## Done and dismissed", ""]
        out += [f"- done: {t}" for _i, t in review.done]
        out += [f"- dismissed: {t}" for _i, t in review.dismissed]
    out += ["", "## Focus time", ""]
    if review.focus:
        out += ["| Goal | Planned min | Actual min |", "|---|---:|---:|"]
        out += [
            f"| {g.goal_title} | {g.planned_minutes:.0f} | {g.actual_minutes:.0f} |"
            for g in review.focus
        ]
        out.append(f"| **Total** | {review.focus_planned:.0f} | {review.focus_actual:.0f} |")
    else:
        out.append("No focus sessions in the period.")
    out += ["", "## Sources: signal to noise", ""]
    if review.sources:
        out += ["| Source | Items | Signal | S/N |", "|---|---:|---:|---:|"]
        out += [
            f"| {x.source_name} | {x.items} | {x.signal} | {x.ratio:.0%} |" for x in review.sources
        ]
    for x in review.suggestions:
        out.append(
            f"\nSuggestion: mute or unsubscribe from **{x.source_name}** "
            f"({x.signal} of {x.items} items deserved attention)."
        )
    return "\n".join(out) + "\n"


# -- charts (no Qt) -------------------------------------------------------------------------
def focus_chart_png(focus: list[GoalFocus], days: list[str]) -> bytes | None:
    """Stacked bars of actual focus minutes per goal per day, as PNG bytes (None: no data)."""
    if not focus or not days:
        return None
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    fig = Figure(figsize=(6, 2.8), dpi=96)
    ax = fig.add_subplot()
    bottom = [0.0] * len(days)
    for g in focus:
        values = [g.per_day.get(d, 0.0) for d in days]
        ax.bar(days, values, bottom=bottom, label=g.goal_title[:30])
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.set_ylabel("minutes")
    ax.legend(fontsize=7)
    fig.autofmt_xdate()
    return _png(fig)


def sn_chart_png(sources: list[SourceSignal]) -> bytes | None:
    """Horizontal bars of each source's signal-to-noise, as PNG bytes (None: no data)."""
    if not sources:
        return None
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    fig = Figure(figsize=(6, 0.5 + 0.3 * len(sources)), dpi=96)
    ax = fig.add_subplot()
    ax.barh([x.source_name[:30] for x in sources], [100 * x.ratio for x in sources])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of items that deserved attention")
    fig.tight_layout()
    return _png(fig)


def _png(fig: object) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # type: ignore[attr-defined]
    return buf.getvalue()


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<p><img class="chart" alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></p>'


# -- HTML ---------------------------------------------------------------------------------------
def _summary_html(e: StoryEntry) -> str:
    parts = []
    for n, sentence in enumerate(e.summary.sentences):
        text = html.escape(sentence)
        parts.append(f'<span class="ev">{text}</span>' if n == e.summary.evidence_index else text)
    return " ".join(parts)


def to_html(review: Review) -> str:
    """The review as one self-contained HTML page."""
    esc = html.escape
    title = f"Review {_when(review.since)} – {_when(review.until)}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{review.items_in_period} items in the period: {len(review.done)} done, "
        f"{len(review.dismissed)} dismissed, {review.open_count} left open.</p>",
    ]
    for group in review.groups:
        out.append(f"<h2>{esc(group.goal_title)}</h2>")
        for e in group.entries:
            out.append('<div class="entry">')
            out.append(f"<strong>{esc(e.title)}</strong>")
            meta = f"{e.source_name} · score {e.score:.2f} · {e.status} · item {e.item_id}"
            note = _story_note(e)
            if note:
                meta += f" · story: {note}"
            out.append(f'<div class="meta">{esc(meta)}</div>')
            if e.summary.sentences:
                out.append(f'<p class="summary">{_summary_html(e)}</p>')
            out.append("</div>")
        if group.total > len(group.entries):
            out.append(f"<p>… and {group.total - len(group.entries)} more</p>")
        if group.weak:
            out.append(f'<p class="weak">{esc(group.weak_text)}</p>')
    if review.done or review.dismissed:
        out.append("<h2>Done and dismissed</h2><ul>")
        out += [f"<li>done: {esc(t)}</li>" for _i, t in review.done]
        out += [f"<li>dismissed: {esc(t)}</li>" for _i, t in review.dismissed]
        out.append("</ul>")
    out.append("<h2>Focus time</h2>")
    if review.focus:
        out.append("<table><tr><th>Goal</th><th>Planned min</th><th>Actual min</th></tr>")
        out += [
            f"<tr><td>{esc(g.goal_title)}</td><td>{g.planned_minutes:.0f}</td>"
            f"<td>{g.actual_minutes:.0f}</td></tr>"
            for g in review.focus
        ]
        out.append(
            f"<tr><th>Total</th><th>{review.focus_planned:.0f}</th>"
            f"<th>{review.focus_actual:.0f}</th></tr></table>"
        )
        out.append(_img(focus_chart_png(review.focus, days_in(review)), "Focus time per day"))
    else:
        out.append("<p>No focus sessions in the period.</p>")
    out.append("<h2>Sources: signal to noise</h2>")
    if review.sources:
        out.append("<table><tr><th>Source</th><th>Items</th><th>Signal</th><th>S/N</th></tr>")
        out += [
            f"<tr><td>{esc(x.source_name)}</td><td>{x.items}</td><td>{x.signal}</td>"
            f"<td>{x.ratio:.0%}</td></tr>"
            for x in review.sources
        ]
        out.append("</table>")
        out.append(_img(sn_chart_png(review.sources), "Signal to noise per source"))
    for x in review.suggestions:
        out.append(
            f"<p><strong>Suggestion:</strong> mute or unsubscribe from "
            f"{esc(x.source_name)} ({x.signal} of {x.items} items deserved attention).</p>"
        )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def export(review: Review, fmt: str) -> str:
    """The review in ``fmt`` (``md`` or ``html``)."""
    if fmt == "html":
        return to_html(review)
    return to_markdown(review)
