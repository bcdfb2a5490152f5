"""The candidate pass: exact below the threshold, a FAISS net above it, cached keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from focusdesk.app import FocusDesk
from focusdesk.bench.vectors import (
    SyntheticVectors,
    facet_vectors,
    goal_topics,
    synthetic_vectors,
)
from focusdesk.rank import candidates as cand
from focusdesk.rank.attention import GoalAttentionScorer
from focusdesk.rank.candidates import (
    MANIFEST_FILE,
    ApproximateIndex,
    CandidateConfig,
    CandidatePass,
    KeysCache,
    RowKeysCache,
    candidate_queries,
    candidate_recall,
    project_all_keys,
)
from focusdesk.rank.index import VectorIndex
from focusdesk.rank.scoring import ChunkLayout, ItemScores, score_items

DIM = 64


@dataclass
class SyntheticProfile:
    """Clustered vectors (``bench.vectors``), their ids and the layout of items over them."""

    ids: np.ndarray
    vectors: np.ndarray
    layout: ChunkLayout
    generated: SyntheticVectors


@dataclass
class GoalSet:
    queries: np.ndarray
    weights: np.ndarray
    owner: np.ndarray


def synthetic_profile(
    items: int, chunks: int, *, dim: int, topics: int, seed: int
) -> SyntheticProfile:
    v = synthetic_vectors(items, chunks, dim=dim, topics=topics, seed=seed)
    owner = np.repeat(np.arange(items), v.counts)
    slot = np.arange(chunks) - v.starts[owner]
    # As the ranker lists them: each item's document chunk (its last row) first.
    order = np.lexsort(((slot + 1) % v.counts[owner], owner))
    ids = np.arange(chunks, dtype=np.int64)
    is_passage = np.ones(chunks, bool)
    is_passage[(v.starts + v.counts - 1)[v.counts > 1]] = False
    layout = ChunkLayout.from_rows(owner[order] + 1, ids[order], ids[order], is_passage[order])
    return SyntheticProfile(ids, v.vectors, layout, v)


def synthetic_goals(
    profile: SyntheticProfile, goals: int, facets_per_goal: int, rng: np.random.Generator
) -> GoalSet:
    topics = goal_topics(profile.generated, goals, rng)
    facets = facet_vectors(profile.generated, topics, [facets_per_goal] * goals, rng)
    weights = np.repeat(rng.uniform(0.5, 1.5, goals).astype(np.float32), facets_per_goal)
    owner = np.repeat(np.arange(goals, dtype=np.int64), facets_per_goal)
    return GoalSet(np.ascontiguousarray(np.concatenate(facets)), weights, owner)


@pytest.fixture(scope="module")
def profile() -> SyntheticProfile:
    return synthetic_profile(3000, 7500, dim=DIM, topics=30, seed=3)


@pytest.fixture
def index(profile: SyntheticProfile, tmp_path: Path) -> VectorIndex:
    idx = VectorIndex(tmp_path / "index", "test-model", DIM)
    idx.replace(profile.ids, profile.vectors)
    return idx


def _scorer() -> GoalAttentionScorer:
    return GoalAttentionScorer(DIM, heads=4, init_temperature=0.3).eval()


def _one_chunk_items(n: int) -> ChunkLayout:
    """n items of one chunk each, chunk i at row i."""
    rows = np.arange(n)
    return ChunkLayout.from_rows(rows + 1, rows, rows, np.ones(n, bool))


def _scores(ids: list[int], relevance: list[float]) -> ItemScores:
    n = len(ids)
    z = np.zeros(n, np.int64)
    return ItemScores(np.asarray(ids), np.asarray(relevance, np.float32), np.zeros((n, 1)), z, z, z)


def test_recall_counts_the_exhaustive_top_k_found() -> None:
    full = _scores([1, 2, 3, 4], [0.9, 0.8, 0.7, 0.1])
    assert candidate_recall(full, _scores([2, 1, 4], [0.8, 0.9, 0.1]), 2) == 1.0
    assert candidate_recall(full, _scores([1, 3, 4], [0.9, 0.7, 0.1]), 2) == 0.5
    assert candidate_recall(full, _scores([1, 3], [0.9, 0.7]), 10) == 0.5  # k = 4 items
    assert candidate_recall(_scores([], []), _scores([], []), 10) == 1.0


def test_candidates_hold_every_top_item_and_score_it_exactly(
    profile: SyntheticProfile, index: VectorIndex
) -> None:
    scorer = _scorer()
    keys = project_all_keys(scorer, index.vectors)
    goals = synthetic_goals(profile, 3, 2, np.random.default_rng(0))
    full = score_items(
        scorer, profile.layout, index.vectors, goals.queries, goals.weights, goals.owner
    )
    pass_ = CandidatePass(CandidateConfig(exact_below=0, hits=3000, persist=False))
    sub = pass_.select(scorer, profile.layout, index, goals.queries, goals.weights)
    assert 0 < len(sub.item_ids) < len(profile.layout.item_ids)
    found = score_items(
        scorer, sub, index.vectors, goals.queries, goals.weights, goals.owner, keys_cache=keys
    )
    assert candidate_recall(full, found, 100) == 1.0
    assert candidate_recall(full, found, 10) == 1.0
    # Every chunk of a candidate (its document chunk too) is scored: same scores as exhaustive.
    at = np.searchsorted(full.item_ids, found.item_ids)
    assert np.array_equal(full.item_ids[at], found.item_ids)
    np.testing.assert_allclose(found.relevance, full.relevance[at], atol=1e-5)
    assert np.array_equal(found.evidence_chunk, full.evidence_chunk[at])
    assert np.array_equal(
        sub.counts, profile.layout.counts[np.searchsorted(profile.layout.item_ids, sub.item_ids)]
    )


def test_below_the_threshold_every_item_is_scored_exactly(
    profile: SyntheticProfile, index: VectorIndex
) -> None:
    scorer = _scorer()
    goals = synthetic_goals(profile, 2, 1, np.random.default_rng(1))
    pass_ = CandidatePass(CandidateConfig(exact_below=len(index) + 1))
    assert not pass_.needed(index)
    assert pass_.select(scorer, profile.layout, index, goals.queries, goals.weights) is (
        profile.layout
    )
    assert pass_.approx is None  # nothing was built
    full = score_items(
        scorer, profile.layout, index.vectors, goals.queries, goals.weights, goals.owner
    )
    cached = score_items(
        scorer,
        profile.layout,
        index.vectors,
        goals.queries,
        goals.weights,
        goals.owner,
        keys_cache=KeysCache().get(scorer, index.vectors),
    )
    np.testing.assert_allclose(cached.relevance, full.relevance, atol=1e-6)
    assert np.array_equal(cached.evidence_chunk, full.evidence_chunk)


def test_candidate_queries_follow_trained_projections() -> None:
    rng = np.random.default_rng(0)
    scorer = GoalAttentionScorer(DIM, heads=1).eval()
    goals = rng.standard_normal((3, DIM)).astype(np.float32)
    goals /= np.linalg.norm(goals, axis=1, keepdims=True)
    np.testing.assert_allclose(candidate_queries(scorer, goals), goals, atol=1e-6)
    # With a rotation for P_q and P_k one chunk's score is still the cosine, and so is
    # the candidate similarity.
    rotation, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    with torch.no_grad():
        scorer.proj_q.copy_(torch.from_numpy(rotation.astype(np.float32)))
        scorer.proj_k.copy_(torch.from_numpy(rotation.astype(np.float32)))
    chunk = goals[::-1].copy() + 0.5 * goals
    chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
    expected = score_items(
        scorer,
        _one_chunk_items(3),
        chunk,
        goals[:1],
        np.ones(1, np.float32),
        np.zeros(1, np.int64),
    ).relevance
    got = chunk @ candidate_queries(scorer, goals[:1])[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_keys_are_cached_until_vectors_or_scorer_change(index: VectorIndex) -> None:
    cache, scorer = KeysCache(), _scorer()
    keys = cache.get(scorer, index.vectors)
    assert keys.shape == (len(index), 4, DIM // 4)
    assert keys.dtype == np.float32
    assert keys.flags.c_contiguous
    with torch.inference_mode():
        expected = scorer.project_keys(torch.from_numpy(index.vectors[None]))[0].numpy()
    np.testing.assert_allclose(keys, expected, atol=1e-6)
    assert cache.get(scorer, index.vectors) is keys
    assert cache.get(_scorer(), index.vectors) is not keys  # another scorer
    keys = cache.get(scorer, index.vectors)
    index.update(np.zeros(0, np.int64), np.zeros((0, DIM), np.float32), index.ids[:1])
    assert len(cache.get(scorer, index.vectors)) == len(index)  # new vector array
    keys = cache.get(scorer, index.vectors)
    cache.clear()
    assert cache.get(scorer, index.vectors) is not keys


def test_the_candidate_index_is_saved_and_loaded_not_rebuilt(
    index: VectorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = CandidateConfig(exact_below=0)
    built = CandidatePass(config).prepare(index)
    assert (index.folder / MANIFEST_FILE).exists()

    def no_build(*args: object, **kwargs: object) -> ApproximateIndex:
        raise AssertionError("rebuilt instead of loaded")

    monkeypatch.setattr(ApproximateIndex, "build", no_build)
    loaded = CandidatePass(config).prepare(index)
    assert loaded is not built
    assert len(loaded) == len(index)
    assert loaded.nprobe == built.nprobe
    query = index.vectors[:2]
    assert np.array_equal(loaded.search(query, 5)[1], built.search(query, 5)[1])
    monkeypatch.undo()
    # Another set of ids (or another model) does not match what is on disk.
    other = VectorIndex(index.folder, "another-model", DIM)
    other.replace(index.ids, index.vectors)
    assert ApproximateIndex.load(index.folder, "another-model", DIM, other.ids, config) is None
    fewer = index.ids[1:]
    assert ApproximateIndex.load(index.folder, "test-model", DIM, fewer, config) is None


def test_a_small_change_updates_the_candidate_index_in_place(index: VectorIndex) -> None:
    pass_ = CandidatePass(CandidateConfig(exact_below=0, persist=False))
    approx = pass_.prepare(index)
    assert pass_.prepare(index) is approx  # same vectors: nothing to do
    new = -index.vectors[:1]  # a vector far from every other
    removed = index.ids[10:20]
    index.update(np.array([10**9]), new, removed)
    assert pass_.prepare(index) is approx
    assert len(approx) == len(index)
    assert not np.isin(removed, approx.ids).any()
    approx.faiss_index.nprobe = approx.nlist
    _, found = approx.search(new, 1)
    assert found[0, 0] == 10**9
    # Half the vectors replaced: the lists are trained again.
    index.update(np.zeros(0, np.int64), np.zeros((0, DIM), np.float32), index.ids[::2])
    assert pass_.prepare(index) is not approx


def test_ranking_uses_the_cached_keys_and_drops_them_when_told(
    fd: FocusDesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    for n, text in enumerate(
        [
            "# OTA\n\nSigned OTA firmware updates with rollback for the sensor.",
            "# BLE\n\nBLE firmware disconnects during OTA updates on old phones.",
            "# Soup\n\nLeek and potato soup.",
            "# Bike\n\nNew chain for the bike.\n\nAnd new brake pads for the winter.",
        ]
    ):
        (vault / f"{n}.md").write_text(text)
    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    fd.goals.add("OTA firmware updates for the sensor")
    projections: list[int] = []
    real = cand.project_all_keys

    def counting(scorer: GoalAttentionScorer, vectors: np.ndarray) -> np.ndarray:
        projections.append(len(vectors))
        return real(scorer, vectors)

    monkeypatch.setattr(cand, "project_all_keys", counting)

    def ranked() -> list[tuple[int, float]]:
        # Relevance, not the score: the recency prior moves with the clock.
        return [(r.item_id, round(r.relevance, 5)) for r in fd.ranking.rank(None)]

    exact = ranked()
    assert ranked() == exact
    assert len(projections) == 1
    fd.ranker.scorer_changed()
    assert ranked() == exact
    assert len(projections) == 2
    fd.ranker.invalidate()
    assert ranked() == exact
    assert len(projections) == 3
    # Forced through the candidate pass, the tiny profile ranks the same, and only the
    # candidates' chunks are projected (their keys, not every chunk's, are kept).
    fd.ranker._candidate_pass = CandidatePass(CandidateConfig(exact_below=0, hits=100))
    fd.ranker.forget_scores()  # else every item's facet scores are kept: none is scored
    assert ranked() == exact
    assert len(projections) == 4
    assert projections[3] == len(fd.ranker.layout().rows)  # every note is a candidate here
    fd.ranker.forget_scores()
    assert ranked() == exact
    assert len(projections) == 4


def test_shallow_first_search_keeps_the_same_hits_as_a_full_depth_one(
    profile: SyntheticProfile, index: VectorIndex
) -> None:
    scorer = _scorer()
    goals = synthetic_goals(profile, 3, 2, np.random.default_rng(2))
    weights = np.full(len(goals.queries), 0.2, np.float32)
    weights[0] = 3.0  # one facet dominates
    config = CandidateConfig(exact_below=0, hits=1200, min_hits_per_query=5, persist=False)
    pass_ = CandidatePass(config)
    approx = pass_.prepare(index)
    queries = candidate_queries(scorer, goals.queries)
    got = np.sort(pass_._hits(approx, queries, weights))
    sims, ids = approx.search(queries, config.hits)
    weighted = np.where(ids >= 0, sims * weights[:, None], -np.inf)
    best = np.sort(weighted.ravel())[-config.hits]
    keep = (weighted >= best) & (ids >= 0)
    keep[:, :5] |= ids[:, :5] >= 0
    assert np.array_equal(got, np.sort(ids[keep]))
    # The dominant facet needed more than the shallow search gave it.
    assert keep[0].sum() > 4 * config.hits / len(queries)


def test_ranking_given_items_scores_exactly_those_past_the_candidate_pass(
    fd: FocusDesk, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    texts = {
        "ota": "# OTA\n\nSigned OTA firmware updates with rollback for the sensor.",
        "ble": "# BLE\n\nBLE firmware disconnects during OTA updates on old phones.",
        "soup": "# Soup\n\nLeek and potato soup.",
        "bike": "# Bike\n\nNew chain for the bike.",
    }
    for name, text in texts.items():
        (vault / f"{name}.md").write_text(text)
    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    fd.goals.add("OTA firmware updates for the sensor")
    ids = {r.title: r.item_id for r in fd.ranking.rank(None)}
    # A candidate net so narrow that the unrelated notes fall through it.
    fd.ranker._candidate_pass = CandidatePass(
        CandidateConfig(exact_below=0, hits=1, min_hits_per_query=1)
    )
    assert {r.title for r in fd.ranking.rank(None)} <= {"OTA", "BLE"}
    # A review of a period asks for its items: every one is scored, none filtered.
    wanted = {ids["Soup"], ids["Bike"], ids["BLE"]}
    got = fd.ranking.rank(None, item_ids=wanted)
    assert {r.item_id for r in got} == wanted
    assert [r.title for r in got][0] == "BLE"


def test_row_keys_are_projected_once_while_scorer_and_vectors_stay(
    profile: SyntheticProfile,
) -> None:
    scorer, vectors = _scorer(), profile.vectors
    with torch.no_grad():
        scorer.proj_k.add_(0.1 * torch.randn(DIM, DIM, generator=torch.Generator().manual_seed(4)))
    cache = RowKeysCache()

    def check(rows: list[int], projected: int, scorer: GoalAttentionScorer = scorer) -> None:
        got = cache.get(scorer, vectors, np.asarray(rows))
        want = project_all_keys(scorer, vectors[rows])
        np.testing.assert_allclose(got, want, atol=1e-6)
        assert cache.projected == projected

    check([5, 1, 9, 3], 4)
    check([9, 2, 5], 1)  # 9 and 5 were kept: only 2 is projected
    check([2, 9], 0)
    check([2, 9], 2, scorer=_scorer())  # another scorer: projected again
    check([2, 9], 2)
    cache.clear()
    check([2, 9], 2)
    vectors = vectors.copy()  # new vectors (the index changed): projected again
    check([2, 9], 2)


def test_kept_row_keys_are_looked_up_in_place_and_only_new_rows_projected(
    profile: SyntheticProfile,
) -> None:
    scorer, vectors = _scorer(), profile.vectors
    cache = RowKeysCache()
    keys, at = cache.lookup(scorer, vectors, np.asarray([5, 1, 9, 3]))
    assert cache.projected == 4
    np.testing.assert_allclose(keys[at], project_all_keys(scorer, vectors[[5, 1, 9, 3]]))
    again, at = cache.lookup(scorer, vectors, np.asarray([9, 5, 9]))
    assert cache.projected == 0
    assert again is keys  # nothing new: the cache's own array, no copy
    np.testing.assert_allclose(again[at], project_all_keys(scorer, vectors[[9, 5, 9]]))
    grown, at = cache.lookup(scorer, vectors, np.asarray([2, 9]))
    assert cache.projected == 1
    np.testing.assert_allclose(grown[at], project_all_keys(scorer, vectors[[2, 9]]), atol=1e-6)
    # Far fewer rows than are kept: the old ones go.
    _, at = cache.lookup(scorer, vectors, np.asarray([7]))
    assert cache.projected == 1
    assert len(cache.lookup(scorer, vectors, np.asarray([7]))[0]) <= cand.KEEP_FACTOR


def test_a_goal_edit_past_the_candidate_pass_projects_no_chunk_again(
    fd: FocusDesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    texts = [
        "# OTA\n\nSigned OTA firmware updates with rollback for the sensor.",
        "# BLE\n\nBLE firmware disconnects during OTA updates on old phones.",
        "# Soup\n\nLeek and potato soup.\n\nWith bread and butter.",
        "# Bike\n\nNew chain for the bike.",
    ]
    for n, text in enumerate(texts):
        (vault / f"{n}.md").write_text(text)
    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    ota = fd.goals.add("OTA firmware updates for the sensor")
    ranker = fd.ranker
    ranker._candidate_pass = CandidatePass(CandidateConfig(exact_below=0, hits=100))
    projected: list[int] = []
    real = GoalAttentionScorer.project_keys

    def counting(
        self: GoalAttentionScorer, chunks: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        projected.append(chunks.shape[0] * chunks.shape[1])
        return real(self, chunks, mask)

    monkeypatch.setattr(GoalAttentionScorer, "project_keys", counting)

    def ranked() -> list[tuple[int, float, int | None, tuple[int, int] | None]]:
        # Relevance, not the score: the recency prior moves with the clock.
        return [
            (r.item_id, round(r.relevance, 5), r.goal_id, r.evidence_span)
            for r in fd.ranking.rank(None)
        ]

    ranked()
    assert sum(projected) == len(ranker.layout().rows)  # each chunk once, none padded
    projected.clear()
    fd.goals.update(ota.id, description="and the BLE disconnects on old phones")
    fd.goals.add("leek and potato soup")
    edited = ranked()
    assert sum(projected) == 0  # the goals changed, not the chunks' keys
    ranker.scorer_changed()  # what training does: every key is projected again
    assert ranked() == edited
    assert sum(projected) == len(ranker.layout().rows)
    projected.clear()
    ranker.invalidate()  # what a sync does
    assert ranked() == edited
    assert sum(projected) == len(ranker.layout().rows)
    projected.clear()
    ranker.forget_scores()
    assert ranked() == edited
    assert sum(projected) == 0
    ranker.forget_scores(keys=True)  # what the benchmark's "reprojected" figure times
    assert ranked() == edited
    assert sum(projected) == len(ranker.layout().rows)


def test_kept_hits_are_those_a_search_of_every_query_at_once_gives(
    profile: SyntheticProfile, index: VectorIndex
) -> None:
    pass_ = CandidatePass(CandidateConfig(exact_below=0, persist=False))
    approx = pass_.prepare(index)
    goals = synthetic_goals(profile, 4, 3, np.random.default_rng(5))
    queries = candidate_queries(_scorer(), goals.queries)
    want_sims, want_ids = approx.search(queries, 50)
    pass_._search(approx, queries[:5], 50, {})  # a pass that searched five of them
    kept = dict(pass_._searched)
    pass_.searches = 0
    sims, ids = pass_._search(approx, queries, 50, kept)
    assert pass_.searches == len(queries) - 5  # only the others were searched
    assert np.array_equal(ids, want_ids)
    assert np.array_equal(sims, want_sims)
    pass_.searches = 0
    pass_._search(approx, queries, 40, dict(pass_._searched))  # another depth: searched
    assert pass_.searches == len(queries)


def test_the_nth_largest_hit_counts_every_slot_of_the_hits_table() -> None:
    rng = np.random.default_rng(7)
    table = np.full((6, 50), -np.inf, np.float32)
    table[:, :8] = rng.standard_normal((6, 8))  # 48 finite hits, the rest none
    table[2, 8:20] = rng.standard_normal(12)  # one row searched deeper: 60 in all
    ordered = np.sort(table.ravel())[::-1]
    for n in (1, 5, 59, 60):
        assert cand._nth_largest(table, n) == ordered[n - 1]
    assert cand._nth_largest(table, 61) == -np.inf  # fewer hits than n
    assert cand._nth_largest(table, 300) == -np.inf  # no more slots than n
