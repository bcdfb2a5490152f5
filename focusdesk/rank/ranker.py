"""The ranker: every live item scored by the attention layer against the active goals.

It gathers each item's chunk vectors from the vector index, pads them into blocks
of similar chunk counts (so padding stays small and memory bounded), runs the
``GoalAttentionScorer`` and returns, per item, its score, best goal and the
evidence passage that goal attended to most.
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
from focusdesk.records import RankedItem
from focusdesk.settings import Settings
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Goal, Item, Source

if TYPE_CHECKING:
    from focusdesk.rank.attention import GoalAttentionScorer
    from focusdesk.rank.encoder import Encoder
    from focusdesk.rank.index import VectorIndex

log = logging.getLogger(__name__)

BLOCK_ELEMENTS = 4_000_000  # items x chunks per block: bounds the padded tensor's memory


@dataclass(frozen=True)
class ActiveGoal:
    id: int
    title: str
    text: str
    weight: float


@dataclass
class ItemScores:
    """Raw scorer output for a set of items, before item metadata is attached."""

    item_ids: np.ndarray
    scores: np.ndarray
    best_goal: np.ndarray  # index into the goals list, -1 for none
    evidence_chunk: np.ndarray  # chunk id, -1 for none
    goal_relevance: np.ndarray  # [B, G]


class Ranker:
    """Ranks items against goals; built once per profile by the composition root."""

    def __init__(
        self, store: Store, encoder: Encoder, index: Callable[[], VectorIndex], settings: Settings
    ) -> None:
        self.store = store
        self.encoder = encoder
        self._index = index
        self.settings = settings
        self._scorer: GoalAttentionScorer | None = None

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

    def active_goals(self, goal_ids: Sequence[int] | None = None) -> list[ActiveGoal]:
        """Active goals with a weight, or just those of ``goal_ids`` (a focus block's)."""
        with self.store.session() as s:
            stmt = select(Goal).where(Goal.active.is_(True), Goal.weight > 0).order_by(Goal.id)
            if goal_ids is not None:
                stmt = select(Goal).where(Goal.id.in_(list(goal_ids)), Goal.weight > 0)
            goals = s.scalars(stmt.order_by(Goal.id)).all()
            return [ActiveGoal(g.id, g.title, g.text, float(g.weight)) for g in goals]

    def score(self, goals: list[ActiveGoal], *, cancel: CancelToken | None = None) -> ItemScores:
        """Score every live, encoded item against ``goals``."""
        import torch  # noqa: TID253 - lazy, rank/ is the one place allowed

        from focusdesk.rank.passages import encode_cached

        index = self._index()
        goal_vecs = torch.from_numpy(
            encode_cached(self.store, self.encoder, [g.text for g in goals])
        )
        weights = torch.tensor([g.weight for g in goals], dtype=torch.float32)
        with self.store.session() as s:
            rows = np.asarray(
                s.execute(
                    select(Chunk.item_id, Chunk.id)
                    .join(Item, Item.id == Chunk.item_id)
                    .where(Item.vanished.is_(False))
                    .order_by(Chunk.item_id, Chunk.ordinal)
                ).all(),
                dtype=np.int64,
            ).reshape(-1, 2)
        empty = ItemScores(
            np.zeros(0, np.int64),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, len(goals)), np.float32),
        )
        if rows.size == 0 or len(index) == 0:
            return empty
        pos = index.positions(rows[:, 1])
        rows, pos = rows[pos >= 0], pos[pos >= 0]  # chunks not encoded yet wait for a sync
        if rows.size == 0:
            return empty
        item_ids, starts, counts = np.unique(rows[:, 0], return_index=True, return_counts=True)
        vectors = torch.from_numpy(index.vectors)
        scorer = self.scorer
        out_scores = np.zeros(len(item_ids), np.float32)
        out_goal = np.full(len(item_ids), -1, np.int64)
        out_evidence = np.full(len(item_ids), -1, np.int64)
        out_rel = np.zeros((len(item_ids), len(goals)), np.float32)
        order = np.argsort(counts, kind="stable")
        with torch.inference_mode():
            queries = scorer.project_goals(goal_vecs)
            a = 0
            while a < len(order):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                width = int(counts[order[min(len(order) - 1, a)]])
                b = a
                # Grow the block while its padded size stays under the bound.
                while b < len(order) and (b - a + 1) * int(counts[order[b]]) <= BLOCK_ELEMENTS:
                    width = int(counts[order[b]])
                    b += 1
                b = max(b, a + 1)
                block = order[a:b]
                grid = np.full((len(block), width), -1, np.int64)
                for r, i in enumerate(block):
                    grid[r, : counts[i]] = np.arange(starts[i], starts[i] + counts[i])
                mask = torch.from_numpy(grid >= 0)
                chunk_rows = np.where(grid >= 0, grid, 0)
                chunks = vectors[torch.from_numpy(pos[chunk_rows])]
                keys = scorer.project_keys(chunks, mask)
                result = scorer.score_projected(queries, weights, keys, mask)
                best = result.best_goal().numpy()
                ev = result.evidence().numpy()
                out_scores[block] = result.relevance.float().numpy()
                out_goal[block] = best
                out_rel[block] = result.goal_relevance.float().numpy()
                ev_rows = np.where(ev >= 0, chunk_rows[np.arange(len(block)), ev.clip(0)], -1)
                out_evidence[block] = np.where(ev_rows >= 0, rows[ev_rows.clip(0), 1], -1)
                a = b
        return ItemScores(item_ids, out_scores, out_goal, out_evidence, out_rel)

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
        scores = self.score(goals, cancel=cancel)
        order = np.argsort(-scores.scores, kind="stable")
        if top is not None:
            order = order[:top]
        return self._describe(scores, order, goals)

    def _describe(
        self, scores: ItemScores, order: np.ndarray, goals: list[ActiveGoal]
    ) -> list[RankedItem]:
        from focusdesk.rank.passages import passage_text

        wanted = [int(scores.item_ids[i]) for i in order]
        chunk_ids = [int(scores.evidence_chunk[i]) for i in order if scores.evidence_chunk[i] >= 0]
        items: dict[int, tuple[Item, str, str]] = {}
        chunks: dict[int, Chunk] = {}
        with self.store.session() as s:
            for a in range(0, len(wanted), 500):
                part = wanted[a : a + 500]
                for item, kind, name in s.execute(
                    select(Item, Source.kind, Source.name)
                    .join(Source, Source.id == Item.source_id)
                    .where(Item.id.in_(part))
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
                    score=float(scores.scores[i]),
                    goal_id=goals[g].id if g >= 0 else None,
                    goal_title=goals[g].title if g >= 0 else None,
                    evidence=evidence,
                    evidence_span=span,
                    goal_scores={
                        goals[j].id: float(scores.goal_relevance[i, j]) for j in range(len(goals))
                    },
                )
            )
        return ranked
