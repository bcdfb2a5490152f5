"""The HTML part of a mail kept for the reader, and whether its plain part is a stub.

Newsletters often send a plain part that only says "See the HTML version" or "View
this email in your browser". Such a stub, an empty plain part, or one far shorter than
the HTML is not worth reading or ranking: the reader opens the HTML part instead (the
user can still switch to plain text). The HTML is stored sanitised (``html_safe``),
with remote images held back, in the item's ``meta``. No Qt here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from focusdesk.sources.html_safe import sanitize_html

__all__ = ["MAX_STORED_HTML", "html_part_meta", "plain_is_stub"]

MAX_STORED_HTML = 1_000_000
"""Sanitised HTML longer than this is not kept (the plain text is shown instead)."""

_STUB_PHRASE = re.compile(
    r"\b(?:see|view|read|open|display)\b[^.\n]{0,60}\b(?:html|browser|web\s*version|online)\b"
    r"|\bhtml\s+(?:version|e-?mail|message|format)\b"
    r"|\b(?:does\s+not|doesn'?t|cannot|can'?t)\s+(?:support|display|show)\b[^.\n]{0,30}\bhtml\b"
    r"|\benable\s+html\b",
    re.IGNORECASE,
)
_STUB_MAX_WORDS = 80
"""A plain part with a stub phrase is a stub only when it is this short."""
_SHORT_RATIO = 5
"""A plain part with five times fewer words than the HTML (40 words or more) is a stub."""
_MIN_HTML_WORDS = 40


def plain_is_stub(plain: str, html_text: str) -> bool:
    """Whether ``plain`` stands in for the HTML part rather than carrying the message.

    ``html_text`` is the HTML part reduced to text. Empty plain text is a stub when
    there is HTML; so is a short "see the HTML version" note, or a plain part with
    far fewer words than the HTML.
    """
    html_words = len(html_text.split())
    if html_words == 0:
        return False
    plain_words = len(plain.split())
    if plain_words == 0:
        return True
    if html_words >= _MIN_HTML_WORDS and plain_words * _SHORT_RATIO < html_words:
        return True
    return (
        plain_words <= _STUB_MAX_WORDS
        and html_words > plain_words
        and _STUB_PHRASE.search(plain) is not None
    )


def html_part_meta(html_parts: Sequence[str], plain: str, html_text: str) -> dict[str, Any]:
    """What the item's ``meta`` keeps about the HTML part: the sanitised ``html``,
    ``has_remote_content`` and ``plain_is_stub``; empty without a usable HTML part."""
    source = "\n".join(p for p in html_parts if p.strip())
    if not source:
        return {}
    safe = sanitize_html(source)
    if not safe.html.strip() or len(safe.html) > MAX_STORED_HTML:
        return {}
    return {
        "html": safe.html,
        "has_remote_content": safe.has_remote_content,
        "plain_is_stub": plain_is_stub(plain, html_text),
    }
