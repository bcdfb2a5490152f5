"""Feeds over a real loopback HTTP server: conditional GET, backoff, hostile servers,
and every corpus feed served by Python's own http.server as well as read from disk."""

from __future__ import annotations

import contextlib
import functools
import gzip
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from feed_server import FeedServer, Reply, http_date, running_server, slow_body

from focusdesk.errors import SourceError
from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.feeds import FeedIngester, FeedRetryLater
from focusdesk.sources.fetch import Fetcher, FetchLimits

PER_FILE_SECONDS = 5.0

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Loopback news</title><link>https://news.example/</link>
<description>d</description>
<item><title>Deep work beats shallow work</title><guid>n1</guid>
<description>&lt;p&gt;Focus on &lt;b&gt;one&lt;/b&gt; thing.&lt;/p&gt;</description></item>
<item><title>Second story</title><guid>n2</guid><description>More.</description></item>
</channel></rss>
"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with running_server() as srv:
        yield srv


@pytest.fixture
def parse_count(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts feedparser runs (a 304 must not parse anything)."""
    import feedparser

    counts: Counter[str] = Counter()
    real = feedparser.parse

    def spy(*args: Any, **kw: Any) -> Any:
        counts["parse"] += 1
        return real(*args, **kw)

    monkeypatch.setattr(feedparser, "parse", spy)
    return counts


def scan(ingester: FeedIngester, state: dict[str, Any] | None = None) -> list[Any]:
    return list(ingester.scan(state or {}))


# --- conditional GET ------------------------------------------------------------------


def test_etag_304_means_no_reparse(server: FeedServer, parse_count: Counter[str]) -> None:
    url = server.serve_feed("/news.xml", RSS, etag='"v1-abc"', content_type="application/rss+xml")
    ingester = FeedIngester(url)
    assert len(scan(ingester)) == 2
    state = ingester.result.state
    assert state["etag"] == '"v1-abc"'
    parses = parse_count["parse"]
    assert parses >= 1

    assert scan(ingester, state) == []
    assert ingester.result.unchanged is True
    assert parse_count["parse"] == parses  # nothing parsed on a 304
    assert server.hits["/news.xml"] == 2
    assert server.requests[-1].headers["if-none-match"] == '"v1-abc"'


def test_last_modified_304(server: FeedServer, parse_count: Counter[str]) -> None:
    lm = http_date(time.time() - 3600)
    url = server.serve_feed("/lm.xml", RSS, last_modified=lm)
    ingester = FeedIngester(url)
    scan(ingester)
    parses = parse_count["parse"]
    assert ingester.result.state["last_modified"] == lm
    assert scan(ingester, ingester.result.state) == []
    assert ingester.result.unchanged is True
    assert server.requests[-1].headers["if-modified-since"] == lm
    assert parse_count["parse"] == parses


def test_sync_through_the_app_uses_conditional_get(
    fd: Any, server: FeedServer, parse_count: Counter[str]
) -> None:
    url = server.serve_feed("/news.xml", RSS, etag='"e1"', gzipped=True)
    info = fd.sources.add("feed", url, name="Loopback news", config={"group": "News"})
    first = fd.sources.sync(info.id)
    assert first.reports[0].error is None, first.reports[0].error
    assert (first.reports[0].added, first.reports[0].failed) == (2, 0)
    parses = parse_count["parse"]
    second = fd.sources.sync(info.id)
    assert second.reports[0].error is None
    assert (second.reports[0].added, second.reports[0].updated) == (0, 0)
    assert parse_count["parse"] == parses  # the 304 parsed nothing
    assert server.requests[-1].headers["if-none-match"] == '"e1"'
    from sqlalchemy import select

    from focusdesk.store.models import Item

    with fd.store.session() as s:
        item_id = s.scalar(select(Item.id).where(Item.title == "Deep work beats shallow work"))
    detail = fd.items.get(item_id)
    assert detail.kind == "feed"
    assert detail.body == "Focus on one thing."
    assert detail.meta["html"] == "<p>Focus on <b>one</b> thing.</p>"


def test_cli_sources_add_feed_takes_the_feeds_title(
    server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from focusdesk.cli import main

    url = server.serve_feed("/news.xml", RSS)
    profile = tmp_path / "p"
    args = ["--data-dir", str(profile), "sources", "add", "feed", url, "--group", "Work/Reading"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Added feed source 1: Loopback news" in out
    assert "in Work/Reading" in out
    # A web page that announces its feed adds the feed.
    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/news.xml">'
    page_url = server.add("/", Reply(200, {"Content-Type": "text/html"}, page))
    main(["--data-dir", str(profile), "sources", "remove", "1"])
    assert main(["--data-dir", str(profile), "sources", "add", "feed", page_url]) == 0
    assert f"Found the feed at {url}" in capsys.readouterr().out
    # Something that is not a feed is refused.
    server.add("/page", Reply(200, {"Content-Type": "text/html"}, b"<html><p>hi</p></html>"))
    assert main(["--data-dir", str(profile), "sources", "add", "feed", server.url("/page")]) == 1
    assert "is not a feed" in capsys.readouterr().err


# --- 429 / 5xx: not before T, and never given up -------------------------------------------


def test_429_retry_after_is_honoured(server: FeedServer) -> None:
    busy = {"on": True}

    def route(req: Any) -> Reply:
        if busy["on"]:
            return Reply(429, {"Retry-After": "1"}, b"slow down")
        return Reply(200, {"Content-Type": "application/rss+xml"}, RSS)

    url = server.add("/busy.xml", route)
    ingester = FeedIngester(url)
    with pytest.raises(FeedRetryLater, match="rate-limiting.*Next attempt after") as info:
        scan(ingester)
    state = info.value.sync_state
    assert state["next_attempt_at"] is not None
    assert server.hits["/busy.xml"] == 1

    # A sync before that time does not reach the server.
    with pytest.raises(FeedRetryLater, match="next attempt after"):
        scan(ingester, state)
    assert server.hits["/busy.xml"] == 1

    # After it, it does, and the feed is read.
    busy["on"] = False
    wait = (info.value.retry_at.timestamp() - time.time()) + 0.05
    time.sleep(max(0.0, wait))
    assert len(scan(ingester, state)) == 2
    assert server.hits["/busy.xml"] == 2
    assert ingester.result.state["next_attempt_at"] is None
    assert ingester.result.state["backoff"] is None


def test_429_backoff_survives_in_the_source_sync_state(fd: Any, server: FeedServer) -> None:
    url = server.add("/busy.xml", Reply(503, {"Retry-After": "3600"}, b"down"))
    info = fd.sources.add("feed", url)
    report = fd.sources.sync(info.id).reports[0]
    assert report.error is not None
    assert "Next attempt after" in report.error
    report = fd.sources.sync(info.id).reports[0]
    assert "next attempt after" in (report.error or "")
    assert server.hits["/busy.xml"] == 1


# --- hostile servers -----------------------------------------------------------------------


def test_redirect_loop_is_stopped(server: FeedServer) -> None:
    server.add("/a", Reply(301, {"Location": "/b"}))
    server.add("/b", Reply(302, {"Location": "/a"}))
    with pytest.raises(SourceError, match="redirects in a loop"):
        scan(FeedIngester(server.url("/a")))
    assert server.hits["/a"] == 1
    assert server.hits["/b"] == 1


def test_endless_slow_body_is_stopped(server: FeedServer) -> None:
    url = server.add("/slow.xml", slow_body(b"<item><title>more</title></item>", every=0.05))
    started = time.monotonic()
    with pytest.raises(SourceError, match="took longer than 1 s"):
        scan(FeedIngester(url, {"deadline": 1.0, "timeout": 5}))
    assert time.monotonic() - started < 3


def test_small_gzip_expanding_past_the_cap_is_stopped(server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 20_000
    url = server.add("/bomb.xml", Reply(200, {"Content-Encoding": "gzip"}, bomb))
    with pytest.raises(SourceError, match="larger than the 1 MB limit once decompressed"):
        scan(FeedIngester(url, {"max_bytes": 1024 * 1024}))


def test_gzip_served_raw_expanding_past_the_cap_is_stopped(server: FeedServer) -> None:
    bomb = gzip.compress(b"<rss>" + b" " * (10 * 1024 * 1024))
    url = server.add("/feed.xml.gz", Reply(200, {"Content-Type": "application/gzip"}, bomb))
    with pytest.raises(SourceError, match="larger than the 1 MB limit"):
        scan(FeedIngester(url, {"max_bytes": 1024 * 1024}))


def test_redirect_to_a_private_address_is_refused(server: FeedServer) -> None:
    server.serve_feed("/internal.xml", RSS)
    server.add("/feed.xml", Reply(302, {"Location": server.url("/internal.xml")}))
    connected: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        return {"news.example.com": ["93.184.215.14"]}.get(host, ["127.0.0.1"])

    def connect(ip: str, port: int, timeout: float) -> socket.socket:
        connected.append(ip)
        assert ip == "93.184.215.14", "only the stand-in public address is ever connected to"
        return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)

    fetcher = Fetcher(FetchLimits(deadline=5), resolver=resolve, connector=connect)
    ingester = FeedIngester(f"http://news.example.com:{server.port}/feed.xml", fetcher=fetcher)
    with pytest.raises(SourceError, match="private or local network address"):
        scan(ingester)
    assert connected == ["93.184.215.14"]
    assert server.hits["/internal.xml"] == 0


def test_entity_attack_over_http_is_refused(server: FeedServer, parse_count: Counter[str]) -> None:
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel><title>&b;</title>'
        b"</channel></rss>"
    )
    url = server.add("/lol.xml", Reply(200, {"Content-Type": "application/rss+xml"}, lol))
    with pytest.raises(SourceError, match="declares XML entities"):
        scan(FeedIngester(url))
    assert parse_count["parse"] == 0


# --- the corpus: over HTTP and from disk ---------------------------------------------------


class Hung(Exception):
    """One file took longer than PER_FILE_SECONDS."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Hung

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Python's own http.server serving ``root`` (Last-Modified and 304 included)."""
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def ingest_all(uris: dict[str, str]) -> dict[str, tuple[int, int, str | None]]:
    """name -> (items, failed entries, error of the whole file or None)."""
    out: dict[str, tuple[int, int, str | None]] = {}
    crashes: list[str] = []
    for name, uri in uris.items():
        ingester = FeedIngester(uri, {"deadline": PER_FILE_SECONDS})
        started = time.monotonic()
        try:
            with deadline(PER_FILE_SECONDS):
                results = list(ingester.scan({}))
        except SourceError as exc:
            out[name] = (0, 0, exc.message)
            continue
        except Hung:
            crashes.append(f"{name}: took over {PER_FILE_SECONDS}s")
            continue
        except Exception as exc:  # the point is to report every crash
            crashes.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        assert time.monotonic() - started < PER_FILE_SECONDS
        items = [r for r in results if isinstance(r, RawItem)]
        failed = [r for r in results if isinstance(r, IngestFailure)]
        for item in items:
            assert item.kind == "feed"
            assert item.external_id
            assert item.title
            assert item.published_at is None or item.published_at.tzinfo is not None
            assert item.url is None or item.url.startswith(("http://", "https://"))
            assert "<script" not in item.meta["html"].lower()
            for text in (item.title, item.text, item.body, item.meta["html"]):
                text.encode("utf-8")
        assert len({i.external_id for i in items}) == len(items), name
        out[name] = (len(items), len(failed), None)
    assert not crashes, crashes
    return out


def print_counts(label: str, counts: dict[str, tuple[int, int, str | None]]) -> None:
    ok = [n for n, c in counts.items() if c[2] is None]
    entries = sum(c[0] for c in counts.values())
    failed_entries = sum(c[1] for c in counts.values())
    print(
        f"\nfeeds corpus ({label}): {len(counts)} files, {len(ok)} ingested, "
        f"{len(counts) - len(ok)} failed cleanly; {entries} entries, "
        f"{failed_entries} entries failed"
    )
    for name, (n, f, err) in sorted(counts.items()):
        print(f"  {name:<50} {'FAILED: ' + err if err else f'{n} entries, {f} failed'}")


def test_feed_corpus_over_http_and_from_disk(shared_data: Path) -> None:
    root = shared_data / "corpora" / "feeds"
    if not root.is_dir():
        pytest.skip(f"feed corpus not found at {root}")
    files = sorted(p for p in root.iterdir() if p.is_file() and p.name != "LICENSE")
    assert len(files) >= 29

    local = ingest_all({p.name: str(p) for p in files})
    print_counts("local files", local)
    with static_server(root) as base:
        remote = ingest_all({p.name: f"{base}/{p.name}" for p in files})
    print_counts("over loopback HTTP", remote)

    assert set(local) == set(remote) == {p.name for p in files}
    assert local["notafeed.html"][2] is not None
    assert "not a feed" in local["notafeed.html"][2]
    assert remote["notafeed.html"][2] is not None
    ok_local = {n for n, c in local.items() if c[2] is None}
    assert ok_local == {p.name for p in files} - {"notafeed.html"}
    for name in ok_local:
        assert local[name][0] > 0, name
        assert remote[name][2] is None, (name, remote[name])
        assert remote[name][0] == local[name][0], (name, local[name], remote[name])
