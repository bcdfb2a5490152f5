"""Turning one feed entry into a ``RawItem``: shared by the XML and JSON Feed parsers.

Plain text for ranking (``text``, ``body``), sanitised HTML for display in
``meta["html"]``, links that are absolute http(s) or nothing, ids that stay stable
when an entry is repeated.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.html_safe import sanitize_html
from focusdesk.sources.text import html_to_text, valid_unicode

__all__ = [
    "ParsedFeed",
    "dedupe",
    "feed_base",
    "hash_id",
    "is_url",
    "make_item",
    "plausible",
    "str_of",
    "text_of",
    "web_url",
]

TITLE_CHARS = 120


@dataclass
class ParsedFeed:
    """A feed document turned into items."""

    title: str
    link: str | None
    """The site the feed belongs to (htmlUrl)."""
    version: str
    """'rss20', 'atom10', 'rdf', 'json1.1', ... as detected."""
    items: list[RawItem | IngestFailure] = field(default_factory=list)
    warning: str | None = None
    """Why the document was malformed, when entries were recovered anyway."""


def str_of(value: Any) -> str:
    """``value`` stripped when it is a string, else "" (feed fields can be anything)."""
    return value.strip() if isinstance(value, str) else ""


def is_url(uri: str) -> bool:
    """Whether ``uri`` is an http(s) URL (else a feed source is a local path)."""
    return uri.lower().startswith(("http://", "https://"))


def web_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL (something a browser may open), else None."""
    return url if url and is_url(url) and urlsplit(url).netloc else None


def feed_base(url: str | None, feed_link: str | None) -> str | None:
    """Base of relative links with no xml:base: the feed's own link, else where it came from."""
    if feed_link:
        absolute = urljoin(url or "", feed_link)
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return url if url and is_url(url) else None


def text_of(detail: Any, fallback: Any) -> str:
    """Plain text of a feedparser text construct (HTML titles reduced to text)."""
    value = str_of(detail.get("value")) if isinstance(detail, Mapping) else str_of(fallback)
    kind = str_of(detail.get("type")) if isinstance(detail, Mapping) else ""
    if "html" in kind or ("<" in value and ">" in value):
        return html_to_text(value)
    return value


def plausible(when: datetime, now: datetime | None) -> bool:
    """Whether a date can be an entry's: not before 1970, at most a year after ``now``
    (the reader's clock; None: no upper bound, for a caller without one)."""
    if when < datetime(1970, 1, 2, tzinfo=UTC):
        return False
    return now is None or when <= now + timedelta(days=366)


def hash_id(*parts: str) -> str:
    """A stable id from an entry's parts, for entries with neither id nor link."""
    h = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{h[:32]}"


def text_to_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs (blank lines apart, line breaks kept)."""
    paras = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(f"<p>{htmllib.escape(p).replace(chr(10), '<br>')}</p>" for p in paras)


def make_item(
    *,
    entry_id: str,
    title: str,
    html: str,
    is_html: bool,
    base: str | None,
    link: str | None,
    author: str | None,
    published: datetime | None,
    meta: dict[str, Any],
) -> RawItem:
    """The item of one entry: sanitised HTML for display, its text for ranking."""
    safe = sanitize_html(html if is_html else text_to_html(html), base_url=base)
    text = html_to_text(safe.html) if safe.html else ""
    if not title:
        title = (text.split("\n", 1)[0][:TITLE_CHARS] if text else "") or "(untitled)"
    meta = {**meta, "html": safe.html}
    if safe.has_remote_content:
        meta["has_remote_content"] = True
    return RawItem(
        external_id=valid_unicode(entry_id),
        kind="feed",
        title=valid_unicode(title),
        text=text or title,
        body=text or title,
        author=valid_unicode(author) if author else None,
        url=link,
        published_at=published,
        meta=meta,
    )


def dedupe(items: Iterator[RawItem | IngestFailure]) -> Iterator[RawItem | IngestFailure]:
    """Entries repeated with the same id: exact repeats dropped, different ones kept
    under an id made stable by their content (not their position in the feed)."""
    seen: dict[str, set[str]] = {}
    for item in items:
        if isinstance(item, IngestFailure):
            yield item
            continue
        digest = item.content_hash
        hashes = seen.setdefault(item.external_id, set())
        if digest in hashes:
            continue
        if hashes:
            hashes.add(digest)
            item.meta["duplicate_of"] = item.external_id
            item.external_id = f"{item.external_id}#{hash_id(item.title, item.url or '')[7:19]}"
        else:
            hashes.add(digest)
        yield item
