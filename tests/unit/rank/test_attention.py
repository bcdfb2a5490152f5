"""Invariants of the goal attention scorer, at tiny sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from focusdesk.rank.attention import GoalAttentionScorer, ScorerConfig, ScoreResult

DIM = 16


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen(seed))


def _perturb(scorer: GoalAttentionScorer, seed: int, scale: float = 0.3) -> None:
    """Move every parameter away from its untrained value, as training would."""
    gen = _gen(seed)
    with torch.no_grad():
        for p in scorer.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))


def _score(
    scorer: GoalAttentionScorer,
    goals: torch.Tensor,
    chunks: torch.Tensor,
    mask: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> ScoreResult:
    if mask is None:
        mask = torch.ones(chunks.shape[:2], dtype=torch.bool)
    if weights is None:
        weights = torch.ones(goals.shape[0])
    result: ScoreResult = scorer(goals, weights, chunks, mask)
    return result


def _assert_same(a: ScoreResult, b: ScoreResult, atol: float = 1e-6) -> None:
    for name in ("relevance", "goal_relevance", "head_relevance", "attention"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name), atol=atol, rtol=0)


def _orthonormal(n: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(_randn(DIM, DIM, seed=seed))
    return q.T[:n]


# -- configuration --------------------------------------------------------------


def test_heads_must_divide_dim() -> None:
    with pytest.raises(ValueError, match="divide"):
        GoalAttentionScorer(10, heads=4)
    with pytest.raises(ValueError, match="init_temperature"):
        GoalAttentionScorer(8, heads=2, init_temperature=0.0)
    with pytest.raises(ValueError, match="goal_temperature"):
        GoalAttentionScorer(8, heads=2, goal_temperature=-1.0)


def test_config_dict_round_trip() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4, init_temperature=0.2, goal_temperature=0.1)
    config = scorer.get_config_dict()
    assert config == {
        "dim": DIM,
        "heads": 4,
        "init_temperature": 0.2,
        "goal_temperature": 0.1,
    }
    assert GoalAttentionScorer.from_config(config).config == scorer.config
    assert GoalAttentionScorer.from_config(ScorerConfig(DIM, 2)).config.heads == 2


def test_untrained_state_and_reset() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4, init_temperature=0.1)
    torch.testing.assert_close(scorer.proj_q.detach(), torch.eye(DIM))
    torch.testing.assert_close(scorer.temperatures.detach(), torch.full((4,), 0.1))
    torch.testing.assert_close(scorer.head_weights.detach(), torch.full((4,), 0.25))
    fresh = {k: v.clone() for k, v in scorer.state_dict().items()}
    _perturb(scorer, seed=1)
    assert not torch.equal(scorer.proj_k, fresh["proj_k"])
    scorer.reset_parameters()
    for name, value in scorer.state_dict().items():
        assert torch.equal(value, fresh[name]), name


# -- (a), (f): the untrained scorer is cosine similarity -------------------------


@pytest.mark.parametrize("seed", range(5))
def test_one_head_one_chunk_is_cosine(seed: int) -> None:
    scorer = GoalAttentionScorer(DIM, heads=1)
    goal = _randn(1, DIM, seed=seed)
    chunks = _randn(6, 1, DIM, seed=seed + 100)
    result = _score(scorer, goal, chunks)
    expected = F.cosine_similarity(chunks[:, 0], goal, dim=-1)
    torch.testing.assert_close(result.relevance, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("heads", [1, 2, 4, 8])
def test_chunk_equal_to_goal_scores_one(heads: int) -> None:
    scorer = GoalAttentionScorer(DIM, heads=heads)
    goal = _randn(1, DIM, seed=heads)
    result = _score(scorer, goal, goal[None].clone())
    torch.testing.assert_close(result.relevance, torch.ones(1), atol=1e-5, rtol=0)
    torch.testing.assert_close(result.head_relevance, torch.ones(1, 1, heads), atol=1e-5, rtol=0)


def test_soft_maximum_over_goals() -> None:
    scorer = GoalAttentionScorer(DIM, heads=2)
    goals = _randn(3, DIM, seed=7)
    chunks = _randn(4, 3, DIM, seed=8)
    alone = _score(scorer, goals[:1], chunks)
    # Goals of weight 0 are excluded.
    excluded = _score(scorer, goals, chunks, weights=torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(excluded.relevance, alone.relevance, atol=1e-6, rtol=0)
    # Equal goals give that goal's value.
    twice = _score(scorer, goals[[0, 0]], chunks)
    torch.testing.assert_close(twice.relevance, alone.relevance, atol=1e-6, rtol=0)
    # One goal of weight w gives w * r.
    halved = _score(scorer, goals[:1], chunks, weights=torch.tensor([0.5]))
    torch.testing.assert_close(halved.relevance, 0.5 * alone.relevance, atol=1e-6, rtol=0)
    # The soft maximum lies between the mean and the maximum of w_j r_j.
    both = _score(scorer, goals, chunks)
    assert torch.all(both.relevance <= both.goal_relevance.max(dim=-1).values + 1e-6)
    assert torch.all(both.relevance >= both.goal_relevance.mean(dim=-1) - 1e-6)


def test_no_goals_is_an_error() -> None:
    scorer = GoalAttentionScorer(DIM, heads=2)
    chunks = _randn(2, 3, DIM, seed=0)
    with pytest.raises(ValueError, match="without goals"):
        _score(scorer, torch.empty(0, DIM), chunks, weights=torch.empty(0))
    with pytest.raises(ValueError, match="weight 0"):
        _score(scorer, _randn(2, DIM, seed=1), chunks, weights=torch.zeros(2))


# -- (b), (c), (h): order, padding and batch do not matter ------------------------


def test_chunk_order_does_not_matter() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4)
    _perturb(scorer, seed=3)
    goals = _randn(2, DIM, seed=4)
    chunks = _randn(3, 5, DIM, seed=5)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 1, 0], [0, 0, 1, 0, 0]], dtype=torch.bool)
    perm = torch.tensor([3, 0, 4, 2, 1])
    base = _score(scorer, goals, chunks, mask)
    permuted = _score(scorer, goals, chunks[:, perm], mask[:, perm])
    torch.testing.assert_close(permuted.relevance, base.relevance, atol=1e-6, rtol=0)
    torch.testing.assert_close(permuted.attention, base.attention[..., perm], atol=1e-6, rtol=0)


@pytest.mark.parametrize("garbage", ["random", "huge", "nan_inf"])
def test_padding_does_not_change_any_score(garbage: str) -> None:
    scorer = GoalAttentionScorer(DIM, heads=4)
    _perturb(scorer, seed=6)
    goals = _randn(3, DIM, seed=7)
    chunks = _randn(2, 3, DIM, seed=8)
    pad = _randn(2, 4, DIM, seed=9)
    if garbage == "huge":
        pad = pad * 1e6
    elif garbage == "nan_inf":
        pad[0, 0, 0] = float("nan")
        pad[1, 2, 3] = float("inf")
    padded = torch.cat([chunks, pad], dim=1)
    mask = torch.cat([torch.ones(2, 3), torch.zeros(2, 4)], dim=1).bool()
    base = _score(scorer, goals, chunks)
    result = _score(scorer, goals, padded, mask)
    torch.testing.assert_close(result.relevance, base.relevance, atol=1e-6, rtol=0)
    torch.testing.assert_close(result.goal_relevance, base.goal_relevance, atol=1e-6, rtol=0)
    torch.testing.assert_close(result.head_relevance, base.head_relevance, atol=1e-6, rtol=0)
    torch.testing.assert_close(result.attention[..., :3], base.attention, atol=1e-6, rtol=0)
    assert torch.all(result.attention[..., 3:] == 0)


def test_batch_independence() -> None:
    scorer = GoalAttentionScorer(DIM, heads=2)
    _perturb(scorer, seed=10)
    goals = _randn(2, DIM, seed=11)
    weights = torch.tensor([1.0, 0.6])
    counts = [4, 1, 0, 2]
    chunks = _randn(len(counts), 4, DIM, seed=12)
    mask = torch.arange(4)[None, :] < torch.tensor(counts)[:, None]
    together = _score(scorer, goals, chunks, mask, weights)
    for i, n in enumerate(counts):
        alone = _score(scorer, goals, chunks[i : i + 1, :n], weights=weights)
        torch.testing.assert_close(
            together.relevance[i : i + 1], alone.relevance, atol=1e-6, rtol=0
        )
        torch.testing.assert_close(
            together.attention[i : i + 1, ..., :n], alone.attention, atol=1e-6, rtol=0
        )


# -- empty items ------------------------------------------------------------------


def test_item_without_chunks_scores_zero() -> None:
    scorer = GoalAttentionScorer(DIM, heads=2)
    goals = _randn(2, DIM, seed=13)
    chunks = _randn(2, 3, DIM, seed=14)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    result = _score(scorer, goals, chunks, mask)
    assert result.relevance[1] == 0
    assert torch.all(result.attention[1] == 0)
    assert torch.all(result.goal_relevance[1] == 0)
    assert result.best_goal()[1] == -1
    assert result.evidence()[1] == -1
    assert result.evidence()[0] in (0, 1)
    # A batch with no chunk columns at all.
    none = _score(scorer, goals, torch.empty(2, 0, DIM), torch.zeros(2, 0, dtype=torch.bool))
    assert torch.equal(none.relevance, torch.zeros(2))
    assert torch.equal(none.evidence(), torch.full((2,), -1))


# -- (d): explanation ---------------------------------------------------------------


def test_evidence_is_the_chunk_equal_to_the_goal() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4)
    basis = _orthonormal(6, seed=15)
    goals = basis[:2]
    # Item 0: chunk 2 is goal 1, the others are orthogonal to both goals.
    # Item 1: chunk 0 is goal 0 (scaled), chunk 1 is padding that equals goal 1.
    chunks = torch.stack(
        [
            torch.stack([basis[2], basis[3], goals[1], basis[4]]),
            torch.stack([3.0 * goals[0], goals[1], basis[5], basis[5]]),
        ]
    )
    mask = torch.tensor([[True, True, True, True], [True, False, True, True]])
    result = _score(scorer, goals, chunks, mask)
    assert result.best_goal().tolist() == [1, 0]
    assert result.evidence().tolist() == [2, 0]


def test_evidence_is_argmax_of_best_goal_head_mixed_attention() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4)
    _perturb(scorer, seed=16)
    goals = _randn(3, DIM, seed=17)
    weights = torch.tensor([1.0, 0.5, 0.0])
    chunks = _randn(5, 6, DIM, seed=18)
    mask = torch.rand(5, 6, generator=_gen(19)) < 0.7
    mask[:, 0] = True
    result = _score(scorer, goals, chunks, mask, weights)
    best = result.best_goal()
    evidence = result.evidence()
    beta = scorer.head_weights.detach()
    for i in range(5):
        contrib = weights * result.goal_relevance[i]
        assert best[i] == int(torch.argmax(contrib[:2]))
        mixed = (result.attention[i, best[i]] * beta[:, None]).sum(0)
        assert evidence[i] == int(torch.argmax(mixed))
        assert mask[i, evidence[i]]


def test_evidence_for_given_goals_among_allowed_chunks() -> None:
    """The ranker's form (``rank/scoring.py``): a goal per item or several, and only
    passages allowed (a document chunk scores but is never the evidence)."""
    scorer = GoalAttentionScorer(DIM, heads=4)
    basis = _orthonormal(6, seed=40)
    goals = basis[:3]
    # Item 0: chunk 0 is goal 1 (not allowed), chunk 1 is goal 2, chunk 2 half goal 1.
    # Item 1: only a not-allowed chunk. Item 2: no chunk at all.
    chunks = torch.stack(
        [
            torch.stack([goals[1], goals[2], goals[1] + basis[3]]),
            torch.stack([goals[0], basis[4], basis[5]]),
            torch.stack([basis[4], basis[4], basis[4]]),
        ]
    )
    mask = torch.tensor([[True, True, True], [True, False, False], [False, False, False]])
    allowed = torch.tensor([[False, True, True], [False, True, True], [True, True, True]])
    result = _score(scorer, goals, chunks, mask)
    # Item 0's best goal is 2 (one chunk is exactly it; goal 1 shares its attention with
    # the half-matching chunk 2); item 1's real chunk may be evidence when not restricted.
    assert result.best_goal().tolist() == [2, 0, -1]
    assert result.evidence().tolist() == [1, 0, -1]
    picks = torch.tensor([[1, 2], [0, -1], [0, 1]])
    assert result.evidence(picks, allowed=allowed).tolist() == [[2, 1], [-1, -1], [-1, -1]]
    # One goal per item is the same as a column of several.
    assert result.evidence(picks[:, 0], allowed).tolist() == [2, -1, -1]
    assert torch.equal(result.evidence(result.best_goal()), result.evidence())


def test_best_in_groups_is_each_groups_best_goal() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4)
    _perturb(scorer, seed=41)
    goals = _randn(5, DIM, seed=42)
    weights = torch.tensor([1.0, 1.0, 0.5, 0.5, 0.0])
    owner = torch.tensor([0, 0, 1, 1, 2])  # group 2 has only a goal of weight 0
    chunks = _randn(4, 3, DIM, seed=43)
    mask = torch.ones(4, 3, dtype=torch.bool)
    mask[3] = False
    result = _score(scorer, goals, chunks, mask, weights)
    best = result.best_in_groups(owner, 3)
    contrib = weights * result.goal_relevance
    for i in range(3):
        for g, cols in enumerate(([0, 1], [2, 3])):
            assert best[i, g] == cols[int(torch.argmax(contrib[i, cols]))]
        assert best[i, 2] == -1
        assert best[i, owner[result.best_goal()[i]]] == result.best_goal()[i]
    assert best[3].tolist() == [-1, -1, -1]


def test_matches_scaled_dot_product_attention() -> None:
    """r_{j,h} = <q, sum_c a_c k_c> as DESIGN.md writes it with SDPA."""
    scorer = GoalAttentionScorer(DIM, heads=4)
    _perturb(scorer, seed=20)
    goals = _randn(3, DIM, seed=21)
    chunks = _randn(4, 5, DIM, seed=22)
    mask = torch.rand(4, 5, generator=_gen(23)) < 0.6
    mask[:, 0] = True
    result = _score(scorer, goals, chunks, mask)
    with torch.no_grad():
        q = scorer.project_goals(goals).transpose(0, 1)  # [H, G, e]
        k = scorer.project_keys(chunks, mask).permute(0, 2, 1, 3)  # [B, H, C, e]
        q_scaled = (q / scorer.temperatures[:, None, None]).expand(4, -1, -1, -1)
        o = F.scaled_dot_product_attention(
            q_scaled, k, k, attn_mask=mask[:, None, None, :], scale=1.0
        )
        r = (q[None] * o).sum(-1).permute(0, 2, 1)  # [B, G, H]
    torch.testing.assert_close(result.head_relevance, r, atol=1e-5, rtol=0)


# -- cached keys, (e) save/load, (i) gradients -------------------------------------


def test_precomputed_keys_give_the_same_scores() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4)
    _perturb(scorer, seed=24)
    goals = _randn(2, DIM, seed=25)
    weights = torch.tensor([1.0, 0.3])
    chunks = _randn(3, 4, DIM, seed=26)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], dtype=torch.bool)
    keys = scorer.project_keys(chunks, mask)
    assert keys.shape == (3, 4, 4, DIM // 4)
    cached = scorer.score_projected(scorer.project_goals(goals), weights, keys, mask)
    _assert_same(cached, _score(scorer, goals, chunks, mask, weights), atol=0.0)
    # Cached keys gathered with garbage at padded positions score the same.
    dirty = keys.clone()
    dirty[~mask] = float("nan")
    dirty[0, 3, 1, 0] = float("inf")
    from_dirty = scorer.score_projected(scorer.project_goals(goals), weights, dirty, mask)
    _assert_same(from_dirty, cached, atol=0.0)


def test_save_load_round_trip() -> None:
    """Saved as part of the ranking model's file form (``rank/model.py``)."""
    from focusdesk.rank.model import RankingModel

    scorer = GoalAttentionScorer(DIM, heads=4, init_temperature=0.2, goal_temperature=0.1)
    _perturb(scorer, seed=27)
    model = RankingModel.untrained(scorer)
    assert json.loads(model.config_bytes())["scorer"]["heads"] == 4
    loaded = RankingModel.from_bytes(model.config_bytes(), model.weights_bytes()).scorer
    assert loaded.config == scorer.config
    goals = _randn(2, DIM, seed=28)
    chunks = _randn(3, 4, DIM, seed=29)
    mask = torch.rand(3, 4, generator=_gen(30)) < 0.7
    _assert_same(_score(loaded, goals, chunks, mask), _score(scorer, goals, chunks, mask), 0.0)


def test_a_scorer_saved_before_the_ranking_model_loads() -> None:
    """``load`` reads the layout of older versions: config.json + model.safetensors."""
    folder = Path(__file__).parents[2] / "data" / "models" / "legacy_v0001"
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.safetensors",
        "priors.json",
    ]
    loaded = GoalAttentionScorer.load(folder)
    assert loaded.config == ScorerConfig(64, 4, 0.3, 0.05)
    assert loaded.proj_q.shape == (64, 64)
    assert not torch.equal(loaded.proj_q, torch.eye(64))  # the trained values, not a default


def test_gradients_reach_every_parameter() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4)
    goals = _randn(2, DIM, seed=31)
    chunks = _randn(3, 4, DIM, seed=32)
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)
    result = _score(scorer, goals, chunks, mask, torch.tensor([1.0, 0.5]))
    # A pairwise-style loss: item 1 should outrank item 0.
    loss = F.softplus(result.relevance[0] - result.relevance[1]) + result.relevance.sum()
    loss.backward()
    for name, p in scorer.named_parameters():
        assert p.grad is not None, name
        assert torch.all(torch.isfinite(p.grad)), name
        assert p.grad.abs().sum() > 0, name


# -- (g): bounds and finiteness for arbitrary inputs --------------------------------


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    batch=st.integers(1, 4),
    n_chunks=st.integers(0, 5),
    n_goals=st.integers(1, 4),
    heads=st.sampled_from([1, 2, 4, 8]),
    trained=st.booleans(),
    empty_share=st.floats(0.0, 1.0),
)
def test_relevance_is_bounded_and_finite(
    seed: int,
    batch: int,
    n_chunks: int,
    n_goals: int,
    heads: int,
    trained: bool,
    empty_share: float,
) -> None:
    scorer = GoalAttentionScorer(DIM, heads=heads)
    if trained:
        _perturb(scorer, seed=seed, scale=1.0)
    gen = _gen(seed)
    goals = torch.randn(n_goals, DIM, generator=gen)
    weights = 3.0 * torch.randn(n_goals, generator=gen)
    weights[torch.rand(n_goals, generator=gen) < 0.3] = 0.0
    weights[0] = 1.0 + weights[0].abs()
    chunks = 10.0 * torch.randn(batch, n_chunks, DIM, generator=gen)
    mask = torch.rand(batch, n_chunks, generator=gen) >= empty_share
    mask[0] = False  # always at least one item with no chunk
    with torch.no_grad():
        result = _score(scorer, goals, chunks, mask, weights)
    bound = float(weights.abs().max()) + 1e-5
    assert torch.all(torch.isfinite(result.relevance))
    assert torch.all(result.relevance.abs() <= bound)
    assert torch.all(torch.isfinite(result.attention))
    assert torch.all(result.attention[~mask[:, None, None, :].expand_as(result.attention)] == 0)
    has = mask.any(-1)
    assert torch.all(result.relevance[~has] == 0)
    sums = result.attention.sum(-1)
    torch.testing.assert_close(sums[has], torch.ones_like(sums[has]), atol=1e-5, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    scorer = GoalAttentionScorer(DIM, heads=4)
    _perturb(scorer, seed=33)
    goals = _randn(2, DIM, seed=34)
    chunks = _randn(3, 4, DIM, seed=35)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], dtype=torch.bool)
    cpu = _score(scorer, goals, chunks, mask)
    cuda = scorer.to("cuda")(goals.cuda(), torch.ones(2).cuda(), chunks.cuda().half(), mask.cuda())
    torch.testing.assert_close(cuda.relevance.cpu(), cpu.relevance, atol=2e-3, rtol=0)
    assert cuda.evidence().tolist() == cpu.evidence().tolist()
