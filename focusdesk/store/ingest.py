"""Writes what an ingester read into the store: idempotent upserts by content hash."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from focusdesk.clock import Clock
from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress
from focusdesk.records import SyncReport
from focusdesk.sources.base import MESSAGE_SHA, IngestFailure, RawItem
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Item
from focusdesk.store.threads import MAIL_KIND, own_message_id, rethread

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class _Known:
    id: int
    content_hash: str
    vanished: bool


_ITEM_FAULTS = (SQLAlchemyError, ValueError, TypeError, OverflowError)
"""What writing one item can raise because of that item (text that is not valid
Unicode, a value SQLite or JSON cannot hold, a constraint). An error of the database
itself (disk full, locked: a ``DatabaseError`` from ``Store.session``) is about every
item, not this one: it stops the sync instead."""


def ingest(
    store: Store,
    source_id: int,
    stream: Iterable[RawItem | IngestFailure],
    report: SyncReport,
    *,
    complete: bool,
    clock: Clock,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> set[str]:
    """Upsert every item of ``stream`` into ``source_id``; returns the external ids seen.

    New items are dated ``received_at`` by ``clock`` when their batch is written.

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
    mail = False
    written = report.added + report.updated

    def flush() -> None:
        nonlocal mail
        if pending:
            mail = mail or any(raw.kind == MAIL_KIND for raw in pending)
            _write_batch(store, source_id, pending, known, report, clock.now())
            pending.clear()

    n = 0
    try:
        for entry in stream:
            if cancel is not None and n % 50 == 0:
                cancel.raise_if_cancelled()
            n += 1
            if isinstance(entry, IngestFailure):
                _count_failure(report, entry.ref, entry.reason)
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
            if mail and report.added + report.updated > written:
                _rethread(store)
        raise
    flush()
    if mail and report.added + report.updated > written:
        _rethread(store)
    progress(Progress("read", n, n, f"Read {n} items from {report.source_name}"))
    return seen


def _rethread(store: Store) -> None:
    """Work the mail's conversations out again (new messages may join or link threads).
    Conversations are derived data: a fault here is logged and leaves the items as
    they are, never fails the sync."""
    try:
        with store.session() as s:
            changed = rethread(s)
        log.debug("Conversations: %d mail items re-keyed", changed)
    except SQLAlchemyError:
        raise
    except Exception:
        log.exception("The mail's conversations could not be worked out")


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


def _count_failure(report: SyncReport, ref: str, reason: str) -> None:
    report.failed += 1
    report.failures.append((ref, reason))
    log.warning("Skipped %s: %s", ref, reason)


def _write_batch(
    store: Store,
    source_id: int,
    batch: list[RawItem],
    known: dict[str, _Known],
    report: SyncReport,
    now: datetime,
) -> None:
    """Write ``batch`` in one transaction (new items received ``now``); if an item makes
    it fail, write the others without it and count that item as failed, with the reason."""
    try:
        with store.session() as s:
            outcomes = [_upsert(s, source_id, raw, known, now) for raw in batch]
    except _ITEM_FAULTS:
        outcomes = []
        for raw in batch:
            try:
                with store.session() as s:
                    outcomes.append(_upsert(s, source_id, raw, known, now))
            except _ITEM_FAULTS as exc:
                _count_failure(report, _item_ref(raw), item_fault_reason(raw, exc))
    for external_id, state, outcome in outcomes:
        known[external_id] = state
        setattr(report, outcome, getattr(report, outcome) + 1)


_TEXT_FIELDS = (
    ("external_id", "id"),
    ("title", "title"),
    ("author", "author"),
    ("url", "link"),
    ("text", "text"),
    ("body", "text"),
)


def _item_ref(raw: RawItem) -> str:
    """How a failed item is named to the user: its id, made printable."""
    ref = raw.external_id.encode("utf-8", "backslashreplace").decode("utf-8")
    return ref if len(ref) <= 200 else ref[:199] + "…"


def item_fault_reason(raw: RawItem, exc: BaseException) -> str:
    """Why an item could not be saved, in words (the field and the character at fault
    when it holds text that is not valid Unicode)."""
    for attr, label in _TEXT_FIELDS:
        value = getattr(raw, attr)
        if not isinstance(value, str):
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as bad:
            code, at = ord(value[bad.start]), bad.start + 1
            if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept as it came
                what = f"a byte that is not valid UTF-8 (0x{code - 0xDC00:02X}, at position {at})"
            else:
                what = (
                    f"an invalid character (U+{code:04X}, half of a UTF-16 pair, at position {at})"
                )
            return f"it could not be saved: its {label} holds {what}"
    orig = getattr(exc, "orig", None) or exc
    detail = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    return f"it could not be saved ({detail[:200]})"


def _upsert(
    s: Session, source_id: int, raw: RawItem, known: dict[str, _Known], now: datetime
) -> tuple[str, _Known, str]:
    """Add or update one item; returns (external id, what is now known of it, the
    report counter to count it under). ``known`` is only updated once committed."""
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
            published_at=raw.published_at,
            received_at=now,
            content_hash=digest,
            text=raw.text,
            body=raw.body,
            meta=raw.meta,
            status="new",
            message_id=_message_id(raw),
        )
        s.add(item)
        s.flush()
        return raw.external_id, _Known(item.id, digest, False), "added"
    if prior.content_hash == digest and not prior.vanished:
        return raw.external_id, prior, "unchanged"
    s.execute(
        update(Item)
        .where(Item.id == prior.id)
        .values(
            title=raw.title,
            author=raw.author,
            url=raw.url,
            published_at=raw.published_at,
            content_hash=digest,
            text=raw.text,
            body=raw.body,
            meta=raw.meta,
            message_id=_message_id(raw),
            vanished=False,
        )
    )
    # One that had vanished and came back is new to the inbox again.
    return (
        raw.external_id,
        _Known(prior.id, digest, False),
        "added" if prior.vanished else "updated",
    )


def _message_id(raw: RawItem) -> str | None:
    """A mail item's own Message-ID (None for other kinds and mail without one)."""
    return own_message_id(raw.meta.get("message_id")) if raw.kind == MAIL_KIND else None


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


FAILED_ITEMS = "failed_items"
"""``Source.sync_state`` key: the items the last syncs could not read or save, as
``[ref, reason]`` pairs (kept beside the ingester's own state, never passed to it)."""
FAILED_COUNT = "failed_count"
MAX_KEPT_FAILURES = 100


def ingester_state(sync_state: dict[str, Any]) -> dict[str, Any]:
    """The part of a source's sync state that belongs to its ingester."""
    return {k: v for k, v in sync_state.items() if k not in (FAILED_ITEMS, FAILED_COUNT)}


def with_failures(
    state: dict[str, Any],
    previous: dict[str, Any],
    report: SyncReport,
    *,
    complete: bool,
    seen: Collection[str] = (),
) -> dict[str, Any]:
    """``state`` plus the items that failed: this sync's, and when the sync did not see
    every item (incremental, unchanged, or it failed) also those failed before, unless
    this sync read them (``seen``) without a failure."""
    pairs: dict[str, str] = {}
    if not complete:
        for ref, reason in stored_failures(previous):
            if ref not in seen:
                pairs[ref] = reason
    pairs.update((ref, reason) for ref, reason in report.failures)
    if not pairs:
        return dict(state)
    kept = [[ref, reason] for ref, reason in pairs.items()]
    return {**state, FAILED_ITEMS: kept[-MAX_KEPT_FAILURES:], FAILED_COUNT: len(kept)}


def stored_failures(sync_state: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(ref, reason)`` pairs a source's sync state keeps (at most the last 100)."""
    raw = sync_state.get(FAILED_ITEMS)
    if not isinstance(raw, list):
        return []
    return [(str(p[0]), str(p[1])) for p in raw if isinstance(p, list | tuple) and len(p) == 2]


def failed_count(sync_state: dict[str, Any]) -> int:
    """How many items of a source failed (may exceed the pairs kept)."""
    count = sync_state.get(FAILED_COUNT)
    return count if isinstance(count, int) else len(stored_failures(sync_state))
