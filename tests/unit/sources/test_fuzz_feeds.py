"""Fuzzing the feed parsers (RSS, Atom, RDF, JSON Feed) and the OPML import (issue 16).

Properties: only ``SourceError`` ever comes out (a feed is readable or refused in words),
nothing emitted holds a lone surrogate (it must be storable), and a 1 MB document is
read in bounded time.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fuzz_inputs import (
    FUZZ,
    TIME_BOUND_S,
    encoded,
    has_lone_surrogate,
    special_text,
    timed,
    truncated,
)
from hypothesis import given
from hypothesis import strategies as st

from focusdesk.errors import SourceError
from focusdesk.sources.feed_items import ParsedFeed
from focusdesk.sources.feeds import parse_feed
from focusdesk.sources.opml import OpmlDocument, parse_opml


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


# A field is written raw (markup and entities as they come) or escaped.
field_text = st.one_of(special_text, special_text.map(_escape))

_RSS_ITEM = (
    "<item><title>{0}</title><guid>{1}</guid><author>{2}</author>"
    "<description>{3}</description><link>{4}</link><pubDate>{2}</pubDate></item>"
)
_ATOM_ENTRY = (
    "<entry><title type='html'>{0}</title><id>{1}</id><author><name>{2}</name></author>"
    "<content type='html'>{3}</content><link href='{4}'/><updated>{2}</updated></entry>"
)
_RDF_ITEM = (
    "<item rdf:about='{4}'><title>{0}</title><link>{4}</link><description>{3}</description></item>"
)

_SKELETONS = {
    "rss": (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>"
        "<link>https://example.org/</link>{entries}</channel></rss>",
        _RSS_ITEM,
    ),
    "atom": (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        "<title>{title}</title>{entries}</feed>",
        _ATOM_ENTRY,
    ),
    "rdf": (
        "<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'"
        " xmlns='http://purl.org/rss/1.0/'><channel rdf:about='https://example.org/'>"
        "<title>{title}</title></channel>{entries}</rdf:RDF>",
        _RDF_ITEM,
    ),
}


@st.composite
def xml_feeds(draw: st.DrawFn) -> bytes:
    skeleton, entry = _SKELETONS[draw(st.sampled_from(sorted(_SKELETONS)))]
    entries = "".join(
        entry.format(*(draw(field_text) for _ in range(5))) for _ in range(draw(st.integers(0, 4)))
    )
    nesting = draw(st.integers(0, 3)) * 400
    if nesting:  # deep nesting inside the content of an extra entry
        entries += entry.format("deep", "deep", "", "&lt;div&gt;" * nesting, "")
    doc = skeleton.format(title=draw(field_text), entries=entries)
    line_end = draw(st.sampled_from(["", "\n", "\r\n", "\r"]))
    doc = doc.replace("><", ">" + line_end + "<")
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\x00", b"  \n"]))
    return prefix + encoded(doc)


def check_feed(data: bytes) -> ParsedFeed | None:
    try:
        parsed = parse_feed(data, source="fuzz.xml")
    except SourceError as exc:
        message = exc.message
        parsed = None
    if parsed is None:
        assert not has_lone_surrogate(message)
        return None
    assert not has_lone_surrogate(parsed)
    for item in parsed.items:
        item_fields: list[Any] = list(vars(item).values())
        assert not has_lone_surrogate(item_fields)
        for value in item_fields:
            if isinstance(value, str):
                value.encode("utf-8")  # storable
    return parsed


@FUZZ
@given(truncated(xml_feeds()))
def test_xml_feeds_parse_or_are_refused_in_words(data: bytes) -> None:
    check_feed(data)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), special_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(special_text, inner, max_size=4)
    ),
    max_leaves=20,
)
_JSON_KEYS = ["id", "title", "url", "content_html", "content_text", "summary", "date_published"]


@st.composite
def json_feeds(draw: st.DrawFn) -> bytes:
    items = [
        {
            **{k: draw(st.one_of(special_text, json_values)) for k in _JSON_KEYS},
            "authors": [{"name": draw(special_text)}],
            "tags": draw(st.lists(special_text, max_size=3)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    doc: Any = {
        "version": draw(st.sampled_from(["https://jsonfeed.org/version/1.1", "x"])),
        "title": draw(special_text),
        "home_page_url": draw(special_text),
        "items": draw(st.one_of(st.just(items), json_values)),
    }
    depth = draw(st.integers(0, 2)) * 3000
    text = json.dumps(doc)  # ensure_ascii: lone surrogates become "\ud800" escapes
    if depth:
        text = text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    return text.encode("utf-8")


@FUZZ
@given(truncated(json_feeds()))
def test_json_feeds_parse_or_are_refused_in_words(data: bytes) -> None:
    check_feed(data)


@st.composite
def opml_files(draw: st.DrawFn) -> bytes:
    outlines = "".join(
        f"<outline text='{draw(field_text)}' xmlUrl='{draw(field_text)}' "
        f"htmlUrl='{draw(field_text)}'/>"
        for _ in range(draw(st.integers(0, 4)))
    )
    depth = draw(st.integers(0, 2)) * 2000
    nested = "<outline text='f'>" * depth + outlines + "</outline>" * depth
    doc = (
        f"<?xml version='1.0'?><opml version='2.0'><head><title>{draw(field_text)}</title>"
        f"</head><body>{nested}</body></opml>"
    )
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + encoded(doc)


@FUZZ
@given(truncated(opml_files()))
def test_opml_parses_or_is_refused_in_words(data: bytes) -> None:
    try:
        doc = parse_opml(data)
    except SourceError:
        return
    assert isinstance(doc, OpmlDocument)
    assert not has_lone_surrogate(doc)


_ITEM = (
    "<item><title>Entry {n} &eacute; &#xD800;</title><guid>g{n}</guid>"
    "<description>&lt;p&gt;{body}&lt;/p&gt;</description></item>"
)
WORST_FEEDS = {
    "a 1 MB line in one entry": (
        "<rss version='2.0'><channel><title>t</title>"
        + _ITEM.format(n=1, body="word " * 200_000)
        + "</channel></rss>"
    ).encode(),
    "2,000 entries": (
        "<rss version='2.0'><channel><title>t</title>"
        + "".join(_ITEM.format(n=n, body="text " * 80) for n in range(2_000))
        + "</channel></rss>"
    ).encode(),
    "deep nesting in content": (
        "<rss version='2.0'><channel><title>t</title>"
        + _ITEM.format(n=1, body="&lt;div&gt;" * 80_000)
        + "</channel></rss>"
    ).encode(),
    "1 MB of a JSON string with surrogates": json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [{"id": "1", "content_text": "a\ud800 " * 120_000}],
        }
    ).encode(),
    "a truncated 1 MB feed": (
        "<rss version='2.0'><channel><title>t</title>"
        + "".join(_ITEM.format(n=n, body="text " * 80) for n in range(2_000))
    ).encode()[:1_000_000],
}


@pytest.mark.parametrize("name", sorted(WORST_FEEDS))
def test_worst_case_feeds_are_read_in_bounded_time(name: str) -> None:
    data = WORST_FEEDS[name]
    assert len(data) <= 1_100_000
    result, seconds = timed(lambda: check_feed(data))
    if isinstance(result, BaseException):
        raise result
    assert seconds < TIME_BOUND_S, f"{name}: {seconds:.1f} s"
