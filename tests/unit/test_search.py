"""Hybrid search: safe FTS5 queries, BM25, vector neighbours, reciprocal-rank fusion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEncoder
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.cli import main
from focusdesk.search import (
    excerpt,
    fts_query,
    highlight_terms,
    hybrid_search,
    keyword_search,
    query_terms,
    rrf,
    unmark,
)
from focusdesk.store.models import Chunk, Item

NOTES = {
    "ota.md": "# OTA rollout\n\nSigned OTA firmware updates with rollback for the sensor fleet.",
    "ble.md": "# Bluetooth\n\nThe BLE stack disconnects during firmware updates on old phones.",
    "budget.md": "# Power budget\n\nSleep current budget of the sensor: 12 microamps.",
    "soup.md": "# Soup\n\nLeek and potato soup, simmered slowly.",
    "hiring.md": "# Hiring\n\nInterview loop for two embedded engineers; firmware experience.",
}


@pytest.fixture
def synced(fd: FocusDesk, tmp_path: Path) -> FocusDesk:
    root = tmp_path / "vault"
    root.mkdir()
    for name, text in NOTES.items():
        (root / name).write_text(text)
    fd.sources.add("notes", str(root))
    fd.sources.sync()
    return fd


def marked(text: str, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [text[a:b] for a, b in spans]


# -- building the FTS query ---------------------------------------------------------------
def test_user_text_never_reaches_fts_as_syntax() -> None:
    assert fts_query("firmware upd") == '"firmware" AND "upd"*'
    assert fts_query("firmware upd ") == '"firmware" AND "upd"'  # a finished word
    assert fts_query("a b", any_term=True) == '"a" OR "b"'  # one-letter words: no prefix
    assert fts_query('say "hi') == '"say" AND """hi"*'  # quotes are doubled
    assert fts_query("title:secret NEAR(a b) OR -x*") == (
        '"title:secret" AND "NEAR(a" AND "b)" AND "OR" AND "-x*"'
    )
    assert fts_query("  ") is None
    assert fts_query("*** - ()") is None  # no words at all
    assert query_terms("one " * 40) == ["one"] * 16


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "'",
        "NEAR(",
        "a OR",
        "AND",
        "title:",
        "^firmware",
        "firm*ware",
        "(firmware",
        "{title}: x",
        "-",
        "firmware\x00",
        "ü",
        "\\",
    ],
)
def test_hostile_queries_are_searched_as_text(synced: FocusDesk, query: str) -> None:
    synced.search(query, semantic=False)  # never an FTS5 syntax error
    keyword_search(synced.store, query, 10)


def test_unmark_removes_marks_and_returns_spans() -> None:
    assert unmark("a \x02bc\x03 d \x02e\x03") == ("a bc d e", ((2, 4), (7, 8)))
    assert unmark("plain") == ("plain", ())


# -- keyword side ---------------------------------------------------------------------------
def test_bm25_finds_words_by_prefix_and_stem_and_highlights_them(synced: FocusDesk) -> None:
    hits = synced.search("firmware updat", semantic=False)
    titles = [h.title for h in hits]
    assert set(titles[:2]) == {"OTA rollout", "Bluetooth"}  # both words
    assert "Hiring" in titles[2:]  # one word: after the items with both
    top = hits[0]
    assert top.keyword_rank == 1
    assert top.vector_rank is None
    assert {w.lower() for w in marked(top.snippet, top.snippet_spans)} == {"firmware", "updates"}
    stemmed = synced.search("rollouts", semantic=False)  # porter stemming
    assert [h.title for h in stemmed] == ["OTA rollout"]
    assert marked(stemmed[0].title, stemmed[0].title_spans) == ["rollout"]


def test_title_matches_outrank_body_matches(synced: FocusDesk) -> None:
    hits = synced.search("budget", semantic=False)
    assert hits[0].title == "Power budget"


def test_vanished_items_are_not_found(synced: FocusDesk, tmp_path: Path) -> None:
    (tmp_path / "vault" / "soup.md").unlink()
    synced.sources.sync()
    assert synced.search("leek", semantic=False) == []
    assert synced.search("leek") == []


# -- vector side and fusion ----------------------------------------------------------------------
def test_rrf_adds_reciprocal_ranks() -> None:
    scores = rrf([[1, 2, 3], [3, 1]], k=60)
    assert scores[1] == pytest.approx(1 / 61 + 1 / 62)
    assert scores[3] == pytest.approx(1 / 63 + 1 / 61)
    assert scores[2] == pytest.approx(1 / 62)
    assert sorted(scores, key=lambda i: -scores[i]) == [1, 3, 2]


def test_hybrid_merges_keyword_and_vector_rankings(synced: FocusDesk) -> None:
    hits = synced.search("sensor")
    by_title = {h.title: h for h in hits}
    # "sensor" is in two notes: both rankings know them and they lead.
    assert {hits[0].title, hits[1].title} == {"OTA rollout", "Power budget"}
    for title in ("OTA rollout", "Power budget"):
        hit = by_title[title]
        assert hit.keyword_rank is not None
        assert hit.vector_rank is not None
        assert hit.score == pytest.approx(1 / (60 + hit.keyword_rank) + 1 / (60 + hit.vector_rank))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert "Soup" not in by_title


class StubIndex:
    """An index that answers every query with the same chunks (best first)."""

    def __init__(self, chunk_ids: list[int], sims: list[float]) -> None:
        self.chunk_ids, self.sims = chunk_ids, sims

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(self, _q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray([self.chunk_ids[:k]]), np.asarray([self.sims[:k]])


def test_a_meaning_only_hit_shows_its_best_chunk_and_weak_neighbours_are_dropped(
    synced: FocusDesk,
) -> None:
    with synced.store.session() as s:
        chunks = dict(
            s.execute(
                select(Item.title, Chunk.id)
                .join(Chunk, Chunk.item_id == Item.id)
                .where(Chunk.ordinal == 0)
            ).all()
        )
    index = StubIndex([chunks["Soup"], chunks["Soup"], chunks["Hiring"]], [0.9, 0.8, 0.1])
    hits = hybrid_search(
        synced.store,
        "broth",
        encoder=FakeEncoder(),
        index=lambda: index,  # type: ignore[arg-type]
    )
    assert [h.title for h in hits] == ["Soup"]  # once, by its best chunk; Hiring too far
    (soup,) = hits
    assert (soup.keyword_rank, soup.vector_rank, soup.similarity) == (None, 1, 0.9)
    assert soup.score == pytest.approx(1 / 61)
    assert "Leek and potato soup" in soup.snippet
    assert soup.snippet_spans == ()  # "broth" is not a word of it


def test_semantic_search_uses_the_profile_index(synced: FocusDesk) -> None:
    hits = synced.search("leek potato slowly ")
    assert hits[0].title == "Soup"
    assert (hits[0].keyword_rank, hits[0].vector_rank) == (1, 1)
    assert marked(hits[0].snippet, hits[0].snippet_spans) == ["Leek", "potato", "slowly"]


def test_excerpt_cuts_around_the_first_match() -> None:
    body = ("filler words here " * 30) + "the battery passivation test " + ("tail " * 40)
    text, spans = excerpt(body, 0, len(body), "passivation")
    assert text.startswith("…")
    assert text.endswith("…")
    assert len(text) <= 230
    assert marked(text, spans) == ["passivation"]
    assert highlight_terms("Firmware, FIRMWARE and firm", "firm") == ((0, 8), (10, 18), (23, 27))


def test_empty_queries_and_profiles(fd: FocusDesk, synced: FocusDesk) -> None:
    assert synced.search("") == []
    assert synced.search("   ") == []
    assert synced.search("firmware", top=0) == []


def test_cli_search_prints_the_same_results(
    synced: FocusDesk, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = [h.to_json() for h in synced.search("firmware updates")]
    data_dir = synced.paths.data_dir
    synced.close()
    fake = FakeEncoder()
    argv = ["--data-dir", str(data_dir), "search", "firmware", "updates", "--json"]
    assert main(argv, encoder=fake) == 0  # type: ignore[arg-type]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == expected
    argv = ["--data-dir", str(data_dir), "search", "firmware", "--top", "2"]
    assert main(argv, encoder=fake) == 0  # type: ignore[arg-type]
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("  1. [notes]")
    assert "*firmware*" in out[1].lower()
    assert len([line for line in out if line[:4].strip().rstrip(".").isdigit()]) == 2
    assert main(["--data-dir", str(data_dir), "search", "zzzz", "--keywords-only"]) == 0
    assert "Nothing found" in capsys.readouterr().out
