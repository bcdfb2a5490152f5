"""Array-level scoring: items (as rows of chunk vectors) against goal facets.

Pure numpy + torch, no store: the ranker feeds it from the profile, the benchmark
from synthetic vectors. Items are processed in blocks of one chunk count each, so
nothing is padded and each block's tensors are bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
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
        take = _rows_of(self, idx)
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


@dataclass
class FacetScores:
    """Each item's relevance to each facet query, and the passage that facet attends to
    most: what ``combine_facets`` makes an item's scores of, given the facets' goals and
    weights. A facet's column depends on its query, the item's chunks and the scorer only."""

    item_ids: np.ndarray  # [N]
    relevance: np.ndarray  # [N, F] float32: r_f = sum_h beta_h r_{f,h}
    evidence: np.ndarray  # [N, F] int64 chunk id of the passage facet f attends to most, -1


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

    The facets are scored (``score_facets``), then combined per goal and over the goals
    (``combine_facets``).
    """
    facets = score_facets(
        scorer,
        layout,
        vectors,
        queries,
        keys_cache=keys_cache,
        row_keys=row_keys,
        cancel=cancel,
    )
    return combine_facets(scorer, facets, facet_weights, facet_owner)


def score_facets(
    scorer: GoalAttentionScorer,
    layout: ChunkLayout,
    vectors: np.ndarray,
    queries: np.ndarray,
    *,
    items: np.ndarray | None = None,
    keys_cache: np.ndarray | None = None,
    row_keys: np.ndarray | None = None,
    key_rows: np.ndarray | None = None,
    cancel: CancelToken | None = None,
) -> FacetScores:
    """Each item of ``layout`` (or only those at positions ``items``, in that order)
    against each facet query of ``queries`` [F, d]: its relevance and evidence passage.
    ``keys_cache`` and ``row_keys`` as in ``score_items``; with ``key_rows`` [R], the key
    of the layout's row r is ``row_keys[key_rows[r]]`` (``RowKeysCache.lookup``).

    Items are scored in blocks of one chunk count each, so no block is padded; up to
    ``SINGLE_THREAD_ROWS`` chunks, on one torch thread.
    """
    picked = np.arange(len(layout.item_ids)) if items is None else np.asarray(items, np.int64)
    small = int(layout.counts[picked].sum()) <= SINGLE_THREAD_ROWS
    with one_torch_thread() if small else nullcontext():
        return _score_facets(
            scorer, layout, vectors, queries, picked, keys_cache, row_keys, key_rows, cancel
        )


def _score_facets(
    scorer: GoalAttentionScorer,
    layout: ChunkLayout,
    vectors: np.ndarray,
    queries: np.ndarray,
    picked: np.ndarray,
    keys_cache: np.ndarray | None,
    row_keys: np.ndarray | None,
    key_rows: np.ndarray | None,
    cancel: CancelToken | None,
) -> FacetScores:
    import torch  # noqa: TID253 - rank/ is the one place allowed

    n, n_facets = len(picked), len(queries)
    relevance = np.zeros((n, n_facets), np.float32)
    evidence = np.full((n, n_facets), -1, np.int64)
    if n == 0 or n_facets == 0:
        return FacetScores(layout.item_ids[picked], relevance, evidence)
    ones = torch.ones(n_facets)
    order = np.argsort(layout.counts[picked], kind="stable")  # positions in ``picked``
    counts = layout.counts[picked][order]
    with torch.inference_mode():
        q = scorer.project_goals(torch.from_numpy(np.ascontiguousarray(queries, np.float32)))
        if keys_cache is None and row_keys is None:
            from focusdesk.rank.candidates import project_all_keys

            at: np.ndarray | None
            rows = _rows_of(layout, picked)
            source = torch.from_numpy(project_all_keys(scorer, vectors[layout.rows[rows]]))
            at = np.full(len(layout.rows), -1, np.int64)
            at[rows] = np.arange(len(rows))  # layout row -> its key's row
        else:
            source = torch.from_numpy(keys_cache if keys_cache is not None else row_keys)
            at = None if keys_cache is not None else key_rows
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
            items = picked[block]
            offs = np.arange(max(1, width))[None, :]
            valid = offs < layout.counts[items][:, None]
            grid = np.where(valid, layout.starts[items][:, None] + offs, 0)  # rows in layout
            mask = torch.from_numpy(valid)
            take = layout.rows[grid] if keys_cache is not None else grid if at is None else at[grid]
            keys = source[torch.from_numpy(take)]
            result = scorer.score_projected(q, ones, keys, mask)
            relevance[block] = result.goal_relevance.float().numpy()
            # Evidence: the passage (never a document chunk) each facet attends to most.
            every = torch.arange(n_facets).expand(len(block), -1)
            passage = torch.from_numpy(layout.is_passage[grid])
            ev = result.evidence(every, allowed=passage).numpy()  # [B, F]
            ev_rows = grid[np.arange(len(block))[:, None], np.maximum(ev, 0)]
            evidence[block] = np.where(ev >= 0, layout.chunk_ids[ev_rows], -1)
            a = b
    return FacetScores(layout.item_ids[picked], relevance, evidence)


def _rows_of(layout: ChunkLayout, items: np.ndarray) -> np.ndarray:
    """The layout's rows of the items at positions ``items``, in that order."""
    counts = layout.counts[items]
    if not len(items) or not counts.sum():
        return np.zeros(0, np.int64)
    first = np.repeat(layout.starts[items] - np.cumsum(counts) + counts, counts)
    return first + np.arange(int(counts.sum()))


def combine_facets(
    scorer: GoalAttentionScorer,
    facets: FacetScores,
    facet_weights: np.ndarray,
    facet_owner: np.ndarray,
) -> ItemScores:
    """The items' scores from their facets' (``score_facets``): ``facet_weights`` [F] each
    facet's goal's weight, ``facet_owner`` [F] the index of its goal (sorted, 0..G-1).

    Relevance is the scorer's soft maximum over the weighted facets, its best facet the
    one contributing most (``attention.best_goal``); per goal: the best facet's relevance,
    the soft maximum over its own facets, its best facet (``attention.best_in_groups``) and
    that facet's evidence. Every item has chunks (a layout lists none without)."""
    import torch  # noqa: TID253 - rank/ is the one place allowed

    from focusdesk.rank.attention import best_goal, best_in_groups, soft_maximum

    n_goals = int(facet_owner.max()) + 1 if len(facet_owner) else 0
    n = len(facets.item_ids)
    if n == 0 or len(facet_owner) == 0:
        return ItemScores.empty(n_goals)
    temp = float(scorer.config.goal_temperature)
    with one_torch_thread(), torch.inference_mode():
        facet_rel = torch.from_numpy(facets.relevance)  # [N, F]
        weights = torch.from_numpy(facet_weights.astype(np.float32))
        owner = torch.from_numpy(facet_owner.astype(np.int64))
        every = owner.expand(n, -1)
        has_chunks = torch.ones(n, dtype=torch.bool)
        relevance = soft_maximum(facet_rel, weights, temp, has_chunks).numpy()
        # The facet that contributes most to the soft maximum (w * r), and its goal.
        best_f = best_goal(facet_rel, weights, has_chunks).numpy()
        per_goal = torch.full((n, n_goals), -torch.inf).scatter_reduce(
            1, every, facet_rel, reduce="amax"
        )
        # Each goal's soft maximum over its own facets, as the scorer computes R over all
        # of them: T log sum exp(r / T) - T log F_g (max-shifted for stability).
        spread = torch.exp((facet_rel - per_goal.gather(1, every)) / temp)
        sums = torch.zeros((n, n_goals)).scatter_add(1, every, spread)
        facets_per_goal = torch.from_numpy(
            np.bincount(facet_owner, minlength=n_goals).astype(np.float32)
        )
        goal_soft = (per_goal + temp * torch.log(sums) - temp * torch.log(facets_per_goal)).numpy()
        goal_facet = best_in_groups(facet_rel, weights, has_chunks, owner, n_goals).numpy()
    rows = np.arange(n)[:, None]
    goal_evidence = np.where(
        goal_facet >= 0, facets.evidence[rows, np.maximum(goal_facet, 0)], -1
    ).astype(np.int64)
    best_goal_of = facet_owner[best_f]
    return ItemScores(
        facets.item_ids,
        relevance.astype(np.float32),
        per_goal.numpy(),
        best_goal_of.astype(np.int64),
        best_f.astype(np.int64),
        goal_evidence[np.arange(n), best_goal_of],
        goal_soft,
        goal_facet.astype(np.int64),
        goal_evidence,
    )


class FacetCache:
    """The facet scores (``FacetScores``) of the items scored last, kept while what they
    were computed from (``basis``: the scorer, its version, the items' chunks and their
    vectors) is the same.

    A goal edited then scores only its new facets for the items kept, and every facet for
    the items new among those asked for; a weight changed scores no facet of a kept item.
    Facets are told apart by their query vector. ``scored`` counts the (item, facet)
    pairs the last ``get`` scored.
    """

    def __init__(self) -> None:
        self._basis: tuple[object, ...] | None = None
        self._keys: list[bytes] = []
        self._facets: FacetScores | None = None
        self.scored = 0

    def get(
        self,
        basis: tuple[object, ...],
        layout: ChunkLayout,
        queries: np.ndarray,
        score: Callable[[np.ndarray, np.ndarray], FacetScores],
    ) -> FacetScores:
        """The facet scores of ``layout``'s items against ``queries`` [F, d]; ``score``
        (item positions in ``layout``, queries) scores what is not kept."""
        queries = np.ascontiguousarray(queries, np.float32)
        keys = [q.tobytes() for q in queries]
        n, n_facets = len(layout.item_ids), len(queries)
        old = self._facets if self._basis == basis else None
        relevance = np.zeros((n, n_facets), np.float32)
        evidence = np.full((n, n_facets), -1, np.int64)
        kept = np.zeros(n, bool)
        at = np.zeros(n, np.int64)
        column: dict[bytes, int] = {}
        if old is not None and len(old.item_ids) and n:
            at = np.minimum(np.searchsorted(old.item_ids, layout.item_ids), len(old.item_ids) - 1)
            kept = old.item_ids[at] == layout.item_ids
            column = {k: j for j, k in enumerate(self._keys)}
        known = np.asarray([k in column for k in keys], bool).reshape(-1)
        old_items, new_items = np.flatnonzero(kept), np.flatnonzero(~kept)
        cols, new_cols = np.flatnonzero(known), np.flatnonzero(~known)
        self.scored = 0
        if old is not None and len(old_items) and len(cols):
            from_cols = np.asarray([column[keys[j]] for j in cols.tolist()], np.int64)
            src = np.ix_(at[old_items], from_cols)
            relevance[np.ix_(old_items, cols)] = old.relevance[src]
            evidence[np.ix_(old_items, cols)] = old.evidence[src]
        for rows, wanted in ((old_items, new_cols), (new_items, np.arange(n_facets))):
            if len(rows) and len(wanted):
                got = score(rows, queries[wanted])
                relevance[np.ix_(rows, wanted)] = got.relevance
                evidence[np.ix_(rows, wanted)] = got.evidence
                self.scored += len(rows) * len(wanted)
        facets = FacetScores(layout.item_ids, relevance, evidence)
        self._basis, self._keys, self._facets = basis, keys, facets
        return facets

    def clear(self) -> None:
        """Forget the kept scores."""
        self._basis, self._keys, self._facets = None, [], None
