"""The conversation under a mail in the reader: every message of its thread, in date order.

The message shown above (the conversation's best match, which its inbox row stands
for) is marked in the list rather than repeated; the others follow with their text,
HTML-escaped like every plain body the reader shows.
"""

from __future__ import annotations

import html
from datetime import datetime

from focusdesk.records import ItemDetail, ThreadMessage

THREAD_ANCHOR = "conversation"
THREAD_BODY_CHARS = 4000
"""Each other message's text is cut to this many characters in the list."""
_STATUS_WORDS = {"done": "done", "dismissed": "dismissed", "snoozed": "snoozed"}


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _when(when: datetime | None) -> str:
    return when.astimezone().strftime("%a %d %b %Y, %H:%M") if when is not None else ""


def _heading(message: ThreadMessage, number: int) -> str:
    parts = [f"{number}.", message.author or "(unknown sender)", _when(message.published_at)]
    state = _STATUS_WORDS.get(message.status)
    if state:
        parts.append(f"({state})")
    return " ".join(p for p in parts if p)


def render_thread_html(detail: ItemDetail, muted: str) -> str:
    """The conversation block for ``detail`` ("" when it is not part of one)."""
    if len(detail.thread) < 2:
        return ""
    parts = [
        f"<hr/><a name='{THREAD_ANCHOR}'></a>"
        f"<h3 style='margin-bottom:2px'>Conversation · {len(detail.thread)} messages</h3>"
        f"<p style='color:{muted}; margin-top:0'>In date order; the message shown above is "
        "marked ◆.</p>"
    ]
    for number, message in enumerate(detail.thread, 1):
        heading = _esc(_heading(message, number))
        if message.id == detail.id:
            parts.append(
                f"<p style='margin-bottom:0'><b>◆ {heading}</b> — the message shown above</p>"
            )
            continue
        body = message.body.strip()
        if len(body) > THREAD_BODY_CHARS:
            body = body[:THREAD_BODY_CHARS].rsplit(" ", 1)[0] + " …"
        parts.append(
            f"<p style='margin-bottom:0'><b>{heading}</b></p>"
            f"<p style='color:{muted}; margin-top:0; margin-bottom:0'>"
            f"{_esc(message.title or '(untitled)')}</p>"
            f"<p style='margin-top:2px; white-space:pre-wrap'>{_esc(body) or '<i>(no text)</i>'}"
            "</p>"
        )
    return "".join(parts)
