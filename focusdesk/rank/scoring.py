"""Array-level scoring: items (as rows of chunk vectors) against goal facets.

Pure numpy + torch, no store: the ranker feeds it from the profile, the benchmark
from synthetic vectors. Items are processed in blocks of one chunk count each, so
nothing is padded and each block's tensors are bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from focusdesk.progress import CancelToken

if TYPE_CHECKING:
    from focusdesk.rank.attention import GoalAttentionScorer

BLOCK_ELEMENTS = 2_000_000
"""Items x chunks per block: bounds the block tensors' memory."""
SINGLE_THREAD_ROWS = 65_536
"""Chunk rows up to which items are scored on one torch thread (a large profile's
candidates, a small profile's items): such blocks gain little from a second thread and
lose several times over when the cores are shared (on a 2-core machine under load a
2-thread re-rank of 100k items' candidates took 0.3-1.3 s, a 1-thread one 0.16 s)."""

_threads_lock = threading.Lock()
_threads_depth = 0
_threads_before = 0


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads (CPU ops), then give back the number before.

    The setting is process-wide: while blocks overlap (scoring in one thread, training in
    another, or nested), the number before the first is restored when the last leaves."""
    import torch  # noqa: TID253 - rank/ is the one place allowed

    global _threads_depth, _threads_before
    with _threads_lock:
        if _threads_depth == 0:
            _threads_before = torch.get_num_threads()
        _threads_depth += 1
        torch.set_num_threads(n)
    try:
        yield
    finally:
        with _threads_lock:
            _threads_depth -= 1
            if _threads_depth == 0:
                torch.set_num_threads(_threads_before)


def one_torch_thread() -> AbstractContextManager[None]:
    """``torch_threads(1)``: for the small blocks of scoring (see ``SINGLE_THREAD_ROWS``)."""
    return torch_threads(1)


@dataclass
class ChunkLayout:
    """Which chunks belong to which item, in the order of the vector matrix.

    ``starts[i]:starts[i] + counts[i]`` are item i's rows in ``rows``; each row is a
    position in the vector matrix. ``is_passage`` is False for document-level chunks,
    which take part in scoring but are never shown as evidence.
    """

    item_ids: np.ndarray  # [N] int64
    starts: np.ndarray  # [N] int64
    counts: np.ndarray  # [N] int64
    chunk_ids: np.ndarray  # [R] int64
    rows: np.ndarray  # [R] int64, positions in the vector matrix
    is_passage: np.ndarray  # [R] bool

    @classmethod
    def from_rows(
        cls,
        item_ids: np.ndarray,
        chunk_ids: np.ndarray,
        positions: np.ndarray,
        is_passage: np.ndarray,
    ) -> ChunkLayout:
        """Build from per-chunk rows sorted by item (then ordinal)."""
        items, starts, counts = np.unique(item_ids, return_index=True, return_counts=True)
        return cls(
            items,
            starts.astype(np.int64),
            counts.astype(np.int64),
            chunk_ids.astype(np.int64),
            positions.astype(np.int64),
            is_passage.astype(bool),
        )

    def subset(self, keep: np.ndarray) -> ChunkLayout:
        """The layout of the items where ``keep`` (a bool mask over items) is True."""
        idx = np.flatnonzero(keep)
        counts = self.counts[idx]
        starts = np.zeros(len(idx), np.int64)
        if len(idx):
            starts[1:] = np.cumsum(counts)[:-1]
        take = (
            np.concatenate(
                [np.arange(s, s + c) for s, c in zip(self.starts[idx], counts, strict=True)]
            )
            if len(idx)
            else np.zeros(0, np.int64)
        )
        return ChunkLayout(
            self.item_ids[idx],
            starts,
            counts,
            self.chunk_ids[take],
            self.rows[take],
            self.is_passage[take],
        )


@dataclass
class ItemScores:
    """Scorer output per item, before priors and item metadata are attached."""

    item_ids: np.ndarray  # [N]
    relevance: np.ndarray  # [N] R: soft maximum over weighted goal facets
    goal_relevance: np.ndarray  # [N, G] best facet's relevance per goal
    best_goal: np.ndarray  # [N] goal index, -1 for none
    best_facet: np.ndarray  # [N] facet index, -1 for none
    evidence_chunk: np.ndarray  # [N] chunk id of the passage attended to most, -1 for none
    goal_soft: np.ndarray | None = None
    """[N, G] each goal's own relevance: the soft maximum over its facets alone (what R is
    when it is the only goal); None where not computed (``goal_relevance`` stands in)."""
    goal_facet: np.ndarray | None = None
    """[N, G] int64 each goal's best facet (index into the facets), for a row shown for a
    goal other than its best; None where not computed."""
    goal_evidence: np.ndarray | None = None
    """[N, G] int64 chunk id of the passage each goal's best facet attends to most, -1 for
    none; None where not computed."""

    @classmethod
    def empty(cls, n_goals: int) -> ItemScores:
        z = np.zeros(0, np.int64)
        empty = np.zeros((0, n_goals), np.float32)
        pairs = np.zeros((0, n_goals), np.int64)
        return cls(z, np.zeros(0, np.float32), empty, z, z, z, empty, pairs, pairs)

    def facet_for(self, i: int, goal: int) -> int:
        """Item ``i``'s best facet for ``goal`` (its best facet overall where per-goal ones
        were not computed and ``goal`` is its best goal), -1 for none."""
        if self.goal_facet is not None:
            return int(self.goal_facet[i, goal])
        return int(self.best_facet[i]) if int(self.best_goal[i]) == goal else -1

    def evidence_for(self, i: int, goal: int) -> int:
        """The chunk id of item ``i``'s evidence passage for ``goal`` (see ``facet_for``)."""
        if self.goal_evidence is not None:
            return int(self.goal_evidence[i, goal])
        return int(self.evidence_chunk[i]) if int(self.best_goal[i]) == goal else -1

    @property
    def per_goal(self) -> np.ndarray:
        """[N, G] each goal's own relevance (``goal_soft``, else the best facet's)."""
        return self.goal_soft if self.goal_soft is not None else self.goal_relevance


def score_items(
    scorer: GoalAttentionScorer,
    layout: ChunkLayout,
    vectors: np.ndarray,
    queries: np.ndarray,
    facet_weights: np.ndarray,
    facet_owner: np.ndarray,
    *,
    keys_cache: np.ndarray | None = None,
    row_keys: np.ndarray | None = None,
    cancel: CancelToken | None = None,
) -> ItemScores:
    """Score every item of ``layout`` against the goal facets.

    ``queries`` [F, d] are facet embeddings, ``facet_weights`` [F] their goal's weight,
    ``facet_owner`` [F] the index of the goal each facet belongs to (sorted, 0..G-1).
    ``keys_cache`` [V, H, d/H], when given, holds ``scorer.project_keys`` of every
    row of ``vectors`` (valid while P_k is unchanged); else ``row_keys`` [R, H, d/H],
    when given, holds those of the layout's own chunks (``vectors[layout.rows]``); else
    the layout's chunks are projected here, each once (never a padded slot).

    Items are scored in blocks of one chunk count each, so no block is padded; up to
    ``SINGLE_THREAD_ROWS`` chunks, on one torch thread.
    """
    small = len(layout.rows) <= SINGLE_THREAD_ROWS
    with one_torch_thread() if small else nullcontext():
        return _score_items(
            scorer,
            layout,
            vectors,
            queries,
            facet_weights,
            facet_owner,
            keys_cache,
            row_keys,
            cancel,
        )


def _score_items(
    scorer: GoalAttentionScorer,
    layout: ChunkLayout,
    vectors: np.ndarray,
    queries: np.ndarray,
    facet_weights: np.ndarray,
    facet_owner: np.ndarray,
    keys_cache: np.ndarray | None,
    row_keys: np.ndarray | None,
    cancel: CancelToken | None,
) -> ItemScores:
    import torch  # noqa: TID253 - rank/ is the one place allowed

    n_goals = int(facet_owner.max()) + 1 if len(facet_owner) else 0
    n = len(layout.item_ids)
    if n == 0 or len(queries) == 0:
        return ItemScores.empty(n_goals)
    out_rel = np.zeros(n, np.float32)
    out_goal_rel = np.zeros((n, n_goals), np.float32)
    out_goal_soft = np.zeros((n, n_goals), np.float32)
    facets_per_goal = np.bincount(facet_owner, minlength=n_goals).astype(np.float32)
    temp = float(scorer.config.goal_temperature)
    out_goal = np.full(n, -1, np.int64)
    out_facet = np.full(n, -1, np.int64)
    out_evidence = np.full(n, -1, np.int64)
    out_goal_facet = np.full((n, n_goals), -1, np.int64)
    out_goal_evidence = np.full((n, n_goals), -1, np.int64)
    owner = torch.from_numpy(facet_owner.astype(np.int64))
    weights = torch.from_numpy(facet_weights.astype(np.float32))
    order = np.argsort(layout.counts, kind="stable")
    with torch.inference_mode():
        q = scorer.project_goals(torch.from_numpy(np.ascontiguousarray(queries, np.float32)))
        if keys_cache is None and row_keys is None:
            from focusdesk.rank.candidates import project_all_keys

            row_keys = project_all_keys(scorer, vectors[layout.rows])
        source = torch.from_numpy(keys_cache if keys_cache is not None else row_keys)
        counts = layout.counts[order]
        a = 0
        while a < n:
            if cancel is not None:
                cancel.raise_if_cancelled()
            width = int(counts[a])
            b = min(
                int(np.searchsorted(counts, width, side="right")),
                a + max(1, BLOCK_ELEMENTS // max(1, width)),
            )
            block = order[a:b]
            offs = np.arange(max(1, width))[None, :]
            valid = offs < layout.counts[block][:, None]
            grid = np.where(valid, layout.starts[block][:, None] + offs, 0)  # rows in layout
            mask = torch.from_numpy(valid)
            keys = source[torch.from_numpy(layout.rows[grid] if keys_cache is not None else grid)]
            result = scorer.score_projected(q, weights, keys, mask)
            facet_rel = result.goal_relevance  # [B, F]
            # The facet that contributes most to the soft maximum (w * r), and its goal
            # (every item of the layout has a chunk, so there is one).
            best_f = result.best_goal().numpy()
            out_facet[block] = best_f
            out_goal[block] = facet_owner[best_f]
            out_rel[block] = result.relevance.float().numpy()
            per_goal = torch.full((len(block), n_goals), -torch.inf)
            per_goal = per_goal.scatter_reduce(
                1, owner.expand(len(block), -1), facet_rel.float(), reduce="amax"
            )
            out_goal_rel[block] = per_goal.numpy()
            # Each goal's soft maximum over its own facets, as score_projected computes R
            # over all of them: T log Σ exp(r / T) − T log F_g (max-shifted for stability).
            spread = torch.exp(
                (facet_rel.float() - per_goal.gather(1, owner.expand(len(block), -1))) / temp
            )
            sums = torch.zeros((len(block), n_goals)).scatter_add(
                1, owner.expand(len(block), -1), spread
            )
            out_goal_soft[block] = (
                per_goal
                + temp * torch.log(sums)
                - temp * torch.log(torch.from_numpy(facets_per_goal))
            ).numpy()
            # Evidence, per goal: the passage (never a document chunk) the goal's best
            # facet attends to most; the best goal's is the item's evidence.
            facets_t = result.best_in_groups(owner, n_goals)  # [B, G]
            passage = torch.from_numpy(layout.is_passage[grid])
            ev = result.evidence(facets_t, allowed=passage).numpy()  # [B, G]
            facets = facets_t.numpy()
            ev_rows = grid[np.arange(len(block))[:, None], np.maximum(ev, 0)]
            chunk = np.where(ev >= 0, layout.chunk_ids[ev_rows], -1)
            out_goal_facet[block] = facets
            out_goal_evidence[block] = chunk
            out_evidence[block] = chunk[np.arange(len(block)), facet_owner[best_f]]
            a = b
    return ItemScores(
        layout.item_ids,
        out_rel,
        out_goal_rel,
        out_goal,
        out_facet,
        out_evidence,
        out_goal_soft,
        out_goal_facet,
        out_goal_evidence,
    )
