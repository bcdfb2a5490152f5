"""RSS 0.9x/1.0/2.0, Atom and RDF through feedparser, made safe and base-aware.

Before feedparser sees a byte, XML that declares entities (billion laughs, external
entities) or points its DTD at a local file is refused, checked on the bytes in the
encoding feedparser will use and by defusedxml. feedparser gets a stream, never a
string it could take for a URL or a path. Relative links resolve against xml:base,
then the feed's own link, then the address it came from.
"""

from __future__ import annotations

import html as htmllib
import io
import logging
import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.charsets import xml_as_utf8
from focusdesk.sources.feed_items import (
    ParsedFeed,
    dedupe,
    feed_base,
    hash_id,
    is_url,
    make_item,
    plausible,
    str_of,
    text_of,
    web_url,
)
from focusdesk.sources.text import normalise_whitespace

__all__ = [
    "UnsafeFeedError",
    "check_xml_safety",
    "discover_feed_links",
    "looks_like_html",
    "not_a_feed",
    "parse_xml_feed",
]

log = logging.getLogger(__name__)


class UnsafeFeedError(SourceError):
    """The document declares XML entities or refers to local files: refused unread."""


_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*"  # a BOM, blanks and comments, then
    rb"<(?:!doctype\s+html|html[\s>]|head[\s>])",  # an HTML doctype or root element
    re.I | re.S,
)
_FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
)


class _LinkFinder(HTMLParser):
    """Collects ``<link rel="alternate" type="...feed type...">`` of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("link", "a"):
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rel = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";", 1)[0].strip()
        if "alternate" in rel and kind in _FEED_TYPES and values.get("href"):
            self.links.append(values["href"].strip())


def discover_feed_links(page: bytes, base_url: str | None) -> list[str]:
    """The feed URLs an HTML page announces (feed autodiscovery), absolute when possible."""
    finder = _LinkFinder()
    try:
        finder.feed(page[:1_000_000].decode("utf-8", "replace"))
        finder.close()
    except Exception:  # best effort on a broken page
        pass
    out: list[str] = []
    for href in finder.links:
        url = urljoin(base_url, href) if base_url else href
        if url not in out:
            out.append(url)
    return out


def looks_like_html(data: bytes) -> bool:
    """Whether the document starts like an HTML page."""
    return _HTML_START.match(data[:4096]) is not None


def not_a_feed(where: str, data: bytes, base_url: str | None) -> SourceError:
    """The error for a document that is not a feed, naming the feeds a page links to."""
    links = discover_feed_links(data, base_url) if looks_like_html(data) else []
    hint = None
    if links:
        hint = "The page links to a feed: " + ", ".join(links[:3])
    return SourceError(f"{where} is not a feed (it looks like a web page).", hint=hint)


_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.I)
_ENTITY = re.compile(rb"<!\s*ENTITY", re.I)
_EXTERNAL_ID = re.compile(
    rb"<!\s*DOCTYPE\s+[^\s>\[]+\s+(?:SYSTEM|PUBLIC\s+(?:\"[^\"]*\"|'[^']*'))\s*"
    rb"(?:\"([^\"]*)\"|'([^']*)')",
    re.I,
)


def _as_utf8(data: bytes, headers: Mapping[str, str]) -> bytes:
    """The document as the feed parser will see it: converted to UTF-8 the same way."""
    from feedparser.encodings import convert_to_utf8

    try:
        return bytes(convert_to_utf8(dict(headers), data, {}))
    except Exception:  # an encoding the parser cannot handle: check the bytes as they are
        return data


def check_xml_safety(data: bytes, headers: Mapping[str, str] | None = None) -> None:
    """Refuse XML that declares entities or points its DTD at a non-web location.

    Checked on the bytes (in the encoding the parser will use) and, when there is a
    DOCTYPE, by defusedxml as well. Raises ``UnsafeFeedError``; nothing is expanded
    or read.
    """
    _check_xml_safety(data, _as_utf8(data, headers or {}))


def _check_xml_safety(data: bytes, text: bytes) -> None:
    if not (_DOCTYPE.search(text) or _DOCTYPE.search(data)):
        return
    if _ENTITY.search(text) or _ENTITY.search(data):
        raise UnsafeFeedError(
            "The feed declares XML entities in its DOCTYPE (an entity-expansion or "
            "external-entity attack, or a very unusual feed); FocusDesk refused to read it."
        )
    for match in _EXTERNAL_ID.finditer(text):
        system_id = (match.group(1) or match.group(2) or b"").strip().lower()
        if system_id and not system_id.startswith((b"http://", b"https://")):
            raise UnsafeFeedError(
                "The feed's DOCTYPE points at a local or non-web resource "
                f"({system_id[:80].decode('ascii', 'replace')}); FocusDesk refused to read it."
            )
    import defusedxml
    import defusedxml.ElementTree as DET

    try:
        DET.fromstring(text, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeFeedError(
            f"The feed uses forbidden XML features ({type(exc).__name__}); "
            "FocusDesk refused to read it."
        ) from None
    except Exception:  # malformed XML: the feed parser recovers what it can
        pass


_HEAD_END = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>/]")
_RSS_LINK = re.compile(rb"<link\s*>\s*(?:<!\[CDATA\[)?\s*([^<\s\]]+)\s*(?:\]\]>)?\s*</link\s*>")
_ATOM_LINK = re.compile(rb"<link\b([^>]*?)/?>")
_ATTR = re.compile(rb"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


# An RSS guid that is a permalink (isPermaLink not "false") written as a relative URL.
_RELATIVE_PERMALINK_GUID = re.compile(
    rb"<guid(?![^>]*isPermaLink\s*=\s*[\"']false)[^>]*>\s*(?:<!\[CDATA\[)?\s*(?!https?:)[^<\s]",
    re.IGNORECASE,
)


def _prescan_base(text: bytes, url: str | None) -> str | None:
    """The feed-level link found before the first entry, made absolute: the base that
    feedparser should resolve against (it also keeps xml:base scoped that way)."""
    head = text[:65536]
    end = _HEAD_END.search(head)
    if end:
        head = head[: end.start()]
    doc_url = url if url and is_url(url) else None
    alternate: str | None = None
    for match in _ATOM_LINK.finditer(head):
        attrs = {
            m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
            for m in _ATTR.finditer(match.group(1))
        }
        href = htmllib.unescape(attrs.get(b"href", b"").decode("utf-8", "replace")).strip()
        rel = attrs.get(b"rel", b"alternate").decode("ascii", "replace").strip().lower()
        if not href:
            continue
        if rel == "self" and doc_url is None and is_url(href):
            doc_url = href
        elif rel == "alternate" and alternate is None:
            alternate = href
    if alternate is None:
        rss = _RSS_LINK.search(head)
        if rss:
            alternate = htmllib.unescape(rss.group(1).decode("utf-8", "replace"))
    candidate = urljoin(doc_url or "", alternate) if alternate else doc_url
    return candidate if candidate and web_url(candidate) else doc_url


def _self_link(feed: Mapping[str, Any]) -> str | None:
    """The feed's own absolute address (atom:link rel="self"), if it gives one."""
    for link in feed.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "self":
            href = str_of(link.get("href"))
            if is_url(href):
                return href
    return None


_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,32})|([0-9]{1,32}));")


def _fix_charrefs(text: bytes) -> bytes:
    """``text`` with each reference to a character that cannot exist (a lone surrogate,
    beyond U+10FFFF) made U+FFFD: feedparser raises on them rather than reading on."""

    def fix(match: re.Match[bytes]) -> bytes:
        hexa, decimal = match.groups()
        code = int(hexa, 16) if hexa is not None else int(decimal)
        return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match.group(0)

    return _CHARREF.sub(fix, text)


_NAMED_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{0,31});")
_XML_NAMES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def _well_formed_but_for_html(text: bytes) -> bool:
    """Whether the UTF-8 document is well-formed XML once HTML entities (``&eacute;``)
    are read as the characters they name and namespace prefixes are taken as written:
    the two liberties real feeds take that feedparser reports as malformed."""
    from html.entities import name2codepoint
    from xml.parsers import expat

    def numeric(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        code = name2codepoint.get(name.decode("ascii"))
        if name in _XML_NAMES or code is None:
            return match.group(0)
        return b"&#%d;" % code

    parser = expat.ParserCreate("utf-8")  # no namespace processing, no external entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(_NAMED_REF.sub(numeric, text), True)
    except expat.ExpatError:
        return False
    return True


def _is_encoding_warning(exc: object) -> bool:
    return type(exc).__name__ in ("CharacterEncodingOverride", "NonXMLContentType")


def _struct_to_dt(value: Any, now: datetime | None) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        when = datetime(*value[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    return when if plausible(when, now) else None


def _pick_content(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    """(value, type, xml:base) of the fullest content: full content over the summary."""
    contents = [c for c in entry.get("content") or [] if isinstance(c, Mapping)]
    contents = [c for c in contents if str_of(c.get("value"))]
    if contents:
        best = next((c for c in contents if "html" in str_of(c.get("type"))), contents[0])
        return str_of(best.get("value")), str_of(best.get("type")), str_of(best.get("base"))
    detail = entry.get("summary_detail")
    if isinstance(detail, Mapping) and str_of(detail.get("value")):
        return str_of(detail.get("value")), str_of(detail.get("type")), str_of(detail.get("base"))
    return str_of(entry.get("summary")), "text/html", ""


def _xml_entry(
    entry: Mapping[str, Any], base: str | None, feed_title: str, now: datetime | None
) -> RawItem:
    title = normalise_whitespace(text_of(entry.get("title_detail"), entry.get("title")))
    value, kind, content_base = _pick_content(entry)
    entry_base = urljoin(base or "", content_base) if content_base else base
    if entry_base and urlsplit(entry_base).scheme not in ("http", "https"):
        entry_base = base
    raw_link = str_of(entry.get("link")) or None
    link = web_url(urljoin(base, raw_link) if raw_link and base else raw_link)
    published = None
    raw_date = ""
    for key in ("published", "updated", "created"):
        published = published or _struct_to_dt(entry.get(f"{key}_parsed"), now)
        raw_date = raw_date or str_of(entry.get(key))
    entry_id = str_of(entry.get("id")) or raw_link or hash_id(title, raw_date)
    detail = entry.get("author_detail")
    author = (str_of(detail.get("name")) if isinstance(detail, Mapping) else "") or str_of(
        entry.get("author")
    )
    meta: dict[str, Any] = {"feed_title": feed_title}
    tags = [str_of(t.get("term")) for t in entry.get("tags") or [] if isinstance(t, Mapping)]
    if any(tags):
        meta["tags"] = [t for t in tags if t]
    enclosures = [
        {"url": urljoin(base or "", str_of(e.get("href"))), "type": str_of(e.get("type"))}
        for e in entry.get("enclosures") or []
        if isinstance(e, Mapping) and str_of(e.get("href"))
    ]
    if enclosures:
        meta["enclosures"] = enclosures
    if raw_date and published is None:
        meta["date_unparsed"] = raw_date
    if raw_link and not link:
        meta["link_unresolved"] = raw_link
    return make_item(
        entry_id=entry_id,
        title=title,
        html=value,
        is_html="html" in kind or not kind,
        base=entry_base,
        link=link,
        author=author,
        published=published,
        meta=meta,
    )


def _xml_items(
    entries: list[Any], base: str | None, where: str, feed_title: str, now: datetime | None
) -> Iterator[RawItem | IngestFailure]:
    def each() -> Iterator[RawItem | IngestFailure]:
        for position, entry in enumerate(entries, start=1):
            try:
                yield _xml_entry(entry, base, feed_title, now)
            except Exception as exc:  # one bad entry never aborts the feed
                ref = f"{where}#entry {position}"
                log.warning("Skipped %s: %r", ref, exc, exc_info=True)
                yield IngestFailure(ref=ref, reason=f"unreadable entry ({type(exc).__name__})")

    return dedupe(each())


def parse_xml_feed(
    data: bytes,
    *,
    url: str | None,
    headers: Mapping[str, str],
    where: str,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse an RSS, Atom or RDF document (``headers`` with lower-case names)."""
    data = xml_as_utf8(data, headers.get("content-type"))  # no declared encoding: detect it
    text = _as_utf8(data, headers)
    _check_xml_safety(data, text)
    import feedparser

    parser_headers = {"content-type": headers["content-type"]} if "content-type" in headers else {}
    fixed = _fix_charrefs(text)
    if fixed != text:  # read the UTF-8 text with the impossible characters replaced
        data = fixed
        media_type = parser_headers.get("content-type", "application/xml").split(";", 1)[0]
        parser_headers["content-type"] = f"{media_type.strip()}; charset=utf-8"
    # The base of relative links (xml:base aside): the feed's own link, else its address.
    prescan_base = _prescan_base(text, url)
    if prescan_base:
        parser_headers["content-location"] = prescan_base
    parsed = feedparser.parse(
        io.BytesIO(data),  # a stream: feedparser never treats it as a URL or a path
        response_headers=parser_headers,
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    entries = list(parsed.get("entries") or [])
    if prescan_base and _RELATIVE_PERMALINK_GUID.search(text):
        # feedparser resolves a permalink guid ("12345") against the base, so the entry's
        # id would change whenever the feed's link does: take the ids as written instead.
        as_written = (
            feedparser.parse(
                io.BytesIO(data),
                response_headers={
                    k: v for k, v in parser_headers.items() if k != "content-location"
                },
                resolve_relative_uris=False,
                sanitize_html=False,
            ).get("entries")
            or []
        )
        if len(as_written) == len(entries):
            for entry, raw in zip(entries, as_written, strict=True):
                if str_of(raw.get("id")):
                    entry["id"] = raw.get("id")
    version = str(parsed.get("version") or "")
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries:
        if looks_like_html(data) or (not version and bozo is None):
            raise not_a_feed(where, data, url)
        if not version:
            raise SourceError(f"{where} is not a feed, or is too broken to read ({bozo}).")
        if (
            bozo is not None
            and not _is_encoding_warning(bozo)
            and not _well_formed_but_for_html(text)
        ):
            # A feed with no entries yet is subscribed to; a broken document is not.
            raise SourceError(f"The feed {where} is malformed and no entry was readable: {bozo}.")
    feed = parsed.get("feed") or {}
    feed_link = str_of(feed.get("link")) or None
    doc_url = url if url and is_url(url) else _self_link(feed)
    base = feed_base(doc_url, feed_link)
    title = normalise_whitespace(text_of(feed.get("title_detail"), feed.get("title")))
    warning = None
    if bozo is not None and not _is_encoding_warning(bozo):
        warning = f"{type(bozo).__name__}: {bozo}"
        log.info("%s is malformed (%s); %d entries recovered", where, warning, len(entries))
    items = list(_xml_items(entries, base, where, title, now))
    return ParsedFeed(
        title=title or (feed_link or where),
        link=web_url(urljoin(doc_url or "", feed_link)) if feed_link else None,
        version=version or "unknown",
        items=items,
        warning=warning,
    )
