"""Which body the reader shows for an item: formatted (HTML) or plain text.

A Markdown note is rendered (``sources.note_html``); a feed entry or a mail has the
sanitised HTML its source kept (``meta["html"]``). Notes and feed entries open
formatted; a mail opens its plain part unless that is a stub ("See the HTML version")
or missing. The user can switch whenever both exist.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from typing import Any

from focusdesk.records import ItemDetail
from focusdesk.sources.note_html import render_note

from .remote_content import has_remote_content, item_html, remote_urls

log = logging.getLogger(__name__)

__all__ = ["Bodies", "item_bodies"]

_PLAIN_NOTE_SUFFIXES = (".txt",)


@dataclass(frozen=True)
class Bodies:
    """What can be shown of one item, and which one to show first."""

    formatted: str | None
    """Sanitised HTML (remote images held back), or None when there is none."""
    prefer_formatted: bool
    has_plain: bool
    has_remote_content: bool
    """Whether the formatted body would load something remote."""

    @property
    def can_toggle(self) -> bool:
        return self.formatted is not None and self.has_plain


@functools.lru_cache(maxsize=16)
def _rendered(body: str, front_matter_json: str) -> tuple[str, bool] | None:
    front_matter: Any = json.loads(front_matter_json)
    try:
        note = render_note(body, front_matter if isinstance(front_matter, dict) else None)
    except ValueError as exc:
        log.info("Note shown as plain text: %s", exc)
        return None
    return note.html, note.has_remote_content


def _is_markdown_note(detail: ItemDetail) -> bool:
    if detail.kind != "note":
        return False
    path = detail.meta.get("path")
    return not (isinstance(path, str) and path.lower().endswith(_PLAIN_NOTE_SUFFIXES))


def item_bodies(detail: ItemDetail) -> Bodies:
    """The item's formatted and plain bodies, and which the reader opens with."""
    has_plain = bool((detail.body or detail.text).strip())
    if _is_markdown_note(detail):
        front_matter = detail.meta.get("front_matter")
        key = json.dumps(front_matter if isinstance(front_matter, dict) else None, sort_keys=True)
        rendered = _rendered(detail.body or detail.text, key)
        if rendered is None:
            return Bodies(None, False, has_plain, False)
        html, remote = rendered
        return Bodies(html, True, has_plain, remote)
    meta_html = item_html(detail)
    if meta_html is None:
        return Bodies(None, False, has_plain, False)
    if detail.kind == "email":
        prefer = detail.meta.get("plain_is_stub") is True or not has_plain
    else:
        prefer = True
    remote = has_remote_content(detail) or bool(remote_urls(meta_html))
    return Bodies(meta_html, prefer, has_plain, remote)
