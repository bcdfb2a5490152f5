"""JSON Feed (https://jsonfeed.org/version/1 and 1.1), parsed with the json module."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.feed_items import (
    ParsedFeed,
    dedupe,
    feed_base,
    hash_id,
    make_item,
    plausible,
    str_of,
    web_url,
)
from focusdesk.sources.text import normalise_whitespace, valid_unicode

__all__ = ["parse_json_feed"]

log = logging.getLogger(__name__)


def parse_json_feed(
    data: bytes, url: str | None, where: str, now: datetime | None = None
) -> ParsedFeed:
    """Parse a JSON Feed document; a bad item is an ``IngestFailure``, not fatal. Dates
    more than a year after ``now`` are not believed."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SourceError(f"{where} looks like JSON but could not be read ({exc}).") from None
    if _SURROGATE_ESCAPE.search(data):
        doc = _valid_strings(doc)
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not re.match(
        r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$", version.strip()
    ):
        raise SourceError(f"{where} is not a feed (JSON, but not a JSON Feed).")
    items_raw = doc.get("items")
    if not isinstance(items_raw, list):
        raise SourceError(f"The JSON Feed {where} has no list of items.")
    home = str_of(doc.get("home_page_url")) or None
    base = feed_base(url, home)
    title = normalise_whitespace(str_of(doc.get("title")))
    feed_author = _json_author(doc)

    def each() -> Iterator[RawItem | IngestFailure]:
        for position, entry in enumerate(items_raw, start=1):
            try:
                if not isinstance(entry, dict):
                    raise ValueError("an item that is not an object")
                yield _json_entry(entry, base, title, feed_author, now)
            except Exception as exc:
                ref = f"{where}#item {position}"
                log.warning("Skipped %s: %r", ref, exc)
                yield IngestFailure(ref=ref, reason=f"unreadable item ({exc})")

    tail = version.rstrip("/").rsplit("/", 1)[-1]
    return ParsedFeed(
        title=title or (home or where),
        link=web_url(urljoin(url or "", home)) if home else None,
        version=f"json{tail}",
        items=list(dedupe(each())),
    )


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _valid_strings(doc: Any) -> Any:
    """``doc`` with lone surrogates (``"\\ud800"``) in its strings, keys included, made
    U+FFFD; iterative, so a deeply nested document cannot exhaust the stack."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return valid_unicode(value)
        if isinstance(value, dict):
            fresh: dict[str, Any] = {}
            pending.append((value, fresh))
            return fresh
        if isinstance(value, list):
            copy: list[Any] = []
            pending.append((value, copy))
            return copy
        return value

    pending: list[tuple[Any, Any]] = []
    root = clean(doc)
    while pending:
        source, target = pending.pop()
        if isinstance(source, dict):
            for key, value in source.items():
                target[valid_unicode(key)] = clean(value)
        else:
            target.extend(clean(value) for value in source)
    return root


def _json_author(obj: Mapping[str, Any]) -> str | None:
    authors = obj.get("authors")
    if isinstance(authors, list):
        for a in authors:
            if isinstance(a, dict) and str_of(a.get("name")):
                return str_of(a.get("name"))
    author = obj.get("author")
    if isinstance(author, dict) and str_of(author.get("name")):
        return str_of(author.get("name"))
    return None


def _json_date(value: Any, now: datetime | None) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when if plausible(when, now) else None


def _json_entry(
    entry: dict[str, Any],
    base: str | None,
    feed_title: str,
    feed_author: str | None,
    now: datetime | None,
) -> RawItem:
    raw_id = entry.get("id")
    entry_id = str(raw_id).strip() if isinstance(raw_id, str | int) else ""
    raw_link = str_of(entry.get("url")) or str_of(entry.get("external_url")) or None
    link = web_url(urljoin(base, raw_link) if raw_link and base else raw_link)
    title = normalise_whitespace(str_of(entry.get("title")))
    html, is_html = str_of(entry.get("content_html")), True
    if not html:
        html, is_html = str_of(entry.get("content_text")), False
    if not html:
        html, is_html = str_of(entry.get("summary")), False
    raw_date = str_of(entry.get("date_published")) or str_of(entry.get("date_modified"))
    published = _json_date(entry.get("date_published"), now) or _json_date(
        entry.get("date_modified"), now
    )
    meta: dict[str, Any] = {"feed_title": feed_title}
    tags = entry.get("tags")
    if isinstance(tags, list) and tags:
        meta["tags"] = [str(t) for t in tags if isinstance(t, str | int)]
    if raw_date and published is None:
        meta["date_unparsed"] = raw_date
    return make_item(
        entry_id=entry_id or raw_link or hash_id(title, raw_date),
        title=title,
        html=html,
        is_html=is_html,
        base=base,
        link=link,
        author=_json_author(entry) or feed_author,
        published=published,
        meta=meta,
    )
