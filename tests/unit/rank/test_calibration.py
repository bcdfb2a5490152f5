"""Calibrated relevance: the same meaning across goals, scales and source kinds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths
from focusdesk.rank.calibration import (
    EMPIRICAL_ITEMS,
    SLOPE,
    Z_BAR,
    Calibrations,
    GoalCalibration,
    absolute_share,
    calibrate,
    probability,
)
from focusdesk.records import RELEVANCE_BAR
from focusdesk.review.assemble import assemble_review


def _goal_scores(seed: int, n: int = 2000, relevant: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """A bulk of items that do not serve (normal) and a cluster far above it that do."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.07, 0.08, n)
    x[:relevant] = rng.normal(0.55, 0.05, relevant)
    truth = np.zeros(n, bool)
    truth[:relevant] = True
    return x, truth


def test_a_goal_that_some_items_serve_has_them_clear_the_bar() -> None:
    x, truth = _goal_scores(0)
    fit = GoalCalibration.fit(x)
    p = probability(fit.logit(x))
    serving = p >= RELEVANCE_BAR
    assert serving[truth].mean() > 0.95
    assert serving[~truth].mean() < 0.01
    assert fit.base_rate == pytest.approx(0.05, abs=0.03)


def test_a_goal_that_nothing_serves_gets_no_item_over_the_bar() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.04, 0.06, 2000)  # nothing stands out of the bulk
    fit = GoalCalibration.fit(x)
    p = probability(fit.logit(x))
    assert p.max() < 0.05
    assert fit.base_rate < 0.005
    # The order is kept: the log-odds still grow with the score.
    assert np.all(np.diff(fit.logit(np.sort(x))) > 0)


def test_the_same_standing_means_the_same_whatever_the_goal_s_scale() -> None:
    x, _ = _goal_scores(2)
    high = 2.0 * x + 0.3  # a goal on which everything scores higher and wider
    p = probability(GoalCalibration.fit(x).logit(x))
    q = probability(GoalCalibration.fit(high).logit(high))
    np.testing.assert_allclose(p, q, atol=1e-9)


def test_each_source_kind_is_measured_against_its_own_bulk() -> None:
    mail, truth = _goal_scores(3, n=1000, relevant=50)
    notes, _ = _goal_scores(4, n=1000, relevant=50)
    notes = notes + 0.25  # long notes score higher on everything
    scores = np.concatenate([mail, notes])
    kinds = ["mbox"] * 1000 + ["notes"] * 1000
    fit = GoalCalibration.fit(scores, kinds)
    serving = probability(fit.logit(scores, kinds)) >= RELEVANCE_BAR
    # Pooled, the notes' bulk shifts the goal's centre: notes stand higher than mails of
    # the same standing in their own kind.
    pooled = GoalCalibration.fit(scores)
    assert np.median(pooled.standing(notes)) > np.median(pooled.standing(mail)) + 1.0
    own = fit.standing(scores, kinds)
    assert abs(np.median(own[1000:]) - np.median(own[:1000])) < 0.5  # shrunk toward pooled
    assert serving[1000:][~truth].sum() < 10
    mail_share, notes_share = serving[:1000][truth].mean(), serving[1000:][truth].mean()
    assert min(mail_share, notes_share) > 0.75
    assert abs(mail_share - notes_share) < 0.15


def test_percentile_is_the_share_of_items_outscored() -> None:
    fit = GoalCalibration.fit(np.asarray([0.1, 0.2, 0.3, 0.4]))
    np.testing.assert_allclose(fit.percentile(np.asarray([0.05, 0.3, 0.45])), [0.0, 0.5, 1.0])


def test_the_priors_move_the_order_within_every_goal_not_the_probability() -> None:
    x, _ = _goal_scores(5)
    fits = [GoalCalibration.fit(x), GoalCalibration.fit(x)]
    scores = np.stack([x, x], axis=1)
    shift = np.zeros(len(x))
    shift[7] = 0.5
    got = calibrate(fits, scores, None, shift)
    plain = calibrate(fits, scores)
    assert got.order[7, 0] > plain.order[7, 0]
    assert got.order[7, 1] > plain.order[7, 1]
    # Serving is the relevance's alone.
    np.testing.assert_array_equal(got.probability, plain.probability)
    assert got.logit.shape == (len(x), 2)
    assert np.all((got.percentile >= 0) & (got.percentile <= 1))


def test_fits_are_reused_while_their_key_is_the_same() -> None:
    x, _ = _goal_scores(6)
    cache = Calibrations()
    a = cache.fit(("goal a", 1), x, None)
    assert cache.fit(("goal a", 1), x + 1.0, None) is a  # not fitted again
    assert cache.fitted == 1
    cache.fit(("goal b", 1), x, None)
    cache.fit(("goal a", 2), x, None)  # the scorer changed: fitted again
    assert cache.fitted == 3


def test_a_few_items_are_read_absolutely_and_the_profile_takes_over_as_it_grows() -> None:
    assert absolute_share(6) == pytest.approx(0.988, abs=1e-3)
    assert absolute_share(500) == pytest.approx(0.25)
    assert absolute_share(EMPIRICAL_ITEMS) == 0.0
    # Six notes: the one about the goal serves it, the rest do not (their own quantiles
    # would say the second best stands out as far).
    few = np.asarray([0.70, 0.14, 0.09, 0.07, 0.06, 0.02])
    p = probability(GoalCalibration.fit(few).logit(few))
    assert p[0] > 0.99
    assert p[1:].max() < 0.01
    # A large profile is calibrated by its own distribution alone: the same log-odds as
    # with no absolute reading at all.
    x, _ = _goal_scores(7)
    fit = GoalCalibration.fit(x)
    assert fit.absolute == 0.0
    own = SLOPE * (fit.standing(x) - Z_BAR) + fit.prior_shift
    np.testing.assert_array_equal(fit.logit(x), own)
    # A degenerate distribution (nearly every item ties) is read absolutely, whatever its size.
    ties = np.full(2000, 0.05)
    ties[:3] = [0.62, 0.55, 0.12]
    flat = GoalCalibration.fit(ties)
    assert flat.absolute == 1.0
    assert (probability(flat.logit(ties)) >= RELEVANCE_BAR).sum() == 2
    # Between the two, the log-odds stay increasing in the score.
    mid = np.sort(_goal_scores(8, n=300, relevant=15)[0])
    assert np.all(np.diff(GoalCalibration.fit(mid).logit(mid)) > 0)


SMALL_VAULT = {
    "Sourdough": "My sourdough starter needs feeding twice a day. Bread hydration at 75 percent "
    "and an oven at 250 degrees give a good crust.",
    "Rust": "Read the chapter on ownership and borrowing in the Rust book; write the linked "
    "list exercise.",
    "Tomatoes": "Water the tomatoes every morning, prune the side shoots and feed them compost.",
    "Car": "Change the oil of the car at ten thousand kilometres. Rotate the tyres in spring.",
    "Taxes": "File the tax return before April; collect the receipts from the accountant.",
    "Guitar": "Practise barre chords and the pentatonic scale for twenty minutes.",
}
BREAD_GOAL = "Bake sourdough bread: starter, hydration and oven temperatures"
RUST_GOAL = "Learn the Rust programming language"


@pytest.fixture
def small_real(data_dir: Path, tmp_path: Path, real_encoder: object) -> Iterator[FocusDesk]:
    """A new user's vault of six notes, ranked by the real model."""
    notes = tmp_path / "notes"
    notes.mkdir()
    for title, text in SMALL_VAULT.items():
        (notes / f"{title}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    fd = FocusDesk(resolve_paths(data_dir), encoder=real_encoder)  # type: ignore[arg-type]
    fd.sources.add("notes", str(notes))
    fd.goals.add(BREAD_GOAL)
    fd.goals.add(RUST_GOAL)
    fd.sources.sync()
    yield fd
    fd.close()


@pytest.mark.model
def test_a_small_profile_reads_relevance_absolutely(small_real: FocusDesk) -> None:
    goals = {g.title: g.id for g in small_real.goals.all()}
    rows = {r.title: r for r in small_real.ranking.rank(None)}
    # The note about each goal serves it; nothing else serves either goal.
    assert rows["Sourdough"].serves(goals[BREAD_GOAL])
    assert rows["Rust"].serves(goals[RUST_GOAL])
    for title, row in rows.items():
        if title != "Sourdough":
            assert row.calibrated[goals[BREAD_GOAL]] < 0.2, title
        if title != "Rust":
            assert row.calibrated[goals[RUST_GOAL]] < 0.2, title
    # So the focus plan and the review have something to show.
    plan = small_real.planner.plan(60, 3)
    assert {e.item.title for e in plan} == {"Sourdough", "Rust"}
    now = datetime.now(UTC)
    review = assemble_review(small_real, now - timedelta(days=1), now + timedelta(minutes=1))
    assert {e.title for e in review.ranked_entries()} == {"Sourdough", "Rust"}
