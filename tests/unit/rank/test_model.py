"""The one ranking model: scorer, affinities and lexical weight in one module, at tiny
sizes, with its file form round-tripped."""

from __future__ import annotations

import pytest
import torch

from focusdesk.rank.affinities import Priors
from focusdesk.rank.attention import GoalAttentionScorer
from focusdesk.rank.lexical import LEXICAL_WEIGHT
from focusdesk.rank.model import RankingModel

DIM = 16


def _trained() -> RankingModel:
    gen = torch.Generator().manual_seed(5)
    model = RankingModel(
        GoalAttentionScorer(DIM, heads=4, init_temperature=0.2, goal_temperature=0.1),
        [3, 7],
        ["ann@example.com", "bob@example.org"],
        0.0625,
    )
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen))
    return model


def test_untrained_model_adds_nothing_and_keeps_the_default_lexical_weight() -> None:
    model = RankingModel.untrained(GoalAttentionScorer(DIM, heads=2))
    assert model.lexical_weight == LEXICAL_WEIGHT  # exactly: the ranking is as before
    assert model.priors() == Priors()
    rel = torch.tensor([0.5, 0.25])
    ix = model.source_index([1, 2])
    assert ix.tolist() == [-1, -1]
    assert torch.equal(model.item_score(rel, ix, model.sender_index(["a@b", ""])), rel)


def test_affinities_are_looked_up_by_key_and_unknown_keys_add_nothing() -> None:
    priors = Priors({3: 0.125, 7: -0.25}, {"ann@example.com": 0.5}, 0.09)
    model = RankingModel.from_priors(GoalAttentionScorer(DIM, heads=2), priors)
    assert model.priors() == priors
    src = model.source_index([7, 3, 99])
    snd = model.sender_index(["ann@example.com", "", "eve@example.net"])
    score = model.item_score(torch.zeros(3), src, snd)
    assert score.tolist() == [-0.25 + 0.5, 0.125, 0.0]


def test_gradients_reach_the_scorer_and_the_affinities() -> None:
    model = _trained()
    goals = torch.randn(2, DIM, generator=torch.Generator().manual_seed(6))
    chunks = torch.randn(3, 2, DIM, generator=torch.Generator().manual_seed(7))
    mask = torch.ones(3, 2, dtype=torch.bool)
    result = model(goals, torch.ones(2), chunks, mask)
    score = model.item_score(
        result.relevance,
        model.source_index([3, 7, 3]),
        model.sender_index(["bob@example.org", "ann@example.com", ""]),
    )
    (score[0] - score[1] + score[2]).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


def test_file_form_round_trip() -> None:
    model = _trained()
    loaded = RankingModel.from_bytes(model.config_bytes(), model.weights_bytes())
    assert loaded.source_keys == [3, 7]
    assert loaded.sender_keys == ["ann@example.com", "bob@example.org"]
    assert loaded.scorer.config == model.scorer.config
    assert loaded.lexical_weight == 0.0625
    assert loaded.priors() == model.priors()
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name


def test_a_config_that_is_not_a_ranking_model_is_refused() -> None:
    model = _trained()
    with pytest.raises(ValueError, match="does not describe a ranking model"):
        RankingModel.from_bytes(b'{"dim": 16}', model.weights_bytes())
    with pytest.raises(ValueError, match="unique"):
        RankingModel(GoalAttentionScorer(DIM, heads=2), [1, 1])


def test_a_fresh_copy_keeps_the_scorer_and_starts_the_affinities_at_zero() -> None:
    model = _trained()
    copy = model.fresh_copy([7], ["carl@example.com"])
    assert copy.priors() == Priors({7: 0.0}, {"carl@example.com": 0.0})
    for name, value in model.scorer.state_dict().items():
        assert torch.equal(copy.scorer.state_dict()[name], value), name
    copy.scorer.proj_q.data.zero_()
    assert model.scorer.proj_q.abs().sum() > 0  # a copy, not a view
