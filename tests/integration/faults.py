"""Shared pieces of the fault-injection tests: a profile with one source of each local
kind plus a feed on a loopback server, and a snapshot of everything a sync leaves behind
(items, chunk vectors, the index on disk, the database's integrity)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes import FakeEncoder
from feed_server import FeedServer

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths

FAKE = {"FOCUSDESK_TEST_FAKE_ENCODER": "1"}

TOPICS = [
    "firmware release of the low power radio",
    "hiring embedded engineers for the team",
    "battery life measurements at night",
    "conference talk outline and slides",
    "soup recipes with leeks and onions",
    "apartment admin and the heating bill",
]


SETTLED_NS = 1_700_000_000 * 10**9
"""When the test sources were last changed (November 2023)."""


def _message(n: int, topic: str, box: str) -> str:
    return (
        f"From: Sender {n} <s{n}@example.org>\nTo: me@example.org\n"
        f"Subject: {box} {n}: {topic}\nDate: Mon, 0{1 + n % 9} Jun 2026 10:00:00 +0000\n"
        f"Message-ID: <{box}-{n}@example.org>\n\n"
        + "\n\n".join(f"Paragraph {p} about {topic} in {box} message {n}." for p in range(3))
        + "\n"
    )


def _rss(url: str) -> bytes:
    entries = "".join(
        f"<item><title>Entry {n}: {topic}</title><link>{url}#{n}</link><guid>{url}#{n}</guid>"
        f"<pubDate>Mon, 0{1 + n} Jun 2026 09:00:00 +0000</pubDate>"
        f"<description>News about {topic}, entry {n}.</description></item>"
        for n, topic in enumerate(TOPICS)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Faults feed</title>'
        f"<link>{url}</link><description>d</description>{entries}</channel></rss>"
    ).encode()


def make_sources(root: Path, server: FeedServer) -> dict[str, str]:
    """A notes folder, an mbox, a Maildir and a served feed; kind -> uri."""
    notes = root / "notes"
    (notes / "sub").mkdir(parents=True)
    for n, topic in enumerate(TOPICS):
        folder = notes / "sub" if n % 2 else notes
        (folder / f"note {n}.md").write_text(
            f"# Note {n}\n\n" + "\n\n".join(f"Section {p}: {topic}." for p in range(3)) + "\n"
        )
    mbox = root / "inbox.mbox"
    mbox.write_text(
        "".join(
            f"From s{n}@example.org Mon Jun  1 10:00:00 2026\n{_message(n, t, 'mbox')}\n"
            for n, t in enumerate(TOPICS)
        )
    )
    maildir = root / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n, topic in enumerate(TOPICS):
        sub = "cur" if n % 2 else "new"
        name = f"17000000{n:02d}.M{n}P1.host" + (":2,S" if sub == "cur" else "")
        (maildir / sub / name).write_text(_message(n, topic, "maildir"))
    # Files and folders written seconds ago are not trusted as unchanged (a second write
    # can land in the same mtime tick): date them back, so that every run, golden or
    # killed, sees the same settled sources whatever the machine's speed.
    for path in sorted(root.rglob("*"), reverse=True):
        os.utime(path, ns=(SETTLED_NS, SETTLED_NS))
    url = server.url("/feed.xml")
    server.serve_feed("/feed.xml", _rss(url), etag='"v1"')
    return {"notes": str(notes), "mbox": str(mbox), "maildir": str(maildir), "feed": url}


def new_profile(folder: Path, sources: dict[str, str]) -> Path:
    """A profile with ``sources`` added (not synced yet)."""
    desk = FocusDesk(resolve_paths(folder), encoder=FakeEncoder())  # type: ignore[arg-type]
    try:
        for kind, uri in sources.items():
            desk.sources.add(kind, uri)
    finally:
        desk.close()
    return folder


def copy_profile(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@dataclass(frozen=True)
class Snapshot:
    """What a sync leaves in a profile, free of ids and times."""

    integrity: list[str]
    items: list[tuple[Any, ...]]
    chunks: list[tuple[Any, ...]]
    sources: list[tuple[Any, ...]]
    index_count: int
    index_matches_store: bool


def snapshot(profile: Path) -> Snapshot:
    from focusdesk.rank.index import MANIFEST_FILE, VectorIndex
    from focusdesk.rank.passages import live_chunk_ids
    from focusdesk.store.db import Store

    db = profile / "focusdesk.sqlite3"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        integrity = [str(r[0]) for r in con.execute("PRAGMA integrity_check")]
        items = con.execute(
            "SELECT s.kind, i.external_id, i.content_hash, i.title, i.text, i.vanished, "
            "i.status, i.chunked_hash FROM items i JOIN sources s ON s.id = i.source_id"
        ).fetchall()
        chunks = con.execute(
            "SELECT s.kind, i.external_id, c.ordinal, c.char_start, c.char_end, c.text_hash, "
            "e.model_id, e.vector FROM chunks c JOIN items i ON i.id = c.item_id "
            "JOIN sources s ON s.id = i.source_id "
            "LEFT JOIN embeddings e ON e.text_hash = c.text_hash"
        ).fetchall()
        sources = con.execute("SELECT kind, uri, sync_state, last_error FROM sources").fetchall()
    model_id, dim = FakeEncoder().model_id, FakeEncoder().dim
    manifest = profile / "cache" / "index" / MANIFEST_FILE
    count = json.loads(manifest.read_text())["count"] if manifest.exists() else -1
    store = Store(f"sqlite:///{db}", auto_migrate=False)
    try:
        expected = live_chunk_ids(store, model_id)
    finally:
        store.close()
    matches = VectorIndex(profile / "cache" / "index", model_id, dim).load(expected)
    return Snapshot(integrity, sorted(items), sorted(chunks), sorted(sources), count, matches)


@dataclass
class Golden:
    base: Path
    """The profile with its sources added, never synced."""
    synced: Path
    """A copy of ``base`` after one sync without a fault."""
    points: int
    """Write points of an uninterrupted sync (SQL statements, commits, index files)."""
    want: Snapshot


def assert_same(got: Snapshot, want: Snapshot) -> None:
    assert got.integrity == want.integrity == ["ok"]
    assert len(want.items) == 24
    assert len(want.chunks) >= 24
    assert got.items == want.items
    assert got.chunks == want.chunks  # the same passages with the same vectors
    assert got.sources == want.sources
    assert got.index_count == want.index_count == len(want.chunks)
    assert want.index_matches_store
    assert got.index_matches_store
