"""The re-rank after a change: what is kept (facet scores, FAISS hits) gives the ranking a
fresh ranker gives, and is dropped by exactly what changes it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import torch
from fakes import FakeEncoder, ManualClock

from focusdesk.app import FocusDesk
from focusdesk.rank.candidates import CandidateConfig, CandidatePass
from focusdesk.rank.ranker import Ranker, Ranking

WORDS = ["meeting", "invoice", "travel", "lunch", "weather", "budget", "report", "coffee"]
NARROW = CandidateConfig(exact_below=0, hits=40, min_hits_per_query=4)
"""A candidate net narrow enough that the unrelated notes fall through it (its index
saved, as the app's: a fresh ranker loads the one a sync updated in place)."""


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder(dim=256)


@pytest.fixture
def desk(fd: FocusDesk, tmp_path: Path) -> FocusDesk:
    """Notes about firmware, the garden, travel and nothing much; two goals."""
    rng = np.random.default_rng(1)
    root = tmp_path / "vault"
    root.mkdir()
    topics = {
        "firmware": "firmware bootloader flash update",
        "garden": "garden tomatoes compost leek",
        "travel": "travel hotel ticket train",
    }
    for name, words in topics.items():
        for n in range(12):
            extra = " ".join(rng.choice(WORDS, 4))
            (root / f"{name}-{n}.md").write_text(
                f"# {name} {n}\n\n{words} {extra}\n\n{' '.join(rng.choice(WORDS, 6))}\n"
            )
    for n in range(30):
        (root / f"other-{n}.md").write_text(f"# other {n}\n\n{' '.join(rng.choice(WORDS, 9))}\n")
    fd.sources.add("notes", str(root))
    fd.sources.sync()
    fd.ranker.clock = ManualClock(datetime(2026, 12, 5, 7, 0, tzinfo=UTC))
    fd.goals.add("firmware project: bootloader, flash and update", weight=1.2)
    fd.goals.add("garden project: tomatoes and compost")
    return fd


def _fresh(desk: FocusDesk, config: CandidateConfig | None) -> Ranking:
    """The ranking a new ranker (nothing kept) gives on the profile as it is now."""
    ranker = Ranker(
        desk.store,
        desk.encoder,
        lambda: desk.index,
        desk.settings,
        desk.model_versions,
        clock=desk.ranker.clock,
    )
    if config is not None:
        ranker._candidate_pass = CandidatePass(config)
    return ranker.ranking()


def _assert_same(got: Ranking, want: Ranking) -> None:
    """Same rows in the same order, seats, evidence, goals; scores to 1e-6."""
    assert got.gq.texts == want.gq.texts
    assert got.scores.item_ids.tolist() == want.scores.item_ids.tolist()  # the candidates
    assert got.item_ids.tolist() == want.item_ids.tolist()
    assert got.seat.tolist() == want.seat.tolist()
    rows = range(len(want))
    assert got.evidence_chunks(rows).tolist() == want.evidence_chunks(rows).tolist()
    np.testing.assert_allclose(got.final, want.final, atol=1e-6)
    a, b = got.scores, want.scores
    for name in ("relevance", "goal_relevance", "goal_soft"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-6)
    for name in ("best_goal", "best_facet", "evidence_chunk", "goal_facet", "goal_evidence"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    np.testing.assert_allclose(got.calibrated.probability, want.calibrated.probability, atol=1e-6)


@pytest.mark.parametrize("config", [None, NARROW], ids=["exact", "candidate-pass"])
def test_a_goal_edit_scores_only_its_own_facets_and_ranks_as_a_fresh_ranker(
    desk: FocusDesk, config: CandidateConfig | None
) -> None:
    ranker = desk.ranker
    if config is not None:
        ranker._candidate_pass = CandidatePass(config)
    before = desk.ranking.arrays()
    _assert_same(before, _fresh(desk, config))
    garden = desk.goals.all()[1]

    desk.goals.update(garden.id, title="garden project: tomatoes, compost and leek")
    edited = desk.ranking.arrays()
    _assert_same(edited, _fresh(desk, config))
    new_facets = [j for j, t in enumerate(edited.gq.texts) if t not in before.gq.texts]
    assert new_facets
    assert all(edited.gq.owner[j] == 1 for j in new_facets)
    kept = np.isin(edited.scores.item_ids, before.scores.item_ids)
    # The kept items are scored against the new facets only; new candidates against all.
    assert ranker._facets.scored == kept.sum() * len(new_facets) + (~kept).sum() * len(
        edited.gq.texts
    )
    if config is not None:
        assert 1 <= ranker._candidate_pass.searches <= 2 * len(new_facets)  # (+ deep ones)

    desk.goals.update(garden.id, weight=2.5)  # a weight: no facet is new
    weighted = desk.ranking.arrays()
    _assert_same(weighted, _fresh(desk, config))
    assert weighted.gq.weights.tolist() != edited.gq.weights.tolist()
    kept = np.isin(weighted.scores.item_ids, edited.scores.item_ids)
    assert ranker._facets.scored == (~kept).sum() * len(weighted.gq.texts)
    if config is None:
        assert ranker._facets.scored == 0
    else:
        assert ranker._candidate_pass.searches == 0  # the hits are weighted afresh

    travel = desk.goals.add("travel plans: hotel and train tickets").id
    _assert_same(desk.ranking.arrays(), _fresh(desk, config))
    desk.goals.update(travel, active=False)
    _assert_same(desk.ranking.arrays(), _fresh(desk, config))
    desk.goals.remove(garden.id)
    _assert_same(desk.ranking.arrays(), _fresh(desk, config))


@pytest.mark.parametrize("config", [None, NARROW], ids=["exact", "candidate-pass"])
def test_what_is_kept_goes_with_a_new_model_version_or_a_sync(
    desk: FocusDesk, tmp_path: Path, config: CandidateConfig | None
) -> None:
    ranker = desk.ranker
    if config is not None:
        ranker._candidate_pass = CandidatePass(config)
    desk.ranking.arrays()

    # Training (feedback reaches the ranking through the version it trains): a new model.
    model = ranker.untrained_model()
    with torch.no_grad():
        gen = torch.Generator().manual_seed(5)
        model.scorer.proj_k.add_(0.3 * torch.randn(model.scorer.proj_k.shape, generator=gen))
        model.scorer.proj_q.add_(0.3 * torch.randn(model.scorer.proj_q.shape, generator=gen))
    ranker.save_version(model, 3, {})
    trained = desk.ranking.arrays()
    _assert_same(trained, _fresh(desk, config))

    # Another process (the CLI beside the app) goes back to the untrained model.
    desk.model_versions.reset()
    reset = desk.ranking.arrays()
    _assert_same(reset, _fresh(desk, config))
    assert reset.scores.relevance.tolist() != trained.scores.relevance.tolist()

    # A sync that brings an item the goals want: it is found and scored.
    root = tmp_path / "vault"
    (root / "new.md").write_text("# new\n\nfirmware bootloader flash update bootloader flash\n")
    desk.sources.sync()  # (the app drops the ranker's layout after it)
    synced = desk.ranking.arrays()
    _assert_same(synced, _fresh(desk, config))
    new_id = max(int(i) for i in synced.scores.item_ids)
    assert new_id not in reset.scores.item_ids.tolist()
    at = synced.scores.item_ids.tolist().index(new_id)
    assert synced.scores.goal_relevance[at, 0] == synced.scores.goal_relevance[:, 0].max()


def test_a_goals_new_texts_are_encoded_on_one_torch_thread(
    desk: FocusDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.ranking.arrays()
    threads: list[int] = []
    real = desk.encoder.encode

    def spy(texts: list[str]) -> np.ndarray:
        threads.append(torch.get_num_threads())
        return real(texts)

    monkeypatch.setattr(desk.encoder, "encode", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        desk.goals.add("travel plans: hotel and train tickets")
        desk.ranking.arrays()
        assert threads == [1]  # a few texts: two threads on a shared core wait on each other
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
