"""The ranker: every live item scored by the attention layer against the active goals.

Goals are expanded into facet queries (``goal_queries``); each item's chunk vectors
(its passages and its document chunk) come from the vector index through a cached
``ChunkLayout``; ``score_items`` runs the ``GoalAttentionScorer``. The result, per
item: its score, best goal, the facet that matched and the evidence passage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from focusdesk.errors import KnownError
from focusdesk.progress import CancelToken
from focusdesk.rank.goal_queries import goal_queries
from focusdesk.rank.scoring import ChunkLayout, ItemScores, score_items
from focusdesk.records import RankedItem
from focusdesk.settings import Settings
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Goal, Item, Source

if TYPE_CHECKING:
    from focusdesk.rank.attention import GoalAttentionScorer
    from focusdesk.rank.encoder import Encoder
    from focusdesk.rank.index import VectorIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveGoal:
    """A goal as the ranker uses it."""

    id: int
    title: str
    description: str
    weight: float

    @property
    def queries(self) -> list[str]:
        return goal_queries(self.title, self.description)


@dataclass
class GoalQueries:
    """The facet queries of a set of goals, embedded."""

    goals: list[ActiveGoal]
    texts: list[str]
    vectors: np.ndarray  # [F, d]
    weights: np.ndarray  # [F]
    owner: np.ndarray  # [F] goal index


class Ranker:
    """Ranks items against goals; built once per profile by the composition root."""

    def __init__(
        self,
        store: Store,
        encoder: Encoder,
        index: Callable[[], VectorIndex],
        settings: Settings,
    ) -> None:
        self.store = store
        self.encoder = encoder
        self._index = index
        self.settings = settings
        self._scorer: GoalAttentionScorer | None = None
        self._layout: ChunkLayout | None = None
        self._layout_key: tuple[int, int] | None = None

    @property
    def scorer(self) -> GoalAttentionScorer:
        if self._scorer is None:
            from focusdesk.rank.attention import GoalAttentionScorer

            self._scorer = GoalAttentionScorer(
                self.encoder.dim,
                heads=self.settings.heads,
                init_temperature=self.settings.temperature,
                goal_temperature=self.settings.goal_softmax_temperature,
            ).eval()
        return self._scorer

    def invalidate(self) -> None:
        """Forget the cached chunk layout (after a sync changed items or chunks)."""
        self._layout = None
        self._layout_key = None

    def active_goals(self, goal_ids: Sequence[int] | None = None) -> list[ActiveGoal]:
        """Active goals with a weight, or just those of ``goal_ids`` (a focus block's)."""
        with self.store.session() as s:
            stmt = select(Goal).where(Goal.active.is_(True), Goal.weight > 0)
            if goal_ids is not None:
                stmt = select(Goal).where(Goal.id.in_(list(goal_ids)), Goal.weight > 0)
            goals = s.scalars(stmt.order_by(Goal.id)).all()
            return [ActiveGoal(g.id, g.title, g.description or "", float(g.weight)) for g in goals]

    def embed_goals(self, goals: list[ActiveGoal]) -> GoalQueries:
        """Facet texts of the goals and their (cached) embeddings."""
        from focusdesk.rank.passages import encode_cached

        texts: list[str] = []
        owner: list[int] = []
        weights: list[float] = []
        for n, goal in enumerate(goals):
            for q in goal.queries:
                texts.append(q)
                owner.append(n)
                weights.append(goal.weight)
        vectors = encode_cached(self.store, self.encoder, texts)
        return GoalQueries(
            goals, texts, vectors, np.asarray(weights, np.float32), np.asarray(owner, np.int64)
        )

    def layout(self) -> ChunkLayout:
        """Which chunk vectors make up each live item (cached until the store changes)."""
        from focusdesk.rank.passages import DOCUMENT_ORDINAL

        index = self._index()
        with self.store.session() as s:
            key = (
                len(index),
                int(s.scalar(select(Chunk.id).order_by(Chunk.id.desc()).limit(1)) or 0),
            )
            if self._layout is not None and self._layout_key == key:
                return self._layout
            rows = np.asarray(
                s.execute(
                    select(Chunk.item_id, Chunk.id, Chunk.ordinal)
                    .join(Item, Item.id == Chunk.item_id)
                    .where(Item.vanished.is_(False))
                    .order_by(Chunk.item_id, Chunk.ordinal)
                ).all(),
                dtype=np.int64,
            ).reshape(-1, 3)
        pos = index.positions(rows[:, 1]) if len(rows) else np.zeros(0, np.int64)
        rows, pos = rows[pos >= 0], pos[pos >= 0]  # chunks not encoded yet wait for a sync
        self._layout = ChunkLayout.from_rows(
            rows[:, 0], rows[:, 1], pos, rows[:, 2] != DOCUMENT_ORDINAL
        )
        self._layout_key = key
        return self._layout

    def score(
        self, goals: list[ActiveGoal], *, cancel: CancelToken | None = None
    ) -> tuple[ItemScores, GoalQueries]:
        """Score every live, encoded item against ``goals``."""
        gq = self.embed_goals(goals)
        layout = self.layout()
        index = self._index()
        if len(layout.item_ids) == 0:
            return ItemScores.empty(len(goals)), gq
        scores = score_items(
            self.scorer, layout, index.vectors, gq.vectors, gq.weights, gq.owner, cancel=cancel
        )
        return scores, gq

    def rank(
        self,
        top: int | None = None,
        *,
        goal_ids: Sequence[int] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[RankedItem]:
        """Live items best first, each with score, best goal and evidence passage."""
        goals = self.active_goals(goal_ids)
        if not goals:
            raise KnownError(
                "There are no active goals to rank against.",
                hint='Add one with: focusdesk goals add "what you are working on"',
            )
        scores, gq = self.score(goals, cancel=cancel)
        order = np.argsort(-scores.relevance, kind="stable")
        if top is not None:
            order = order[:top]
        return self._describe(scores, order, gq)

    def _describe(self, scores: ItemScores, order: np.ndarray, gq: GoalQueries) -> list[RankedItem]:
        from focusdesk.rank.passages import passage_text

        goals = gq.goals
        wanted = [int(scores.item_ids[i]) for i in order]
        chunk_ids = [int(scores.evidence_chunk[i]) for i in order if scores.evidence_chunk[i] >= 0]
        items: dict[int, tuple[Item, str, str]] = {}
        chunks: dict[int, Chunk] = {}
        with self.store.session() as s:
            for a in range(0, len(wanted), 500):
                for item, kind, name in s.execute(
                    select(Item, Source.kind, Source.name)
                    .join(Source, Source.id == Item.source_id)
                    .where(Item.id.in_(wanted[a : a + 500]))
                ):
                    items[item.id] = (item, kind, name)
            for a in range(0, len(chunk_ids), 500):
                for c in s.scalars(select(Chunk).where(Chunk.id.in_(chunk_ids[a : a + 500]))):
                    chunks[c.id] = c
            s.expunge_all()
        ranked: list[RankedItem] = []
        for i in order:
            iid = int(scores.item_ids[i])
            if iid not in items:
                continue  # removed while we were scoring
            item, kind, name = items[iid]
            g = int(scores.best_goal[i])
            f = int(scores.best_facet[i])
            chunk = chunks.get(int(scores.evidence_chunk[i]))
            evidence, span = "", None
            if chunk is not None:
                if chunk.char_end > chunk.char_start:
                    evidence = item.text[chunk.char_start : chunk.char_end].strip()
                    span = (chunk.char_start, chunk.char_end)
                else:
                    evidence = passage_text(item.title, "", 0, 0, chunk.ordinal)
            ranked.append(
                RankedItem(
                    item_id=iid,
                    source_id=item.source_id,
                    source_kind=kind,
                    source_name=name,
                    external_id=item.external_id,
                    title=item.title,
                    author=item.author,
                    published_at=item.published_at,
                    status=item.status,
                    score=float(scores.relevance[i]),
                    goal_id=goals[g].id if g >= 0 else None,
                    goal_title=goals[g].title if g >= 0 else None,
                    evidence=evidence,
                    evidence_span=span,
                    goal_scores={
                        goals[j].id: float(scores.goal_relevance[i, j]) for j in range(len(goals))
                    },
                    matched_facet=gq.texts[f] if f >= 0 else None,
                )
            )
        return ranked
