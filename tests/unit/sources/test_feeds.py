from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import focusdesk.sources.feed_xml as feed_xml
from focusdesk.errors import SourceError
from focusdesk.sources.base import Ingester, IngestFailure, RawItem
from focusdesk.sources.feeds import (
    FeedIngester,
    FeedRetryLater,
    UnsafeFeedError,
    check_feed_uri,
    discover_feed_links,
    feed_source_spec,
    next_backoff,
    parse_feed,
    probe_feed,
)
from focusdesk.sources.fetch import FetchResult, RetryLater

RSS2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Ann &amp; Bob's blog</title>
    <link>https://blog.example/</link>
    <description>d</description>
    <item>
      <title>Full &lt;em&gt;content&lt;/em&gt; wins</title>
      <link>/posts/1</link>
      <guid isPermaLink="false">post-1</guid>
      <pubDate>Mon, 02 Jun 2025 09:30:00 +0200</pubDate>
      <dc:creator>Ann</dc:creator>
      <description>Short summary only.</description>
      <content:encoded><![CDATA[<p>The <b>full</b> text with a <a href="/about">link</a>
        and <img src="img/a.png" alt="a chart"> and <script>alert(1)</script></p>
        <img src="https://pixel.wp.com/g.gif" width="1" height="1">]]></content:encoded>
      <category>python</category>
    </item>
    <item>
      <title>No guid, a link</title>
      <link>https://blog.example/posts/2</link>
      <description>&lt;p&gt;Second &amp;amp; last&lt;/p&gt;</description>
    </item>
    <item>
      <title>Neither guid nor link</title>
      <pubDate>Tue, 03 Jun 2025 10:00:00 GMT</pubDate>
      <description>Third.</description>
    </item>
  </channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/blog/">
  <title type="html">Atom &lt;i&gt;feed&lt;/i&gt;</title>
  <link href="https://atom.example/blog/"/>
  <link rel="self" href="https://atom.example/blog/feed.atom"/>
  <id>urn:uuid:feed</id>
  <updated>2025-06-02T10:00:00Z</updated>
  <entry>
    <id>tag:atom.example,2025:1</id>
    <title>First</title>
    <link rel="alternate" href="2025/first"/>
    <author><name>Cleo</name></author>
    <published>2025-06-01T08:00:00-05:00</published>
    <updated>2025-06-02T08:00:00Z</updated>
    <summary>A summary.</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Body with
      <a href="other">a relative link</a>.</p></div></content>
  </entry>
  <entry xml:base="https://elsewhere.example/x/">
    <id>tag:atom.example,2025:2</id>
    <title type="text">Second</title>
    <link href="page"/>
    <updated>2025-06-02T09:00:00Z</updated>
    <content type="text">Plain text
content.</content>
  </entry>
</feed>
"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example/">
    <title>RDF site</title><link>https://rdf.example/</link><description>d</description>
  </channel>
  <item rdf:about="https://rdf.example/1">
    <title>RDF item</title><link>https://rdf.example/1</link>
    <description>RDF body</description><dc:date>2025-06-02T10:00:00+00:00</dc:date>
  </item>
</rdf:RDF>
"""

RSS091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old \xe9cole</title><link>http://old.example/</link>
<description>d</description><language>fr</language>
<item><title>Caf\xe9</title><link>http://old.example/cafe</link><description>Cr\xe8me</description></item>
</channel></rss>
"""

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "JSON blog",
    "home_page_url": "https://json.example/",
    "feed_url": "https://json.example/feed.json",
    "authors": [{"name": "Dee"}],
    "items": [
        {
            "id": "1",
            "url": "/posts/1",
            "title": "JSON one",
            "content_html": '<p>Hello <a href="x">there</a><script>bad()</script></p>',
            "summary": "sum",
            "date_published": "2025-06-02T10:00:00+02:00",
            "tags": ["a", "b"],
        },
        {"id": 2, "content_text": "Numeric id, text only\n\nsecond para"},
        "not an object",
        {"url": "https://json.example/posts/3", "content_text": "no id"},
    ],
}


def items(parsed: Any) -> list[RawItem]:
    return [i for i in parsed.items if isinstance(i, RawItem)]


def test_rss2_entries() -> None:
    parsed = parse_feed(RSS2, url="https://blog.example/feed.xml")
    assert parsed.title == "Ann & Bob's blog"
    assert parsed.link == "https://blog.example/"
    assert parsed.version == "rss20"
    a, b, c = items(parsed)
    assert a.kind == "feed"
    assert a.external_id == "post-1"
    assert a.title == "Full content wins"
    assert a.author == "Ann"
    assert a.url == "https://blog.example/posts/1"
    assert a.published_at == datetime(2025, 6, 2, 7, 30, tzinfo=UTC)
    assert a.published_at.tzinfo is not None
    # Full content preferred over the summary; text for ranking, sanitised HTML to show.
    assert "full text with a link" in a.text
    assert "Short summary" not in a.text
    assert a.body == a.text
    assert "alert" not in a.text
    html = a.meta["html"]
    assert "<script" not in html
    assert 'href="https://blog.example/about"' in html
    assert 'data-remote-src="https://blog.example/img/a.png"' in html
    assert "pixel.wp.com" not in html
    assert a.meta["has_remote_content"] is True
    assert a.meta["tags"] == ["python"]
    assert b.external_id == "https://blog.example/posts/2"
    assert b.text == "Second & last"
    assert c.external_id.startswith("sha256:")
    assert c.url is None
    assert c.published_at == datetime(2025, 6, 3, 10, 0, tzinfo=UTC)


def test_entry_ids_are_stable_across_fetches() -> None:
    first = [i.external_id for i in items(parse_feed(RSS2, url="https://blog.example/f"))]
    changed = RSS2.replace(b"Third.", b"Third, edited.").replace(b"<b>full</b>", b"new")
    second = [i.external_id for i in items(parse_feed(changed, url="https://blog.example/f"))]
    assert first == second


def test_atom_with_xml_base() -> None:
    parsed = parse_feed(ATOM)
    assert parsed.title == "Atom feed"
    assert parsed.version == "atom10"
    first, second = items(parsed)
    assert first.external_id == "tag:atom.example,2025:1"
    assert first.url == "https://atom.example/blog/2025/first"
    assert first.author == "Cleo"
    assert first.published_at == datetime(2025, 6, 1, 13, 0, tzinfo=UTC)
    assert "Body with a relative link." in first.text
    assert 'href="https://atom.example/blog/other"' in first.meta["html"]
    # An entry's own xml:base wins; plain text content is kept as paragraphs.
    assert second.url == "https://elsewhere.example/x/page"
    assert second.text == "Plain text\ncontent."
    assert second.published_at == datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def test_rdf_rss1() -> None:
    parsed = parse_feed(RDF)
    assert parsed.version == "rss10"
    (item,) = items(parsed)
    assert (item.title, item.text, item.url) == ("RDF item", "RDF body", "https://rdf.example/1")
    assert item.published_at == datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def test_rss091_with_netscape_doctype_and_latin1() -> None:
    parsed = parse_feed(RSS091)
    assert parsed.version.startswith("rss09")
    (item,) = items(parsed)
    assert item.title == "Café"
    assert item.text == "Crème"
    assert parsed.title == "Old école"


FEED_DATA = Path(__file__).resolve().parents[2] / "data" / "feeds"


@pytest.mark.parametrize(
    ("name", "title", "entry"),
    [
        ("undeclared-koi8r.rss", "Новости дня", "Первая новость недели"),
        ("undeclared-gb2312.rss", "新闻", "关于下周的会议安排"),
    ],
)
@pytest.mark.parametrize("content_type", [None, "text/xml", "application/rss+xml"])
def test_feed_without_a_declared_encoding_is_detected(
    name: str, title: str, entry: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else None
    parsed = parse_feed((FEED_DATA / name).read_bytes(), headers=headers)
    (item,) = items(parsed)
    assert (parsed.title, item.title) == (title, entry)


def test_json_feed_1_1() -> None:
    parsed = parse_feed(json.dumps(JSON_FEED).encode(), url="https://json.example/feed.json")
    assert parsed.version == "json1.1"
    assert parsed.title == "JSON blog"
    results = parsed.items
    assert isinstance(results[2], IngestFailure)  # the non-object item: counted, skipped
    one, two, three = items(parsed)
    assert one.external_id == "1"
    assert one.url == "https://json.example/posts/1"
    assert one.text == "Hello there"
    assert "bad()" not in one.meta["html"]
    assert one.author == "Dee"
    assert one.published_at == datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    assert one.meta["tags"] == ["a", "b"]
    assert two.external_id == "2"
    assert two.text == "Numeric id, text only\n\nsecond para"
    assert two.title == "Numeric id, text only"
    assert three.external_id == "https://json.example/posts/3"


def test_json_feed_version_1_and_non_feed_json() -> None:
    v1 = {"version": "https://jsonfeed.org/version/1", "title": "t", "items": []}
    assert parse_feed(json.dumps(v1).encode()).version == "json1"
    with pytest.raises(SourceError, match="not a feed"):
        parse_feed(b'{"hello": "world"}')
    with pytest.raises(SourceError, match="could not be read"):
        parse_feed(b'{"version": ')


def test_html_page_is_not_a_feed_and_its_feed_link_is_suggested() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Blog</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head>'
        b"<body><p>Hello</p></body></html>"
    )
    with pytest.raises(SourceError, match="is not a feed") as info:
        parse_feed(page, url="https://blog.example/")
    assert info.value.hint is not None
    assert "https://blog.example/feed.xml" in info.value.hint
    assert discover_feed_links(page, "https://blog.example/") == ["https://blog.example/feed.xml"]


@pytest.mark.parametrize("data", [b"", b"   ", b"plain text, not xml", b"<foo><bar/></foo>"])
def test_other_non_feeds(data: bytes) -> None:
    with pytest.raises(SourceError, match="not a feed|empty"):
        parse_feed(data)


def test_malformed_feed_with_recoverable_entries_is_ingested() -> None:
    broken = RSS2.replace(b"<title>Neither", b"<title>Neither & broken <<")
    parsed = parse_feed(broken)
    assert parsed.warning
    assert len(items(parsed)) >= 2


def test_malformed_feed_with_nothing_recoverable_is_an_error() -> None:
    with pytest.raises(SourceError):
        parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</ti')


def test_one_bad_entry_never_aborts(monkeypatch: pytest.MonkeyPatch) -> None:
    real = feed_xml.make_item

    def flaky(**kw: Any) -> RawItem:
        if kw["title"] == "No guid, a link":
            raise RuntimeError("boom")
        return real(**kw)

    monkeypatch.setattr(feed_xml, "make_item", flaky)
    parsed = parse_feed(RSS2, source="feed.xml")
    kinds = [type(i).__name__ for i in parsed.items]
    assert kinds == ["RawItem", "IngestFailure", "RawItem"]
    failure = parsed.items[1]
    assert isinstance(failure, IngestFailure)
    assert failure.ref == "feed.xml#entry 2"


def test_duplicate_ids_keep_distinct_entries_with_stable_ids() -> None:
    dup = RSS2.replace(
        b"<title>No guid, a link</title>",
        b'<title>Other</title><guid isPermaLink="false">post-1</guid>',
    )
    ids = [i.external_id for i in items(parse_feed(dup))]
    assert ids[0] == "post-1"
    assert ids[1].startswith("post-1#")
    assert len(set(ids)) == 3
    again = [i.external_id for i in items(parse_feed(dup))]
    assert ids == again


# --- XML attacks: refused before any parser runs ------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><description>&lol9;</description></item></channel></rss>
"""


def xxe(target: Path) -> bytes:
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n  <!ENTITY xxe SYSTEM "'
        + target.as_uri().encode()
        + b'">\n]>\n<rss version="2.0"><channel><title>x</title>'
        b"<item><title>&xxe;</title><description>&xxe;</description></item></channel></rss>"
    )


@pytest.fixture
def parser_spy(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    import feedparser

    calls: list[object] = []
    real = feedparser.parse

    def spy(*args: Any, **kw: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kw)

    monkeypatch.setattr(feedparser, "parse", spy)
    return calls


def test_billion_laughs_is_refused_unparsed(parser_spy: list[object]) -> None:
    with pytest.raises(UnsafeFeedError, match="declares XML entities"):
        parse_feed(BILLION_LAUGHS)
    assert parser_spy == []


def test_external_entity_is_refused_and_nothing_is_read(
    tmp_path: Path, parser_spy: list[object]
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    with pytest.raises(UnsafeFeedError) as info:
        parse_feed(xxe(secret))
    assert "TOP-SECRET-MARKER" not in info.value.user_text()
    assert parser_spy == []


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_entities_hidden_in_other_encodings_are_refused(
    codec: str, parser_spy: list[object]
) -> None:
    doc = BILLION_LAUGHS.decode().replace('version="1.0"', f'version="1.0" encoding="{codec}"')
    data = doc.encode(codec)
    with pytest.raises(UnsafeFeedError):
        parse_feed(data)
    assert parser_spy == []


def test_parameter_entities_and_local_dtds_are_refused(parser_spy: list[object]) -> None:
    param = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
        b'<rss version="2.0"><channel><title>x</title></channel></rss>'
    )
    local_dtd = (
        b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file:///etc/passwd">'
        b'<rss version="2.0"><channel><title>x</title></channel></rss>'
    )
    for data in (param, local_dtd):
        with pytest.raises(UnsafeFeedError):
            parse_feed(data)
    assert parser_spy == []


def test_parser_gets_a_stream_never_a_path_or_url(parser_spy: list[object]) -> None:
    with pytest.raises(SourceError):
        parse_feed(b"/etc/passwd")
    with pytest.raises(SourceError):
        parse_feed(b"http://127.0.0.1:9/feed")
    assert all(hasattr(arg, "read") for arg in parser_spy)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(str.encode))
def test_any_bytes_give_items_or_a_source_error(data: bytes) -> None:
    try:
        parsed = parse_feed(data)
    except SourceError:
        return
    for item in parsed.items:
        assert isinstance(item, RawItem | IngestFailure)


# --- local files and the ingester ---------------------------------------------------------


def test_local_file_and_gzipped_local_file(tmp_path: Path) -> None:
    plain = tmp_path / "feed.xml"
    plain.write_bytes(RSS2)
    zipped = tmp_path / "feed.xml.gz"
    zipped.write_bytes(gzip.compress(RSS2))
    for path in (plain, zipped):
        ingester = FeedIngester(str(path))
        as_protocol: Ingester = ingester
        assert as_protocol.kind == "feed"
        results = list(ingester.scan({}))
        assert len(results) == 3
        assert ingester.result.complete is False
        assert ingester.result.state["feed_title"] == "Ann & Bob's blog"


def test_unchanged_local_file_is_not_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS2)
    ingester = FeedIngester(str(path))
    list(ingester.scan({}))
    state = ingester.result.state
    assert list(ingester.scan(state)) == []
    assert ingester.result.unchanged is True
    assert ingester.parses == 1


def test_local_file_over_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.xml.gz"
    path.write_bytes(gzip.compress(b"<rss>" + b" " * 3_000_000 + b"</rss>"))
    with pytest.raises(SourceError, match="larger than"):
        list(FeedIngester(str(path), {"max_bytes": 1_000_000}).scan({}))


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "feed.xml"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="not a regular file"):
        list(FeedIngester(str(fifo)).scan({}))


def test_deeply_nested_json_is_a_clean_error() -> None:
    with pytest.raises(SourceError, match="could not be read"):
        parse_feed(b"[" * 100_000 + b"]" * 100_000)


def test_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        list(FeedIngester(str(tmp_path / "nope.xml")).scan({}))


class StubFetcher:
    """Answers ``get`` from a list of results or exceptions; records the calls."""

    def __init__(self, *answers: FetchResult | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def get(self, url: str, **kw: Any) -> FetchResult:
        self.calls.append({"url": url, **kw})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(body: bytes, etag: str | None = '"v1"') -> FetchResult:
    return FetchResult(200, "https://blog.example/feed.xml", {}, body, etag, "Mon, 02 Jun 2025")


def busy(retry_after: float | None) -> RetryLater:
    return RetryLater("blog.example is failing (HTTP 503).", status=503, retry_after=retry_after)


def test_ingester_backoff_state_machine() -> None:
    now = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
    clock = [now]
    stub = StubFetcher(
        ok(RSS2),
        busy(None),
        busy(None),
        busy(30),
        FetchResult(304, "https://blog.example/feed.xml", {}, b"", None, None, not_modified=True),
        FetchResult(304, "https://blog.example/feed.xml", {}, b"", None, None, not_modified=True),
    )
    ing = FeedIngester("https://blog.example/feed.xml", fetcher=stub, clock=lambda: clock[0])  # type: ignore[arg-type]
    assert len(list(ing.scan({}))) == 3
    state = ing.result.state
    assert state["etag"] == '"v1"'
    assert state["next_attempt_at"] is None

    # 503 without Retry-After: exponential backoff from one minute, state says "not before T".
    with pytest.raises(FeedRetryLater, match="Next attempt after") as info:
        list(ing.scan(state))
    state = info.value.sync_state
    assert state["backoff"] == 60
    assert state["next_attempt_at"] == (now + timedelta(seconds=60)).isoformat()
    assert state["etag"] == '"v1"'  # validators survive

    # Before T: the server is not contacted at all.
    calls = len(stub.calls)
    clock[0] = now + timedelta(seconds=30)
    with pytest.raises(FeedRetryLater, match="next attempt after"):
        list(ing.scan(state))
    assert len(stub.calls) == calls

    # After T it tries again; failing again doubles the backoff.
    clock[0] = now + timedelta(seconds=61)
    with pytest.raises(FeedRetryLater) as info:
        list(ing.scan(state))
    state = info.value.sync_state
    assert state["backoff"] == 120
    assert stub.calls[-1]["etag"] == '"v1"'

    # Retry-After wins over the backoff for the delay.
    clock[0] = now + timedelta(seconds=200)
    with pytest.raises(FeedRetryLater) as info:
        list(ing.scan(state))
    state = info.value.sync_state
    assert _dt(state["next_attempt_at"]) == clock[0] + timedelta(seconds=30)
    assert state["backoff"] == 240

    # Success (a 304) clears the backoff: the state changes, nothing is parsed.
    clock[0] = now + timedelta(seconds=300)
    assert list(ing.scan(state)) == []
    assert ing.result.unchanged is False
    assert ing.result.state["backoff"] is None
    assert ing.result.state["next_attempt_at"] is None
    assert ing.parses == 1
    # A plain 304 afterwards is simply "unchanged".
    assert list(ing.scan(ing.result.state)) == []
    assert ing.result.unchanged is True


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_backoff_is_capped() -> None:
    assert next_backoff(None) == 60
    assert next_backoff(60) == 120
    assert next_backoff(10**9) == 6 * 3600


def test_check_feed_uri(tmp_path: Path) -> None:
    assert check_feed_uri(" HTTPS://WWW.Example.COM:443/feed?x=1#frag ") == (
        "https://www.example.com/feed?x=1",
        "example.com",
    )
    assert check_feed_uri("feed://example.com/rss")[0] == "http://example.com/rss"
    assert check_feed_uri("feed:https://example.com/rss")[0] == "https://example.com/rss"
    assert check_feed_uri("http://example.com")[0] == "http://example.com/"
    path = tmp_path / "my.xml"
    path.write_bytes(RSS2)
    assert check_feed_uri(str(path)) == (str(path.resolve()), "my")
    assert check_feed_uri(path.as_uri()) == (str(path.resolve()), "my")
    for bad, message in [
        ("ftp://example.com/f", "http or https"),
        ("javascript:alert(1)", "http or https"),
        (str(tmp_path / "missing.xml"), "does not exist"),
        (str(tmp_path), "does not exist or is not a file"),
        ("http:///nohost", "names no host"),
        ("", "needs a URL"),
    ]:
        with pytest.raises(SourceError, match=message):
            check_feed_uri(bad)


def test_feed_source_spec() -> None:
    spec = feed_source_spec("https://e.example/f", name=" ", group="/Tech//Python/")
    assert spec.uri == "https://e.example/f"
    assert spec.name == "e.example"
    assert spec.config == {"group": "Tech/Python"}
    assert feed_source_spec("https://e.example/f", name="Mine").name == "Mine"


def test_probe_local_file(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(JSON_FEED))
    info = probe_feed(str(path))
    assert info.title == "JSON blog"
    assert info.entries == 3
    assert info.html_url == "https://json.example/"


def test_registry_knows_feeds(tmp_path: Path) -> None:
    from focusdesk.sources.registry import check_new_source, make_ingester

    path = tmp_path / "f.xml"
    path.write_bytes(RSS2)
    assert check_new_source("feed", str(path)) == (str(path.resolve()), "f")
    ingester = make_ingester("feed", "https://e.example/f", {"timeout": 5, "deadline": 9})
    assert isinstance(ingester, FeedIngester)
    assert ingester.fetcher.limits.read_timeout == 5
    assert ingester.fetcher.limits.deadline == 9


def _rss_with_guids(channel_link: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>'
        f"<link>{channel_link}</link>"
        "<item><title>One</title><link>/one</link><guid>12345</guid></item>"
        '<item><title>Two</title><guid isPermaLink="false">tag:blog,2026:2</guid></item>'
        "<item><title>Three</title><guid>https://blog.example/3</guid></item>"
        "</channel></rss>"
    ).encode()


def test_entry_ids_do_not_move_when_the_feed_link_does() -> None:
    url = "https://blog.example/feed.xml"
    before = parse_feed(_rss_with_guids("http://blog.example/"), url=url, headers={})
    after = parse_feed(_rss_with_guids("https://www.blog.example/"), url=url, headers={})
    ids = [i.external_id for i in before.items if isinstance(i, RawItem)]
    assert ids == [i.external_id for i in after.items if isinstance(i, RawItem)]
    links = [i.url for i in after.items if isinstance(i, RawItem)]
    assert links[0] == "https://www.blog.example/one"  # links are still resolved


# --- crafted third-party shapes (issue 16) --------------------------------------------

CRAFTED = Path(__file__).parents[2] / "data" / "feeds"


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_lone_surrogate(v) for v in value)
    return False


@pytest.mark.parametrize("name", ["surrogate-charrefs.rss", "surrogate.json"])
def test_lone_surrogates_become_replacement_characters(name: str) -> None:
    parsed = parse_feed((CRAFTED / name).read_bytes(), source=name)
    got = items(parsed)
    assert [i.title for i in got] == ["Bad \ufffd title", "Good sibling"]
    assert all(isinstance(i, RawItem) for i in parsed.items)  # the bad entry is not lost
    assert "\ufffd" in got[0].external_id
    assert got[0].author is not None
    assert "\ufffd" in got[0].author
    assert "\ufffd" in parsed.title
    for item in got:
        fields = [item.external_id, item.title, item.text, item.body, item.author, item.meta]
        assert not _has_lone_surrogate(fields)
        item.title.encode("utf-8")  # storable


@pytest.mark.parametrize(
    "name", ["empty-channel.rss", "html-entity-title-empty.atom", "unbound-prefix-empty.rss"]
)
def test_a_feed_with_no_entries_yet_is_accepted(name: str) -> None:
    parsed = parse_feed((CRAFTED / name).read_bytes(), source=name)
    assert parsed.items == []
    assert parsed.title
    assert parsed.title != name
    info = probe_feed(str(CRAFTED / name))  # what `sources add feed` does first
    assert info.entries == 0
    assert info.title == parsed.title


def test_an_undefined_html_entity_in_an_empty_feed_title_is_read() -> None:
    parsed = parse_feed((CRAFTED / "html-entity-title-empty.atom").read_bytes())
    assert parsed.title == "Café – news soon"


@pytest.mark.parametrize(
    "data",
    [
        b'<rss version="2.0"><channel><title>x</ti',
        b'<rss version="2.0"><channel><title>x &bogus; y</title></channel></rss>',
    ],
)
def test_an_empty_feed_that_is_really_broken_is_still_refused(data: bytes) -> None:
    with pytest.raises(SourceError, match="malformed"):
        parse_feed(data)


FUTURE_RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>a</guid><title>Dated in 2029</title><pubDate>Mon, 05 Mar 2029 10:00:00 GMT</pubDate>
<description>x</description></item></channel></rss>"""
FUTURE_JSON = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "T",
        "items": [{"id": "a", "title": "Dated in 2029", "date_published": "2029-03-05T10:00:00Z"}],
    }
).encode()


@pytest.mark.parametrize("data", [FUTURE_RSS, FUTURE_JSON], ids=["xml", "json"])
def test_a_date_is_believed_up_to_a_year_after_the_readers_clock(
    tmp_path: Path, data: bytes
) -> None:
    """ "At most a year ahead" is judged by the clock the ingester is given, not the wall
    clock: the same entry keeps its date in 2028 and loses it in 2026."""
    path = tmp_path / ("feed.json" if data.startswith(b"{") else "feed.xml")
    path.write_bytes(data)
    when = datetime(2029, 3, 5, 10, 0, tzinfo=UTC)
    for now, expected in (
        (datetime(2028, 6, 1, tzinfo=UTC), when),
        (datetime(2026, 6, 1, tzinfo=UTC), None),
    ):
        (item,) = list(FeedIngester(str(path), clock=lambda now=now: now).scan({}))
        assert isinstance(item, RawItem)
        assert item.published_at == expected
