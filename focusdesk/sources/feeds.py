"""Feeds as a source: RSS 0.9x/1.0/2.0, Atom, RDF and JSON Feed, by URL or local file.

Bytes come from our own fetcher (``fetch.py``) or the file; the parsers
(``feed_xml.py``, ``feed_json.py``) only ever see bytes in memory. A 304 reads
nothing; a 429 or 5xx sets "next attempt not before T" in the sync state and the
next sync after T tries again. Each entry becomes a ``RawItem`` of kind "feed"
(``feed_items.py``). Also here: checking a feed before it is added, and probing it
for its title (the add-feed dialog).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from focusdesk.clock import SystemClock
from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem, ScanResult
from focusdesk.sources.feed_items import ParsedFeed, is_url
from focusdesk.sources.feed_json import parse_json_feed
from focusdesk.sources.feed_xml import (
    UnsafeFeedError,
    check_xml_safety,
    discover_feed_links,
    looks_like_html,
    parse_xml_feed,
)
from focusdesk.sources.fetch import (
    DEFAULT_MAX_BYTES,
    Fetcher,
    FetchLimits,
    FetchResult,
    RetryLater,
    decompress_capped,
)
from focusdesk.sources.opml import join_group, split_group

__all__ = [
    "FeedIngester",
    "FeedInfo",
    "FeedRetryLater",
    "FeedSourceSpec",
    "ParsedFeed",
    "UnsafeFeedError",
    "check_feed_uri",
    "check_xml_safety",
    "discover_feed_links",
    "feed_source_spec",
    "next_backoff",
    "parse_feed",
    "probe_feed",
]

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 60.0
BACKOFF_MAX_S = 6 * 3600.0
RETRY_AFTER_MAX_S = 24 * 3600.0

Clock = Callable[[], datetime]


class FeedRetryLater(SourceError):
    """The feed's server asked us to wait; ``sync_state`` holds "not before T".

    The sync keeps ``sync_state`` even though the sync failed, so that the next sync
    before T does not contact the server and the one after T tries again.
    """

    def __init__(
        self, message: str, *, sync_state: dict[str, Any], retry_at: datetime, hint: str | None
    ) -> None:
        super().__init__(message, hint=hint)
        self.sync_state = sync_state
        self.retry_at = retry_at


@dataclass(frozen=True)
class FeedSourceSpec:
    """A checked feed source, ready for ``FocusDesk.sources.add("feed", ...)``."""

    uri: str
    name: str
    config: dict[str, Any]


def _is_windows_path(uri: str) -> bool:
    return len(uri) > 2 and uri[1] == ":" and uri[0].isalpha() and uri[2] in "\\/"


def check_feed_uri(uri: str) -> tuple[str, str]:
    """Validate a feed's URL or path; returns (normalised uri, default name).

    A URL must be http(s) (``feed:`` URLs are rewritten to http); a path must be an
    existing file. Raises ``SourceError`` with a message for the user otherwise.
    """
    raw = uri.strip()
    if not raw:
        raise SourceError("A feed needs a URL or a file path.")
    if raw.lower().startswith("feed:"):
        rest = raw[5:]
        raw = rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise SourceError(f"{uri!r} is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        host = (parts.hostname or "").lower()
        if not host:
            raise SourceError(f"The feed URL {uri!r} names no host.")
        if parts.username or parts.password:
            raise SourceError("Feed URLs with a user name or password are not supported.")
        default = 443 if scheme == "https" else 80
        hostport = f"[{host}]" if ":" in host else host
        netloc = hostport if port in (None, default) else f"{hostport}:{port}"
        norm = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
        return norm, host.removeprefix("www.")
    if scheme == "file":
        raw = unquote(parts.path)
    elif scheme and not _is_windows_path(raw):
        raise SourceError(
            f"FocusDesk reads feeds over http or https, or from a local file; not {scheme}:.",
        )
    path = Path(raw).expanduser().resolve()
    if not path.is_file():
        raise SourceError(f"The feed file {path} does not exist or is not a file.")
    return str(path), path.stem


def feed_source_spec(
    uri: str, name: str | None = None, group: str | None = None, **config: Any
) -> FeedSourceSpec:
    """Check a feed the user entered and build its (uri, name, config)."""
    norm, default_name = check_feed_uri(uri)
    cfg: dict[str, Any] = {k: v for k, v in config.items() if v is not None}
    normalised_group = join_group(split_group(group))
    if normalised_group:
        cfg["group"] = normalised_group
    return FeedSourceSpec(norm, (name or "").strip() or default_name, cfg)


def _limits(config: Mapping[str, Any]) -> FetchLimits:
    """Fetch limits from a feed's config; a missing or unusable value keeps the default."""
    base = FetchLimits()

    def number(key: str, default: float) -> float:
        value = config.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        if value is not None:
            log.warning("Ignored the feed setting %s=%r (not a positive number)", key, value)
        return default

    return FetchLimits(
        connect_timeout=number("connect_timeout", base.connect_timeout),
        read_timeout=number("timeout", base.read_timeout),
        deadline=number("deadline", base.deadline),
        max_bytes=int(number("max_bytes", base.max_bytes)),
        max_redirects=int(number("max_redirects", base.max_redirects)),
    )


def parse_feed(
    data: bytes,
    *,
    url: str | None = None,
    headers: Mapping[str, str] | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse feed bytes (RSS, Atom, RDF or JSON Feed) into items.

    ``url`` is where the bytes came from (the base of relative links); ``headers``
    the HTTP response headers, if any (their charset counts); ``now`` the reader's
    clock (an entry dated more than a year after it keeps no date). Raises
    ``SourceError`` for a non-feed, an unsafe document or a feed with nothing
    recoverable; one bad entry becomes an ``IngestFailure``.
    """
    where = source or url or "The document"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return parse_json_feed(data, url, where, now)
    if not head:
        raise SourceError(f"{where} is empty, so it is not a feed.")
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    return parse_xml_feed(data, url=url, headers=lower, where=where, now=now)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _local(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def next_backoff(previous: Any) -> float:
    """The next exponential backoff in seconds: doubled, from 1 minute up to 6 hours."""
    prev = float(previous) if isinstance(previous, int | float) else 0.0
    return min(max(BACKOFF_BASE_S, prev * 2), BACKOFF_MAX_S)


class FeedIngester:
    """Reads one feed (URL or local file). Feeds forget old entries, so the scan is
    never ``complete``: entries that dropped out of the feed stay in the store."""

    kind = "feed"

    def __init__(
        self,
        uri: str,
        config: Mapping[str, Any] | None = None,
        *,
        fetcher: Fetcher | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.uri = uri
        self.config = dict(config or {})
        self.limits = fetcher.limits if isinstance(fetcher, Fetcher) else _limits(self.config)
        self.clock: Clock = clock or SystemClock().now
        self.fetcher = fetcher or Fetcher(self.limits, now=self.clock)
        self.parses = 0
        """How many documents this ingester has parsed (a 304 parses nothing)."""
        self._result = ScanResult(complete=False)

    @property
    def result(self) -> ScanResult:
        """Valid once ``scan`` is exhausted."""
        return self._result

    @property
    def max_bytes(self) -> int:
        """Cap on a document's size once decompressed."""
        return self.limits.max_bytes

    def scan(self, state: dict[str, Any]) -> Iterator[RawItem | IngestFailure]:
        """Yield the feed's entries (or failures); a 304 or an unchanged file yields nothing."""
        self._result = ScanResult(state=dict(state), complete=False, unchanged=True)
        if is_url(self.uri):
            parsed = self._fetch_and_parse(state)
        else:
            parsed = self._read_file(state)
        if parsed is None:
            return
        yield from parsed.items

    def _parse(self, data: bytes, url: str | None, headers: Mapping[str, str]) -> ParsedFeed:
        self.parses += 1
        parsed = parse_feed(data, url=url, headers=headers, source=self.uri, now=self.clock())
        if parsed.warning:
            log.warning("Feed %s is malformed but readable: %s", self.uri, parsed.warning)
        return parsed

    def _fetch_and_parse(self, state: dict[str, Any]) -> ParsedFeed | None:
        now = self.clock()
        not_before = _parse_iso(state.get("next_attempt_at"))
        if not_before is not None and now < not_before:
            raise FeedRetryLater(
                f"{self.uri}: the server asked FocusDesk to wait; "
                f"next attempt after {_local(not_before)}.",
                sync_state=dict(state),
                retry_at=not_before,
                hint=None,
            )
        try:
            fetched = self.fetcher.get(
                self.uri,
                etag=state.get("etag") or None,
                last_modified=state.get("last_modified") or None,
            )
        except RetryLater as exc:
            backoff = next_backoff(state.get("backoff"))
            delay = (
                min(exc.retry_after, RETRY_AFTER_MAX_S) if exc.retry_after is not None else backoff
            )
            # Whole seconds, rounded up: never earlier than the server asked.
            retry_at = (now + timedelta(seconds=delay)).replace(microsecond=0)
            if retry_at < now + timedelta(seconds=delay):
                retry_at += timedelta(seconds=1)
            new_state = {**state, "next_attempt_at": _iso(retry_at), "backoff": backoff}
            raise FeedRetryLater(
                f"{exc.message.rstrip('.')}. Next attempt after {_local(retry_at)}.",
                sync_state=new_state,
                retry_at=retry_at,
                hint="FocusDesk keeps the feed and tries again then.",
            ) from None
        fresh = {
            "etag": fetched.etag or (state.get("etag") if fetched.not_modified else None),
            "last_modified": fetched.last_modified
            or (state.get("last_modified") if fetched.not_modified else None),
            "next_attempt_at": None,
            "backoff": None,
        }
        if fetched.permanent_url:
            fresh["moved_to"] = fetched.permanent_url
        if fetched.not_modified:
            new_state = {**state, **fresh}
            if "feed_title" in state:
                new_state["feed_title"] = state["feed_title"]
            # Unchanged, unless the state itself must change (a backoff to clear).
            self._result = ScanResult(
                state=new_state, complete=False, unchanged=new_state == dict(state)
            )
            return None
        body = decompress_capped(fetched.body, self.max_bytes, self.uri)  # a .xml.gz served raw
        parsed = self._parse(body, fetched.url, fetched.headers)
        fresh["feed_title"] = parsed.title
        self._result = ScanResult(state=fresh, complete=False)
        return parsed

    def _read_file(self, state: dict[str, Any]) -> ParsedFeed | None:
        path = Path(self.uri).expanduser()
        info = _stat_feed_file(path)
        if state.get("size") == info.st_size and state.get("mtime_ns") == info.st_mtime_ns:
            return None
        parsed = self._parse(_read_feed_file(path, self.max_bytes), None, {})
        self._result = ScanResult(
            state={"size": info.st_size, "mtime_ns": info.st_mtime_ns, "feed_title": parsed.title},
            complete=False,
        )
        return parsed


def _stat_feed_file(path: Path) -> os.stat_result:
    """The file's stat, checked to be a regular file (a FIFO would block an open)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceError(f"The feed file {path} does not exist.") from None
    except OSError as exc:
        raise SourceError(f"The feed file {path} could not be read: {exc.strerror}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError(f"{path} is a folder, not a feed file.")
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(f"{path} is not a regular file, so it is not a feed.")
    return info


def _read_feed_file(path: Path, max_bytes: int) -> bytes:
    """A local feed's bytes (gunzipped when gzip), never more than ``max_bytes``."""
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except PermissionError:
        raise SourceError(f"FocusDesk is not allowed to read the feed file {path}.") from None
    except OSError as exc:
        raise SourceError(f"The feed file {path} could not be read: {exc.strerror}.") from None
    if len(data) > max_bytes:
        raise SourceError(f"The feed file {path} is larger than the size limit.")
    return decompress_capped(data, max_bytes, f"The feed file {path}")


@dataclass(frozen=True)
class FeedInfo:
    """What a feed says about itself, for showing before it is added."""

    title: str
    url: str
    """The feed's address to add (after a permanent redirect or autodiscovery)."""
    html_url: str | None
    version: str
    entries: int


def probe_feed(
    url_or_path: str,
    *,
    fetcher: Fetcher | None = None,
    discover: bool = True,
    referrer: FetchResult | None = None,
) -> FeedInfo:
    """Fetch and parse a feed once, to show its title before adding it.

    Given a web page that announces a feed (autodiscovery), the announced feed is
    probed instead (one hop). Raises ``SourceError`` with a message for the user.
    """
    uri, _ = check_feed_uri(url_or_path)
    fetcher = fetcher or Fetcher()
    if not is_url(uri):
        path = Path(uri)
        _stat_feed_file(path)
        data = _read_feed_file(path, DEFAULT_MAX_BYTES)
        parsed = parse_feed(data, source=uri, now=fetcher.now())
        return FeedInfo(parsed.title, uri, parsed.link, parsed.version, _count(parsed))
    fetched = fetcher.get(uri, referrer=referrer)
    body = decompress_capped(fetched.body, fetcher.limits.max_bytes, uri)
    try:
        parsed = parse_feed(
            body, url=fetched.url, headers=fetched.headers, source=uri, now=fetcher.now()
        )
    except UnsafeFeedError:
        raise
    except SourceError:
        links = [u for u in discover_feed_links(body, fetched.url) if is_url(u)]
        if not discover or not links or not looks_like_html(body):
            raise
        return probe_feed(links[0], fetcher=fetcher, discover=False, referrer=fetched)
    return FeedInfo(
        parsed.title, fetched.permanent_url or uri, parsed.link, parsed.version, _count(parsed)
    )


def _count(parsed: ParsedFeed) -> int:
    return sum(1 for i in parsed.items if isinstance(i, RawItem))
