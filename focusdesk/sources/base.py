"""The one ingester shape every source kind implements.

An ingester reads its source and yields ``RawItem`` for every item it could read
and ``IngestFailure`` for every one it could not: a bad item is counted and
skipped, never fatal to the sync. It never writes to the source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

MESSAGE_SHA = "message_sha"
"""``RawItem.meta`` key: a digest of a message's raw bytes, which tells two messages with
one Message-ID apart (the store keeps both; see store.ingest)."""


@dataclass
class RawItem:
    """One item as read from a source, before it reaches the store."""

    external_id: str
    """Stable id, unique within the source (Message-ID, note path, entry id)."""
    kind: str
    """'note', 'email' or 'feed'."""
    title: str
    text: str
    """Cleaned text that is ranked (quotes, signatures and markup removed)."""
    body: str = ""
    """Full readable text for the reader; defaults to ``text``."""
    author: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    """Timezone-aware, or None when the source gives no usable date. A parser reads a
    date that names no zone as UTC; the store refuses naive datetimes (such an item
    fails alone, with the reason), it never guesses."""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.body:
            self.body = self.text

    @property
    def content_hash(self) -> str:
        """Changes exactly when something the store keeps about the item changes."""
        h = hashlib.sha256()
        for part in (self.title, self.text, self.body, self.author or "", self.url or ""):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        h.update((self.published_at.isoformat() if self.published_at else "").encode())
        return h.hexdigest()


@dataclass
class IngestFailure:
    """An item that could not be read: where it is and why, in words."""

    ref: str
    reason: str


@dataclass
class ScanResult:
    """What a scan learnt beyond the items: the state to keep for the next sync."""

    state: dict[str, Any] = field(default_factory=dict)
    complete: bool = True
    """True when the scan saw every item, so items not seen have vanished."""
    unchanged: bool = False
    """True when the source is known unchanged since ``state`` and nothing was read."""


class Ingester(Protocol):
    """Reads one source. ``scan`` yields items and failures, then returns a ScanResult."""

    kind: str

    def scan(self, state: dict[str, Any]) -> Iterator[RawItem | IngestFailure]:
        """Yield every item (or failure); afterwards ``result`` holds the new state."""
        ...

    @property
    def result(self) -> ScanResult:
        """Valid once ``scan`` is exhausted."""
        ...
