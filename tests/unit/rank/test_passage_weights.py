"""Evidence that points: per-passage attention weights and the best sentence, per goal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from focusdesk.errors import Cancelled, KnownError
from focusdesk.progress import CancelToken
from focusdesk.rank.passage_weights import VectorLRU, sentence_vectors

# Paragraphs without headings: a note's cleaned text keeps a heading as a plain line,
# which the chunker packs with the paragraph before it.
NOTE = """Water the tomatoes every morning before work. Prune the roses in March and feed them.

The sourdough starter lives in the fridge. Bread hydration and oven temperatures for
sourdough bread decide the crust and the crumb. Buy flour on Saturday.

Change the oil of the car at ten thousand kilometres. Rotate the tyres in spring.
"""
BREAD = "Bake sourdough bread: starter, hydration and oven temperatures"
GARDEN = "Grow tomatoes and roses in the garden: water, prune, feed"
OTHER = "Hike the alps in summer with a tent"


@pytest.fixture
def profile(fd: Any, tmp_path: Path) -> Any:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "week.md").write_text(NOTE, encoding="utf-8")
    (notes / "other.md").write_text("# Alps\n\nA tent for the alps in summer.\n", "utf-8")
    fd.settings.chunk_tokens = 35  # one passage per paragraph
    fd.sources.add("notes", str(notes))
    fd.sources.sync()
    return fd


def goal_id(fd: Any, title: str) -> int:
    return next(g.id for g in fd.goals.all() if g.title == title)


def test_weights_cover_every_passage_and_point_where_the_ranker_points(profile: Any) -> None:
    for title in (BREAD, OTHER):
        profile.goals.add(title)
    item = next(r for r in profile.ranking.rank() if r.goal_title == BREAD)
    ev = profile.ranking.explain_item(item.item_id, item.goal_id)
    text = profile.items.get(item.item_id).text
    assert [p.ordinal for p in ev.passages] == [0, 1, 2]
    assert sum(p.weight for p in ev.passages) == pytest.approx(1.0)
    for p in ev.passages:
        assert text[p.start : p.end] == p.text
    heaviest = ev.top(1)[0]
    assert "sourdough starter" in heaviest.text
    assert ev.evidence_passage == heaviest
    # The ranker's evidence passage for the item's best goal is the same passage.
    assert item.evidence_span == (heaviest.start, heaviest.end)
    assert heaviest.weight > 2 * max(p.weight for p in ev.passages if p is not heaviest)
    assert [p.weight for p in ev.top(3)] == sorted((p.weight for p in ev.passages), reverse=True)


def test_a_row_shown_for_another_goal_than_its_best_carries_that_goal_s_evidence(
    profile: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusdesk.rank.proportional import Seating
    from focusdesk.rank.ranker import Ranker

    for title in (BREAD, GARDEN):
        profile.goals.add(title)
    week = next(r for r in profile.ranking.rank() if r.title == "week")  # week.md, no heading
    best = max(week.goal_scores, key=lambda g: week.goal_scores[g])  # equal weights
    other = next(g for g in week.goal_scores if g != best)
    # The proportional seating shows the row for the goal that is not its best.
    real = Ranker.seat

    def seat(self: Ranker, gq: Any, *args: Any) -> Seating:
        got = real(self, gq, *args)
        index = [g.id for g in gq.goals].index(other)
        return Seating(got.order, np.full_like(got.seat, index), got.votes)

    monkeypatch.setattr(Ranker, "seat", seat)
    row = next(r for r in profile.ranking.rank() if r.item_id == week.item_id)
    assert row.goal_id == other
    shaded = profile.ranking.explain_item(row.item_id, other).evidence_passage
    assert shaded is not None
    assert row.evidence_span == (shaded.start, shaded.end)
    assert row.evidence == shaded.text.strip()
    assert row.evidence_span != week.evidence_span  # not the best goal's passage
    word = {goal_id(profile, BREAD): "sourdough", goal_id(profile, GARDEN): "tomatoes"}
    assert word[other] in row.evidence
    assert word[best] not in row.evidence
    assert word[best] in week.evidence
    assert row.matched_facet is not None
    assert row.matched_facet in profile.ranker.active_goals([other])[0].queries


def test_the_best_sentence_is_inside_the_evidence_and_matches_the_goal(profile: Any) -> None:
    profile.goals.add(BREAD)
    item = profile.ranking.rank()[0]
    ev = profile.ranking.explain_item(item.item_id, goal_id(profile, BREAD))
    assert ev.sentence is not None
    passage = ev.evidence_passage
    assert passage is not None
    assert passage.start <= ev.sentence.start < ev.sentence.end <= passage.end
    assert " ".join(ev.sentence.text.split()) == (
        "Bread hydration and oven temperatures for sourdough bread decide the crust and the crumb."
    )
    assert ev.facet is not None


def test_another_goal_shades_another_passage(profile: Any) -> None:
    for title in (BREAD, GARDEN):
        profile.goals.add(title)
    item_id = next(r.item_id for r in profile.ranking.rank() if r.goal_title in (BREAD, GARDEN))
    bread = profile.ranking.explain_item(item_id, goal_id(profile, BREAD))
    garden = profile.ranking.explain_item(item_id, goal_id(profile, GARDEN))
    assert "sourdough" in bread.top(1)[0].text.lower()
    assert "tomatoes" in garden.top(1)[0].text
    assert garden.sentence is not None
    assert "tomatoes" in garden.sentence.text
    assert garden.goal_id != bread.goal_id


def test_sentences_are_encoded_once_then_come_from_the_cache(
    profile: Any, fake_encoder: Any
) -> None:
    profile.goals.add(BREAD)
    item = profile.ranking.rank()[0]
    gid = goal_id(profile, BREAD)
    before = fake_encoder.encoded
    first = profile.ranking.explain_item(item.item_id, gid)
    encoded = fake_encoder.encoded - before
    assert encoded == 3  # the evidence passage's three sentences, nothing else
    again = profile.ranking.explain_item(item.item_id, gid)
    assert again == first
    assert fake_encoder.encoded - before == encoded
    # A new explainer (the result cache gone) still finds the sentences in the LRU.
    explainer = profile.ranking._explainer
    explainer._results.clear()
    assert profile.ranking.explain_item(item.item_id, gid) == first
    assert fake_encoder.encoded - before == encoded
    assert explainer.sentences.hits >= 3


def test_vector_lru_keeps_the_most_recent(fake_encoder: Any) -> None:
    cache = VectorLRU(capacity=2)
    a = sentence_vectors(["one two", "three four"], fake_encoder, cache)
    assert fake_encoder.encoded == 2
    assert len(cache) == 2
    b = sentence_vectors(["one two", "one two"], fake_encoder, cache)
    assert fake_encoder.encoded == 2
    assert np.array_equal(b[0], a[0])
    assert np.array_equal(b[1], a[0])
    sentence_vectors(["five six"], fake_encoder, cache)  # evicts "three four"
    assert len(cache) == 2
    sentence_vectors(["three four"], fake_encoder, cache)
    assert fake_encoder.encoded == 4
    found = {"h": np.ones(64, np.float32)}
    looked: list[list[str]] = []

    def lookup(hashes: list[str]) -> dict[str, np.ndarray]:
        looked.append(hashes)
        return {h: found["h"] for h in hashes}

    got = sentence_vectors(["seven eight"], fake_encoder, cache, store_lookup=lookup)
    assert fake_encoder.encoded == 4  # the store's cache served it
    assert np.array_equal(got[0], found["h"])
    assert len(looked) == 1


def test_cancelled_before_encoding(profile: Any, fake_encoder: Any) -> None:
    profile.goals.add(BREAD)
    item = profile.ranking.rank()[0]
    token = CancelToken()
    token.cancel()
    before = fake_encoder.encoded
    with pytest.raises(Cancelled):
        profile.ranking.explain_item(item.item_id, goal_id(profile, BREAD), cancel=token)
    assert fake_encoder.encoded == before


def test_gone_items_and_goals_are_said_in_words(profile: Any) -> None:
    profile.goals.add(BREAD)
    item = profile.ranking.rank()[0]
    with pytest.raises(KnownError, match="no longer in the profile"):
        profile.ranking.explain_item(10_000, goal_id(profile, BREAD))
    with pytest.raises(KnownError, match="no longer active"):
        profile.ranking.explain_item(item.item_id, 999)


def test_an_item_not_encoded_yet_has_no_weights(fd: Any, tmp_path: Path) -> None:
    from focusdesk.store.models import Embedding

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "week.md").write_text(NOTE, encoding="utf-8")
    fd.settings.chunk_tokens = 45
    fd.sources.add("notes", str(notes))
    fd.sources.sync()
    fd.goals.add(BREAD)
    item = fd.ranking.rank()[0]
    with fd.store.session() as s:
        s.query(Embedding).delete()
    ev = fd.ranking.explain_item(item.item_id, goal_id(fd, BREAD))
    assert ev.passages == ()
    assert ev.evidence is None
    assert ev.sentence is None


@pytest.mark.model
def test_the_real_model_marks_the_sentence_about_the_goal(
    data_dir: Path, real_encoder: Any, tmp_path: Path
) -> None:
    from focusdesk.app import FocusDesk
    from focusdesk.paths import resolve_paths

    desk = FocusDesk(resolve_paths(data_dir), encoder=real_encoder)  # type: ignore[arg-type]
    try:
        notes = tmp_path / "notes"
        notes.mkdir()
        (notes / "day.md").write_text(
            "# Saturday\n\nThe bus to town leaves at nine. My levain doubled overnight, so "
            "the loaf went into a very hot Dutch oven after a cold retard. The library "
            "closes early on Saturdays.\n",
            encoding="utf-8",
        )
        desk.sources.add("notes", str(notes))
        desk.sources.sync()
        desk.goals.add("I'm learning to bake sourdough bread: starters, hydration and ovens.")
        item = desk.ranking.rank()[0]
        assert item.goal_id is not None
        ev = desk.ranking.explain_item(item.item_id, item.goal_id)
        assert ev.sentence is not None
        assert ev.sentence.text.startswith("My levain doubled overnight")
    finally:
        desk.close()
