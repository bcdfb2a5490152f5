"""Writes what an ingester read into the store: idempotent upserts by content hash."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress
from focusdesk.records import SyncReport
from focusdesk.sources.base import MESSAGE_SHA, IngestFailure, RawItem
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Item, utcnow

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class _Known:
    id: int
    content_hash: str
    vanished: bool


def ingest(
    store: Store,
    source_id: int,
    stream: Iterable[RawItem | IngestFailure],
    report: SyncReport,
    *,
    complete: bool,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> set[str]:
    """Upsert every item of ``stream`` into ``source_id``; returns the external ids seen.

    New items are added, items whose content hash changed are updated (and will be
    re-chunked), unchanged ones are left alone. Work is committed in batches, so a
    process killed mid-way loses nothing that was committed and a re-run finishes
    the job without duplicates. When ``complete``, call ``mark_vanished`` after the
    stream is exhausted.
    """
    with store.session() as s:
        rows = s.execute(
            select(
                Item.id,
                Item.external_id,
                Item.content_hash,
                Item.vanished,
                func.json_extract(Item.meta, f"$.{MESSAGE_SHA}").label("sha"),
            ).where(Item.source_id == source_id)
        ).all()
    known = {r.external_id: _Known(r.id, r.content_hash, r.vanished) for r in rows}
    shas: dict[str, str] = {r.external_id: r.sha for r in rows if r.sha}
    seen: set[str] = set()
    pending: list[RawItem] = []

    def flush() -> None:
        if not pending:
            return
        with store.session() as s:
            for raw in pending:
                _upsert(s, source_id, raw, known, report)
        pending.clear()

    n = 0
    try:
        for entry in stream:
            if cancel is not None and n % 50 == 0:
                cancel.raise_if_cancelled()
            n += 1
            if isinstance(entry, IngestFailure):
                report.failed += 1
                report.failures.append((entry.ref, entry.reason))
                log.warning("Skipped %s: %s", entry.ref, entry.reason)
                continue
            _rekey_other_message(entry, shas)
            if entry.external_id in seen:
                continue
            seen.add(entry.external_id)
            pending.append(entry)
            if len(pending) >= BATCH:
                flush()
                progress(Progress("read", n, None, f"Read {n} items from {report.source_name}"))
    except Exception:
        # The source failed or the user cancelled: keep what was read before that (an
        # IMAP sync's saved progress counts on it).
        with contextlib.suppress(Exception):
            flush()
        raise
    flush()
    progress(Progress("read", n, n, f"Read {n} items from {report.source_name}"))
    return seen


def _rekey_other_message(entry: RawItem, shas: dict[str, str]) -> None:
    """Mail is immutable: another message under a known Message-ID (a list's copy of
    one's own mail, a resend) is a new item, kept beside the first under a stable id
    made from its bytes, never an update of the first. Only for items that carry
    ``meta[MESSAGE_SHA]`` (IMAP, where one sync sees only the new messages)."""
    sha = entry.meta.get(MESSAGE_SHA)
    if not isinstance(sha, str) or not sha:
        return
    first = shas.setdefault(entry.external_id, sha)
    if first != sha:
        entry.meta["duplicate_of"] = entry.external_id
        entry.external_id = f"{entry.external_id}#dup-{sha[:12]}"
        shas.setdefault(entry.external_id, sha)


def _in_utc(when: datetime | None) -> datetime | None:
    """An aware time in UTC: SQLite keeps no offset, so 10:00 -0800 must be stored as 18:00."""
    return when.astimezone(UTC) if when is not None and when.tzinfo is not None else when


def _upsert(
    s: Session, source_id: int, raw: RawItem, known: dict[str, _Known], report: SyncReport
) -> None:
    digest = raw.content_hash
    prior = known.get(raw.external_id)
    if prior is None:
        item = Item(
            source_id=source_id,
            external_id=raw.external_id,
            kind=raw.kind,
            title=raw.title,
            author=raw.author,
            url=raw.url,
            published_at=_in_utc(raw.published_at),
            received_at=utcnow(),
            content_hash=digest,
            text=raw.text,
            body=raw.body,
            meta=raw.meta,
            status="new",
        )
        s.add(item)
        s.flush()
        known[raw.external_id] = _Known(item.id, digest, False)
        report.added += 1
        return
    if prior.content_hash == digest and not prior.vanished:
        report.unchanged += 1
        return
    s.execute(
        update(Item)
        .where(Item.id == prior.id)
        .values(
            title=raw.title,
            author=raw.author,
            url=raw.url,
            published_at=_in_utc(raw.published_at),
            content_hash=digest,
            text=raw.text,
            body=raw.body,
            meta=raw.meta,
            vanished=False,
        )
    )
    if prior.vanished:
        report.added += 1  # it came back: new to the inbox again
    else:
        report.updated += 1
    known[raw.external_id] = _Known(prior.id, digest, False)


def mark_vanished(store: Store, source_id: int, seen: set[str], report: SyncReport) -> None:
    """Items of a completely scanned source that were not seen have gone: hide them.

    The item row (and its feedback) is kept, marked vanished, and its chunks go, so it
    leaves the inbox and the index; if it comes back it is restored.
    """
    with store.session() as s:
        rows = s.execute(
            select(Item.id, Item.external_id).where(
                Item.source_id == source_id, Item.vanished.is_(False)
            )
        ).all()
        gone = [r.id for r in rows if r.external_id not in seen]
        for start in range(0, len(gone), 500):
            ids = gone[start : start + 500]
            s.execute(update(Item).where(Item.id.in_(ids)).values(vanished=True, chunked_hash=None))
            s.query(Chunk).filter(Chunk.item_id.in_(ids)).delete(synchronize_session=False)
        report.removed += len(gone)
