"""The sync pipeline: sources → store → passages → vectors → index.

One direction: each stage reads what the one before it wrote. A failing source is
recorded on that source (``last_error``) and the others still sync.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from focusdesk.errors import Cancelled, DatabaseError, KnownError
from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress
from focusdesk.records import SyncReport, SyncSummary
from focusdesk.sources.base import ScanResult
from focusdesk.sources.registry import make_ingester
from focusdesk.store.db import Store
from focusdesk.store.ingest import ingest, ingester_state, mark_vanished, with_failures
from focusdesk.store.models import Source, utcnow

if TYPE_CHECKING:
    from focusdesk.rank.encoding import Encoder
    from focusdesk.sources.credentials import PasswordStore

log = logging.getLogger(__name__)


def sync_source(
    store: Store,
    source_id: int,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    passwords: PasswordStore | None = None,
) -> SyncReport:
    """Read one source into the store; errors end up in the report and on the source."""
    with store.session() as s:
        src = s.get(Source, source_id)
        if src is None:
            raise KnownError(f"There is no source with id {source_id}.")
        kind, uri, config, stored, name = (
            src.kind,
            src.uri,
            dict(src.config),
            dict(src.sync_state),
            src.name,
        )
    state = ingester_state(stored)
    report = SyncReport(source_id=source_id, source_name=name)
    progress(Progress("read", 0, None, f"Reading {name}"))
    kept_state: dict[str, Any] | None = None
    seen: set[str] = set()
    try:
        ingester = make_ingester(kind, uri, config, passwords=passwords)
        seen = ingest(
            store,
            source_id,
            ingester.scan(state),
            report,
            complete=True,
            progress=progress,
            cancel=cancel,
        )
        result: ScanResult = ingester.result
        if result.complete and not result.unchanged:
            mark_vanished(store, source_id, seen, report)
    except (Cancelled, DatabaseError):
        # A full disk or a locked database is about every source: the sync stops (the
        # encode stage, writing meanwhile, must not go on as if one source had failed).
        raise
    except KnownError as exc:
        report.error = exc.user_text()
        # A source that must wait (a feed answered 429/5xx) keeps its "not before" state.
        kept_state = getattr(exc, "sync_state", None)
    except OSError as exc:
        report.error = f"{name} could not be read: {exc.strerror or exc}"
    except Exception as exc:  # a bug in one ingester must not stop the other sources
        log.exception("Sync of source %s failed", name)
        # The type only: an exception's text can quote what it failed on (a password).
        report.error = (
            f"Syncing {name} failed unexpectedly ({type(exc).__name__}); "
            "the details are in the log."
        )
    with store.session() as s:
        src = s.get(Source, source_id)
        if src is not None:
            src.last_error = report.error
            new_state = state
            if report.error is None:
                new_state = result.state if not result.unchanged else state
                src.last_sync_at = utcnow()
            elif isinstance(kept_state, dict):
                new_state = kept_state
            # The items that failed stay listed on the source until a full read succeeds.
            complete = report.error is None and result.complete and not result.unchanged
            src.sync_state = with_failures(new_state, stored, report, complete=complete, seen=seen)
    return report


def run_sync(
    store: Store,
    encoder: Encoder,
    *,
    source_id: int | None = None,
    max_tokens: int,
    max_chunks: int,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    passwords: PasswordStore | None = None,
) -> SyncSummary:
    """Sync one source (or every enabled one); what changed is chunked and encoded while
    the sources are still being read (``focusdesk.rank.pipeline``)."""
    from focusdesk.rank.passages import tokenizer_chunker
    from focusdesk.rank.pipeline import encode_while_reading

    started = time.perf_counter()
    summary = SyncSummary()
    with store.session() as s:
        stmt = select(Source.id).order_by(Source.id)
        if source_id is not None:
            stmt = stmt.where(Source.id == source_id)
        else:
            stmt = stmt.where(Source.enabled.is_(True))
        ids = list(s.scalars(stmt))
    if source_id is not None and not ids:
        raise KnownError(f"There is no source with id {source_id}.")

    def read(stored: Callable[[], None]) -> None:
        def reading(p: Progress) -> None:
            progress(p)
            if p.stage == "read":  # ingest reports after each batch it commits
                stored()

        for sid in ids:
            summary.reports.append(
                sync_source(store, sid, progress=reading, cancel=cancel, passwords=passwords)
            )

    done = encode_while_reading(
        store,
        encoder,
        lambda: tokenizer_chunker(encoder, max_tokens, max_chunks),
        read,
        progress=progress,
        cancel=cancel,
    )
    summary.items_chunked = done.items_chunked
    summary.chunks_encoded = done.chunks_encoded
    summary.chunks_cached = done.chunks_cached
    summary.seconds = time.perf_counter() - started
    return summary
