from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from focusdesk.errors import SourceError
from focusdesk.sources.opml import (
    OpmlFeed,
    export_feeds,
    join_group,
    parse_opml,
    read_opml,
    split_group,
    write_opml,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Shaped like real exports: Feedly/Inoreader (type, text+title, xmlUrl, htmlUrl), with
# nested folders, a folder holding nothing, non-feed outlines, odd attribute case.
REALISTIC_OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head>
    <title>Ann's subscriptions in feedly Cloud</title>
    <dateCreated>Mon, 02 Jun 2025 09:00:00 GMT</dateCreated>
  </head>
  <body>
    <outline text="Tech &amp; Science" title="Tech &amp; Science">
      <outline type="rss" text="Ars Technica" title="Ars Technica"
               xmlUrl="https://feeds.arstechnica.com/arstechnica/index"
               htmlUrl="https://arstechnica.com"/>
      <outline text="Python" title="Python">
        <outline type="rss" text="Planet Python" title="Planet Python"
                 xmlUrl="https://planetpython.org/rss20.xml" htmlUrl="https://planetpython.org/"/>
        <outline type="rss" text="Łukasz &amp; friends — café ☕"
                 xmlUrl="https://lukasz.example/feed.atom?x=1&amp;y=2"/>
      </outline>
    </outline>
    <outline text="News">
      <outline type="rss" text="Le Monde" xmlurl="https://www.lemonde.fr/rss/une.xml"/>
      <outline text="Empty folder"/>
    </outline>
    <outline type="link" text="Just a bookmark" url="https://example.com/"/>
    <outline type="rss" title="Top level, title only" xmlUrl="https://top.example/rss"/>
    <outline text="AC/DC fans">
      <outline type="rss" text="Riffs" xmlUrl="https://riffs.example/feed"/>
    </outline>
  </body>
</opml>
"""


def test_parse_realistic_opml_with_nested_folders() -> None:
    doc = parse_opml(REALISTIC_OPML.encode())
    assert doc.title == "Ann's subscriptions in feedly Cloud"
    by_title = {f.title: f for f in doc.feeds}
    assert list(by_title) == [
        "Ars Technica",
        "Planet Python",
        "Łukasz & friends — café ☕",
        "Le Monde",
        "Top level, title only",
        "Riffs",
    ]
    assert by_title["Ars Technica"].group == "Tech & Science"
    assert by_title["Ars Technica"].html_url == "https://arstechnica.com"
    assert by_title["Planet Python"].group == "Tech & Science/Python"
    assert (
        by_title["Łukasz & friends — café ☕"].xml_url == "https://lukasz.example/feed.atom?x=1&y=2"
    )
    assert by_title["Le Monde"].xml_url == "https://www.lemonde.fr/rss/une.xml"
    assert by_title["Le Monde"].group == "News"
    assert by_title["Top level, title only"].group is None
    assert by_title["Riffs"].group == "AC\\/DC fans"
    assert split_group(by_title["Riffs"].group) == ["AC/DC fans"]


def test_round_trip_export_then_import_gives_the_same_feeds() -> None:
    doc = parse_opml(REALISTIC_OPML.encode())
    written = write_opml(doc.feeds, title="FocusDesk feeds", now=NOW)
    again = parse_opml(written)
    assert again.feeds == doc.feeds
    assert again.title == "FocusDesk feeds"
    # And once more: the output is stable.
    assert write_opml(again.feeds, now=NOW).split(b"<body>")[1] == written.split(b"<body>")[1]
    assert b"<dateCreated>Mon, 02 Mar 2026 09:00:00 GMT</dateCreated>" in written


def test_export_nests_folders_and_escapes_everything() -> None:
    feeds = [
        OpmlFeed("A & B <tags>", "https://a.example/f?x=1&y=2", "https://a.example/", "X/Y"),
        OpmlFeed("Ünïcödé ✓", "https://u.example/feed", None, "X"),
        OpmlFeed("Top", "https://t.example/feed"),
    ]
    data = write_opml(feeds, now=NOW)
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(data)
    body = root.find("body")
    assert body is not None
    x = body.find("outline[@text='X']")
    assert x is not None
    y = x.find("outline[@text='Y']")
    assert y is not None
    feed = y.find("outline")
    assert feed is not None
    assert feed.get("xmlUrl") == "https://a.example/f?x=1&y=2"
    assert feed.get("title") == "A & B <tags>"
    assert feed.get("type") == "rss"
    assert x.find("outline[@text='Ünïcödé ✓']") is not None
    assert body.find("outline[@text='Top']") is not None


def test_group_paths_round_trip() -> None:
    for parts in (["a"], ["a", "b"], ["AC/DC", "x\\y"], ["  spaced  ", "z"]):
        assert split_group(join_group(parts)) == [p.strip() for p in parts]
    assert join_group([]) is None
    assert split_group("Tech/Python") == ["Tech", "Python"]
    assert split_group(None) == []


def test_local_file_feeds_export_as_file_urls(tmp_path: Path) -> None:
    feed = tmp_path / "my feed.xml"
    feeds = export_feeds(
        [
            ("Web", "https://w.example/rss", {"group": "G", "html_url": "https://w.example/"}),
            ("Local", str(feed), {}),
        ]
    )
    assert feeds[0] == OpmlFeed("Web", "https://w.example/rss", "https://w.example/", "G")
    assert feeds[1].xml_url == feed.as_uri()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>hi</body></html>", "not OPML"),
        (b"<opml><body><outline", "malformed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<opml><body><outline text='&b;' xmlUrl='https://x/'/></body></opml>",
            "forbidden XML",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<opml><body><outline text='&x;' xmlUrl='https://x/'/></body></opml>",
            "forbidden XML",
        ),
    ],
)
def test_bad_opml_is_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_opml(data)


def test_deeply_nested_outlines_do_not_overflow() -> None:
    depth = 3000
    data = (
        "<opml version='2.0'><body>"
        + "<outline text='f'>" * depth
        + "<outline type='rss' text='deep' xmlUrl='https://deep.example/'/>"
        + "</outline>" * depth
        + "</body></opml>"
    ).encode()
    try:
        doc = parse_opml(data)
    except SourceError:
        return  # refusing it cleanly is fine too
    assert doc.feeds[0].title == "deep"


def test_read_opml_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        read_opml(tmp_path / "nope.opml")


# --- through the app: `feeds import-opml` / `export-opml` ---------------------------


def test_app_import_adds_new_feeds_with_groups_and_skips_known_ones(
    fd: Any, tmp_path: Path
) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(REALISTIC_OPML, encoding="utf-8")
    first = fd.sources.import_opml(opml)
    assert len(first.added) == 6
    assert first.skipped == []
    second = fd.sources.import_opml(opml)
    assert second.added == []
    assert len(second.skipped) == 6
    assert all("already added" in reason for _, reason in second.skipped)
    from sqlalchemy import select

    from focusdesk.store.models import Source

    with fd.store.session() as s:
        groups = {src.name: src.config.get("group") for src in s.scalars(select(Source))}
    assert groups["Planet Python"] == "Tech & Science/Python"
    assert groups["Top level, title only"] is None

    out = tmp_path / "out.opml"
    assert fd.sources.export_opml(out) == 6
    assert parse_opml(out.read_bytes()).feeds == parse_opml(REALISTIC_OPML.encode()).feeds


def test_cli_feeds_import_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from focusdesk.cli import main

    opml = tmp_path / "subs.opml"
    opml.write_text(REALISTIC_OPML, encoding="utf-8")
    profile = tmp_path / "p"
    assert main(["--data-dir", str(profile), "feeds", "import-opml", str(opml)]) == 0
    assert "6 feeds added, 0 skipped" in capsys.readouterr().out
    assert main(["--data-dir", str(profile), "feeds", "import-opml", str(opml)]) == 0
    assert "0 feeds added, 6 skipped" in capsys.readouterr().out
    out = tmp_path / "out.opml"
    assert main(["--data-dir", str(profile), "feeds", "export-opml", str(out)]) == 0
    assert "Wrote 6 feeds" in capsys.readouterr().out
    assert len(parse_opml(out.read_bytes()).feeds) == 6


def test_local_file_feeds_are_imported_only_when_allowed(fd: Any, tmp_path: Path) -> None:
    local = tmp_path / "local.xml"
    local.write_bytes(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>L</title>'
        b"<item><title>x</title><guid>1</guid></item></channel></rss>"
    )
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>s</title></head><body>'
        '<outline type="rss" text="Web" xmlUrl="https://w.example/rss"/>'
        f'<outline type="rss" text="Local" xmlUrl="{local.as_uri()}"/>'
        '<outline type="rss" text="Secrets" xmlUrl="file:///etc/passwd"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    report = fd.sources.import_opml(opml)
    assert [info.name for info in report.added] == ["Web"]
    assert [title for title, _ in report.skipped] == ["Local", "Secrets"]
    assert all("--allow-local-files" in reason for _, reason in report.skipped)
    again = fd.sources.import_opml(opml, allow_local=True)
    assert [info.name for info in again.added] == ["Local", "Secrets"]
    # What is not a feed fails on its own at sync, and everything else is read.
    local_id, secrets_id = (info.id for info in again.added)
    (local_report,) = fd.sources.sync(local_id).reports
    assert local_report.error is None
    assert local_report.added == 1
    (secrets_report,) = fd.sources.sync(secrets_id).reports
    assert secrets_report.error is not None
