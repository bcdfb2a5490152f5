"""Array-level scoring: the best goal and the evidence the ranker shows are the
attention layer's own (``ScoreResult.best_goal`` / ``best_in_groups`` / ``evidence``)."""

from __future__ import annotations

import numpy as np
import torch

from focusdesk.rank.attention import GoalAttentionScorer
from focusdesk.rank.scoring import ChunkLayout, ItemScores, score_items, torch_threads

DIM = 16


def _orthonormal(n: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((DIM, DIM)))
    return q.T[:n].astype(np.float32)


def test_score_items_shows_the_attention_layers_best_goal_and_evidence() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4).eval()
    with torch.no_grad():
        for p in scorer.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    rng = np.random.default_rng(2)
    counts = np.asarray([1, 4, 2, 6, 3])
    n_chunks = int(counts.sum())
    vectors = rng.standard_normal((n_chunks, DIM)).astype(np.float32)
    item_of = np.repeat(np.arange(5), counts) + 100
    # The first chunk of each item is its document chunk: scored, never evidence.
    first = np.r_[0, np.cumsum(counts)[:-1]]
    is_passage = np.ones(n_chunks, bool)
    is_passage[first] = False
    layout = ChunkLayout.from_rows(
        item_of, np.arange(n_chunks) + 1000, np.arange(n_chunks), is_passage
    )
    queries = rng.standard_normal((5, DIM)).astype(np.float32)
    owner = np.asarray([0, 0, 1, 2, 2])
    weights = np.asarray([1.0, 1.0, 0.6, 0.8, 0.8], np.float32)
    got = score_items(scorer, layout, vectors, queries, weights, owner)

    for i in range(5):
        rows = np.arange(layout.starts[i], layout.starts[i] + counts[i])
        chunk = torch.from_numpy(vectors[layout.rows[rows]])[None]
        with torch.no_grad():
            want = scorer(
                torch.from_numpy(queries),
                torch.from_numpy(weights),
                chunk,
                torch.ones(1, len(rows), dtype=torch.bool),
            )
        allowed = torch.from_numpy(is_passage[rows])[None]
        assert got.best_facet[i] == int(want.best_goal()[0])
        facets = want.best_in_groups(torch.from_numpy(owner), 3)
        assert got.goal_facet is not None
        assert got.goal_evidence is not None
        assert got.goal_facet[i].tolist() == facets[0].tolist()
        ev = want.evidence(facets, allowed)[0]
        ids = layout.chunk_ids[rows]
        expect = [int(ids[e]) if e >= 0 else -1 for e in ev.tolist()]
        assert got.goal_evidence[i].tolist() == expect
        assert got.evidence_chunk[i] == expect[owner[got.best_facet[i]]]
    assert got.evidence_chunk[0] == -1  # an item with only its document chunk


def test_a_document_chunk_equal_to_the_goal_is_never_the_evidence() -> None:
    scorer = GoalAttentionScorer(DIM, heads=1).eval()
    basis = _orthonormal(4, seed=3)
    goal = basis[:1]
    # Document chunk = the goal; passage 1 half the goal; passage 2 unrelated.
    vectors = np.stack([goal[0], (goal[0] + basis[1]) / np.sqrt(2), basis[2]])
    layout = ChunkLayout.from_rows(
        np.asarray([7, 7, 7]), np.asarray([70, 71, 72]), np.arange(3), np.asarray([0, 1, 1], bool)
    )
    got = score_items(scorer, layout, vectors, goal, np.ones(1, np.float32), np.zeros(1, np.int64))
    assert got.best_goal.tolist() == [0]
    assert got.evidence_chunk.tolist() == [71]


def _mixed_layout(counts: list[int]) -> tuple[ChunkLayout, np.ndarray]:
    """Items 0..n-1 with these chunk counts (the first chunk of each its document chunk)."""
    n_chunks = sum(counts)
    vectors = np.random.default_rng(5).standard_normal((n_chunks, DIM)).astype(np.float32)
    item_of = np.repeat(np.arange(len(counts)), counts)
    is_passage = np.ones(n_chunks, bool)
    is_passage[np.r_[0, np.cumsum(counts)[:-1]]] = False
    layout = ChunkLayout.from_rows(
        item_of, np.arange(n_chunks) + 500, np.arange(n_chunks), is_passage
    )
    return layout, vectors


class _Spy:
    """Wraps ``scorer.score_projected``: records each block's mask and torch's threads."""

    def __init__(self, scorer: GoalAttentionScorer) -> None:
        self.real = scorer.score_projected
        self.masks: list[torch.Tensor] = []
        self.threads: list[int] = []
        scorer.score_projected = self  # type: ignore[method-assign]

    def __call__(self, *args: torch.Tensor) -> object:
        self.masks.append(args[3].clone())
        self.threads.append(torch.get_num_threads())
        return self.real(*args)


def _score(scorer: GoalAttentionScorer, layout: ChunkLayout, vectors: np.ndarray) -> ItemScores:
    queries = np.random.default_rng(6).standard_normal((3, DIM)).astype(np.float32)
    owner = np.asarray([0, 0, 1])
    return score_items(scorer, layout, vectors, queries, np.ones(3, np.float32), owner)


def test_items_are_scored_in_blocks_of_one_chunk_count_and_as_if_alone() -> None:
    scorer = GoalAttentionScorer(DIM, heads=2).eval()
    counts = [1, 4, 2, 6, 3, 4, 1, 2]
    layout, vectors = _mixed_layout(counts)
    spy = _Spy(scorer)
    got = _score(scorer, layout, vectors)
    assert all(bool(m.all()) for m in spy.masks)  # nothing padded
    assert sorted(m.shape[1] for m in spy.masks) == sorted(set(counts))
    for i in range(len(counts)):
        alone = _score(scorer, layout.subset(np.arange(len(counts)) == i), vectors)
        np.testing.assert_allclose(got.relevance[i], alone.relevance[0], atol=1e-6)
        np.testing.assert_allclose(got.per_goal[i], alone.per_goal[0], atol=1e-6)
        assert got.goal_evidence is not None
        assert alone.goal_evidence is not None
        assert got.goal_evidence[i].tolist() == alone.goal_evidence[0].tolist()
        assert got.best_facet[i] == alone.best_facet[0]


def test_a_small_scoring_runs_on_one_torch_thread_and_restores_the_count() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        scorer = GoalAttentionScorer(DIM, heads=2).eval()
        layout, vectors = _mixed_layout([3, 1, 2])
        spy = _Spy(scorer)
        _score(scorer, layout, vectors)
        assert spy.threads
        assert set(spy.threads) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_overlapping_thread_settings_give_back_the_count_when_the_last_leaves() -> None:
    """Training in one thread and scoring in another each ask for one torch thread: the
    first to leave must not restore two under the other, nor the last leave one."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        training, scoring = torch_threads(1), torch_threads(1)
        training.__enter__()
        scoring.__enter__()
        training.__exit__(None, None, None)
        assert torch.get_num_threads() == 1  # scoring is still running
        scoring.__exit__(None, None, None)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_subset_keeps_each_kept_items_rows_in_order() -> None:
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 9, 200)
    items = np.repeat(np.arange(200) * 3 + 1, counts)
    n = len(items)
    layout = ChunkLayout.from_rows(
        items, np.arange(n) + 100, rng.permutation(n), rng.random(n) > 0.2
    )
    for keep in (rng.random(200) > 0.5, np.zeros(200, bool), np.ones(200, bool)):
        sub = layout.subset(keep)
        idx = np.flatnonzero(keep)
        rows = [
            r for i in idx for r in range(layout.starts[i], layout.starts[i] + layout.counts[i])
        ]
        assert sub.item_ids.tolist() == layout.item_ids[idx].tolist()
        assert sub.counts.tolist() == layout.counts[idx].tolist()
        assert sub.chunk_ids.tolist() == layout.chunk_ids[rows].tolist()
        assert sub.rows.tolist() == layout.rows[rows].tolist()
        assert sub.is_passage.tolist() == layout.is_passage[rows].tolist()
        assert sub.starts.tolist() == (np.cumsum(sub.counts) - sub.counts).tolist()
