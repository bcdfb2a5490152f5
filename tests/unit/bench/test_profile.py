"""The generated benchmark profile: a store as the sync would leave it, opened like a user's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEncoder
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.bench.profile import MARKER_FILE, ProfileSpec, ensure_profile, read_marker
from focusdesk.bench.vectors import synthetic_vectors
from focusdesk.cli import main
from focusdesk.errors import KnownError
from focusdesk.rank.index import saved_manifest
from focusdesk.rank.passages import (
    DOCUMENT_ORDINAL,
    cached_vectors,
    document_input,
    encode_cached,
    live_chunk_ids,
    passage_input,
    text_hash,
)
from focusdesk.sources.chunking import chunk_text
from focusdesk.store.models import Chunk, Embedding, Item

SPEC = ProfileSpec(items=60, chunks=150, goals=3, seed=3)


class NoEncoding(FakeEncoder):
    """The fake model, refusing to encode: everything the profile needs is cached."""

    def encode(self, *args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("the generated profile needed encoding")


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    ensure_profile(tmp_path / "bench", SPEC, FakeEncoder())
    return tmp_path / "bench"


def test_store_holds_what_a_sync_would_have_stored(profile: Path) -> None:
    desk = FocusDesk.open(profile, NoEncoding())
    try:
        settings, model_id = desk.settings, desk.encoder.model_id
        assert desk.counts()["items"] == SPEC.items
        assert desk.counts()["chunks"] == SPEC.chunks
        assert desk.counts()["goals"] == SPEC.goals
        truth = synthetic_vectors(SPEC.items, SPEC.chunks, dim=64, topics=SPEC.topics, seed=3)
        with desk.store.session() as s:
            items = {i.id: i for i in s.scalars(select(Item))}
            chunks = s.scalars(select(Chunk).order_by(Chunk.item_id, Chunk.ordinal)).all()
            by_item: dict[int, list[Chunk]] = {}
            for c in chunks:
                by_item.setdefault(c.item_id, []).append(c)
            assert sorted(by_item) == sorted(items)
            for item_id, rows in by_item.items():
                item = items[item_id]
                assert item.title
                assert item.author != ""
                assert item.published_at is not None
                passages = [c for c in rows if c.ordinal != DOCUMENT_ORDINAL]
                spans = chunk_text(item.text, max_tokens=settings.chunk_tokens)
                # The app's own chunker cuts the text into exactly these passages.
                assert [(c.char_start, c.char_end) for c in passages] == [
                    (sp.start, sp.end) for sp in spans
                ]
                for n, (c, sp) in enumerate(zip(passages, spans, strict=True)):
                    assert c.ordinal == n
                    assert c.text_hash == text_hash(passage_input(item.title, sp.text, n))
                doc = [c for c in rows if c.ordinal == DOCUMENT_ORDINAL]
                doc_hash = text_hash(document_input(item.title, item.body))
                # A document chunk exactly where `chunk_pending` makes one.
                assert bool(doc) == (len(spans) > 1 or doc_hash != passages[0].text_hash)
                assert all(c.text_hash == doc_hash for c in doc)
            vectors = dict(
                s.execute(
                    select(Embedding.text_hash, Embedding.vector).where(
                        Embedding.model_id == model_id
                    )
                ).all()
            )
        # Every chunk has its vector under the app's model id: the generator's, in id order.
        for c in chunks:
            stored = np.frombuffer(vectors[c.text_hash], np.float16)
            np.testing.assert_array_equal(stored, truth.vectors[c.id - 1].astype(np.float16))
        assert sorted(live_chunk_ids(desk.store, model_id).tolist()) == sorted(c.id for c in chunks)
        # The goals' facets are embedded already: ranking needs no model call.
        for goal in desk.ranker.active_goals():
            assert len(goal.queries) > 2  # a title, a description and listed things
            hashes = [text_hash(q) for q in goal.queries]
            assert len(cached_vectors(desk.store, model_id, hashes)) == len(hashes)
            encode_cached(desk.store, desk.encoder, goal.queries)
    finally:
        desk.close()


def test_profile_opens_and_ranks_with_the_saved_index(profile: Path) -> None:
    desk = FocusDesk.open(profile, NoEncoding())
    try:
        ids = live_chunk_ids(desk.store, desk.encoder.model_id)
        assert saved_manifest(desk.paths.index_dir, desk.encoder.model_id, ids) is not None
        ranked = desk.ranking.rank(top=5)
        assert len(ranked) == 5
        assert len(desk.index) == SPEC.chunks
        for row in ranked:
            assert row.goal_id is not None
            assert row.evidence
            detail = desk.items.get(row.item_id)
            assert row.evidence_span is not None
            start, end = row.evidence_span
            assert detail.text[start:end].strip() == row.evidence
        # Proportional seating: the top rows are seated by turns, each shown for a goal it
        # serves (a score is not comparable across goals, so rows are not in score order).
        assert all(row.goal_id is not None and row.serves(row.goal_id) for row in ranked)
    finally:
        desk.close()


def test_profile_is_reused_then_regenerated_when_parameters_change(profile: Path) -> None:
    database = profile / "focusdesk.sqlite3"
    before = database.stat().st_mtime_ns
    again = ensure_profile(profile, SPEC, FakeEncoder())
    assert again.reused
    assert database.stat().st_mtime_ns == before

    bigger = ProfileSpec(items=80, chunks=170, goals=2, seed=3)
    fresh = ensure_profile(profile, bigger, FakeEncoder())
    assert not fresh.reused
    marker = read_marker(profile)
    assert marker is not None
    assert marker["complete"]
    assert marker["spec"]["items"] == 80
    desk = FocusDesk.open(profile, FakeEncoder())
    try:
        assert desk.counts()["items"] == 80
        assert desk.counts()["chunks"] == 170
        assert desk.counts()["goals"] == 2
    finally:
        desk.close()


def test_profile_is_regenerated_for_another_model(profile: Path) -> None:
    other = ensure_profile(profile, SPEC, FakeEncoder(dim=32))
    assert not other.reused
    assert other.model_id == "fake-bow:32"
    assert other.dim == 32


def test_an_unfinished_profile_is_generated_again(profile: Path) -> None:
    marker = json.loads((profile / MARKER_FILE).read_text(encoding="utf-8"))
    marker["complete"] = False  # as a generation killed half way leaves it
    (profile / MARKER_FILE).write_text(json.dumps(marker), encoding="utf-8")
    assert not ensure_profile(profile, SPEC, FakeEncoder()).reused


def test_a_folder_that_is_not_a_generated_profile_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "someone"
    folder.mkdir()
    (folder / "focusdesk.sqlite3").write_bytes(b"a real profile")
    with pytest.raises(KnownError, match="not a generated benchmark profile"):
        ensure_profile(folder, SPEC, FakeEncoder())
    assert (folder / "focusdesk.sqlite3").read_bytes() == b"a real profile"


def test_impossible_parameters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--chunks"):
        ensure_profile(tmp_path / "p", ProfileSpec(items=10, chunks=5), FakeEncoder())
    assert not (tmp_path / "p").exists()


@pytest.mark.model
def test_plain_open_cli_and_doctor_accept_the_profile(
    tmp_path: Path,
    real_encoder: object,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "bench"
    ensure_profile(folder, SPEC, real_encoder)  # type: ignore[arg-type]
    monkeypatch.setenv("FOCUSDESK_DATA_DIR", str(folder))
    desk = FocusDesk.open()  # as the app opens the profile it is pointed at
    try:
        assert desk.paths.data_dir == folder.resolve()
        assert desk.counts()["vectors"] >= SPEC.chunks
    finally:
        desk.close()
    capsys.readouterr()
    argv = ["--data-dir", str(folder)]
    assert main([*argv, "rank", "--top", "3", "--json"], encoder=real_encoder) == 0  # type: ignore[arg-type]
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 3
    assert all(r["goal"] and r["evidence"] for r in rows)
    assert main([*argv, "doctor", "--json"], encoder=real_encoder) == 0  # type: ignore[arg-type]
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["items"] == SPEC.items
    assert report["counts"]["chunks"] == SPEC.chunks
    assert report["model_id"] == desk.encoder.model_id
    assert "model_error" not in report
