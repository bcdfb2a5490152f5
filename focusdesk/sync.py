"""The sync pipeline: sources → store → passages → vectors → index; and ``SourcesService``,
which adds, lists and removes the sources it reads.

One direction: each stage reads what the one before it wrote. A failing source is
recorded on that source (``last_error``) and the others still sync.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from focusdesk.clock import Clock
from focusdesk.errors import Cancelled, DatabaseError, KnownError, NotFoundError
from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress
from focusdesk.records import SourceInfo, SyncReport, SyncSummary
from focusdesk.sources.base import ScanResult
from focusdesk.sources.registry import check_new_source, make_ingester
from focusdesk.store.db import Store
from focusdesk.store.ingest import (
    failed_count,
    ingest,
    ingester_state,
    mark_vanished,
    stored_failures,
    with_failures,
)
from focusdesk.store.models import Item, Source

if TYPE_CHECKING:
    from focusdesk.rank.encoding import Encoder
    from focusdesk.settings import Settings
    from focusdesk.sources.credentials import PasswordStore
    from focusdesk.sources.opml import OpmlImport

log = logging.getLogger(__name__)


def sync_source(
    store: Store,
    source_id: int,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    passwords: PasswordStore | None = None,
    clock: Clock,
) -> SyncReport:
    """Read one source into the store; errors end up in the report and on the source (a
    sync that succeeds, and each new item, is dated by ``clock``)."""
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
        ingester = make_ingester(kind, uri, config, passwords=passwords, clock=clock)
        seen = ingest(
            store,
            source_id,
            ingester.scan(state),
            report,
            complete=True,
            clock=clock,
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
                src.last_sync_at = clock.now()
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
    clock: Clock,
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
                sync_source(
                    store, sid, progress=reading, cancel=cancel, passwords=passwords, clock=clock
                )
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


class SourcesService:
    """Adds, lists, switches and removes sources (their passwords and OPML feed lists too)
    and syncs them.

    ``encoder`` gives the encoder when a sync needs it (it is built lazily);
    ``after_sync`` and ``after_remove`` let the owner of the vector index and the ranker
    bring them up to date.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        passwords: PasswordStore,
        encoder: Callable[[], Encoder],
        clock: Clock,
        *,
        after_sync: Callable[[SyncSummary], None],
        after_remove: Callable[[], None],
    ) -> None:
        self.store = store
        self.settings = settings
        self.passwords = passwords
        self._encoder = encoder
        self.clock = clock
        self._after_sync = after_sync
        self._after_remove = after_remove

    def add(
        self, kind: str, uri: str, name: str | None = None, config: dict[str, Any] | None = None
    ) -> SourceInfo:
        """Check and add a source; it is read on the next sync."""
        norm, default_name = check_new_source(kind, uri)
        with self.store.session() as s:
            dup = s.scalar(select(Source.id).where(Source.kind == kind, Source.uri == norm))
            if dup is not None:
                raise KnownError(f"That {kind} source is already added (id {dup}).")
            src = Source(
                kind=kind, uri=norm, name=name or default_name, config=config or {}, sync_state={}
            )
            s.add(src)
            s.flush()
            sid = src.id
        return self.get(sid)

    def get(self, source_id: int) -> SourceInfo:
        for info in self.all():
            if info.id == source_id:
                return info
        raise NotFoundError(f"There is no source with id {source_id}.")

    def all(self) -> list[SourceInfo]:
        with self.store.session() as s:
            counts = dict(
                s.execute(
                    select(Item.source_id, func.count(Item.id))
                    .where(Item.vanished.is_(False))
                    .group_by(Item.source_id)
                ).all()
            )
            return [
                SourceInfo(
                    id=src.id,
                    kind=src.kind,
                    name=src.name,
                    uri=src.uri,
                    enabled=src.enabled,
                    item_count=int(counts.get(src.id, 0)),
                    last_sync_at=src.last_sync_at,
                    last_error=src.last_error,
                    failed=failed_count(src.sync_state),
                    failures=tuple(stored_failures(src.sync_state)),
                )
                for src in s.scalars(select(Source).order_by(Source.id))
            ]

    def remove(self, source_id: int) -> None:
        """Remove a source and every item it brought in."""
        with self.store.session() as s:
            src = s.get(Source, source_id)
            if src is None:
                raise NotFoundError(f"There is no source with id {source_id}.")
            if src.kind == "imap":
                self._forget_imap_password(s, src)
            s.delete(src)
        self._after_remove()

    def set_password(self, source_id: int, password: str) -> bool:
        """Save an IMAP source's password (system keyring, else memory for this run).

        Returns True when it is kept in the system keyring, False when only in memory.
        """
        from focusdesk.sources.imap import account_from_source

        with self.store.session() as s:
            src = s.get(Source, source_id)
            if src is None:
                raise NotFoundError(f"There is no source with id {source_id}.")
            if src.kind != "imap":
                raise KnownError(f"Source {source_id} is not an IMAP account: it has no password.")
            account = account_from_source(src.uri, dict(src.config))
        if not password:
            raise KnownError("The password is empty.")
        return self.passwords.set(account.user, account.host, account.port, password)

    def _forget_imap_password(self, s: Any, src: Source) -> None:
        """Delete a removed IMAP source's password unless another source uses the account."""
        from focusdesk.sources.imap import account_from_source

        try:
            account = account_from_source(src.uri, dict(src.config))
            others = s.scalars(
                select(Source).where(Source.kind == "imap", Source.id != src.id)
            ).all()
            for other in others:
                o = account_from_source(other.uri, dict(other.config))
                if (o.user, o.host, o.port) == (account.user, account.host, account.port):
                    return
        except KnownError:
            return
        self.passwords.delete(account.user, account.host, account.port)

    def import_opml(self, path: str | Path, *, allow_local: bool = False) -> OpmlImport:
        """Add every web feed of an OPML file not already added (local file feeds too when
        ``allow_local``); its folders become groups."""
        from focusdesk.sources.opml import import_feeds, read_opml

        return import_feeds(
            read_opml(path),
            lambda uri, name, config: self.add("feed", uri, name=name, config=config),
            allow_local=allow_local,
        )

    def export_opml(self, path: str | Path, *, title: str = "FocusDesk feeds") -> int:
        """Write every feed source to an OPML file, grouped by folder; returns the count."""
        from focusdesk.sources.opml import export_feeds, write_opml

        with self.store.session() as s:
            rows = [
                (src.name, src.uri, dict(src.config))
                for src in s.scalars(
                    select(Source).where(Source.kind == "feed").order_by(Source.id)
                )
            ]
        target = Path(path).expanduser()
        try:
            target.write_bytes(write_opml(export_feeds(rows), title=title, now=self.clock.now()))
        except OSError as exc:
            raise KnownError(f"{target} could not be written: {exc.strerror or exc}.") from None
        return len(rows)

    def sync(
        self,
        source_id: int | None = None,
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> SyncSummary:
        """Read sources, then chunk, encode and index what changed."""
        summary = run_sync(
            self.store,
            self._encoder(),
            source_id=source_id,
            max_tokens=self.settings.chunk_tokens,
            max_chunks=self.settings.max_chunks_per_item,
            progress=progress,
            cancel=cancel,
            passwords=self.passwords,
            clock=self.clock,
        )
        self._after_sync(summary)
        return summary

    def set_enabled(self, source_id: int, enabled: bool) -> SourceInfo:
        """Switch a source on or off; a disabled source is skipped by a full sync."""
        with self.store.session() as s:
            src = s.get(Source, source_id)
            if src is None:
                raise NotFoundError(f"There is no source with id {source_id}.")
            src.enabled = enabled
        return self.get(source_id)
