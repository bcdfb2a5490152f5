"""The pipelined encode stage with the fake encoder: derived document vectors, batches,
cancelling, progress, and vectors that never mix across backends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEncoder
from sqlalchemy import select

from focusdesk.app import FocusDesk
from focusdesk.errors import Cancelled
from focusdesk.paths import resolve_paths
from focusdesk.progress import CancelToken, Progress
from focusdesk.rank.passages import (
    DOCUMENT_ORDINAL,
    cached_vectors,
    load_vectors,
    tokenizer_chunker,
)
from focusdesk.rank.pipeline import encode_while_reading
from focusdesk.store.models import Chunk, Embedding, Item


class RecordingEncoder(FakeEncoder):
    """The fake encoder, recording every text it is given; ``tag`` names another backend
    whose vectors differ (tilted towards the last coordinate)."""

    def __init__(self, tag: str = "", cancel_after: int | None = None) -> None:
        super().__init__()
        self.tag = tag
        self.texts: list[str] = []
        self.cancel_after = cancel_after
        self.token = CancelToken()

    @property
    def model_id(self) -> str:
        return f"fake-bow:{self._dim}{self.tag}"

    def encode(self, texts: Sequence[str], **kwargs: object) -> np.ndarray:
        if self.cancel_after is not None and self.calls >= self.cancel_after:
            self.token.cancel()
        self.texts.extend(texts)
        out = super().encode(texts, **kwargs)  # type: ignore[arg-type]
        if self.tag:
            out[:, -1] += 1.0
            out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


LONG = "\n\n".join(
    f"Paragraph {n} about firmware updates, radio power and the release plan number {n}. " * 6
    for n in range(6)
)


def _mbox(path: Path, bodies: list[str]) -> Path:
    lines = []
    for n, body in enumerate(bodies):
        lines.append(
            f"From a@b Mon Jan  1 00:00:00 2024\nMessage-ID: <m{n}@x>\nSubject: Post {n}\n"
            f"From: a@b\n\n{body}\n"
        )
    path.write_text("\n".join(lines))
    return path


def _profile(data_dir: Path, encoder: FakeEncoder) -> FocusDesk:
    return FocusDesk(resolve_paths(data_dir), encoder=encoder)  # type: ignore[arg-type]


def test_document_vector_is_the_first_passages_and_never_encoded(
    data_dir: Path, tmp_path: Path
) -> None:
    enc = RecordingEncoder()
    fd = _profile(data_dir, enc)
    fd.settings.chunk_tokens = 60
    fd.sources.add("mbox", str(_mbox(tmp_path / "in.mbox", [LONG, "A short note on soup."])))
    summary = fd.sources.sync()
    with fd.store.session() as s:
        rows = s.execute(select(Chunk.item_id, Chunk.ordinal, Chunk.text_hash)).all()
        titles = dict(s.execute(select(Item.id, Item.title)).all())
    by_item: dict[int, list[tuple[int, str]]] = {}
    for item_id, ordinal, h in rows:
        by_item.setdefault(item_id, []).append((ordinal, h))
    long_id = next(i for i, t in titles.items() if t == "Post 0")
    short_id = next(i for i, t in titles.items() if t == "Post 1")
    assert [o for o, _ in by_item[short_id]] == [0]  # one passage: no document chunk
    ordinals = sorted(o for o, _ in by_item[long_id])
    assert ordinals[0] == DOCUMENT_ORDINAL
    assert len(ordinals) > 2
    # Every text the encoder saw was a passage, each once: nothing encoded twice.
    assert len(enc.texts) == len(set(enc.texts)) == summary.chunks_encoded
    assert all(enc.count_tokens(t) for t in enc.texts)
    hashes = dict((o, h) for o, h in by_item[long_id])
    vecs = cached_vectors(fd.store, enc.model_id, list(hashes.values()))
    # The title and the body's opening, as an encoded title and body was (the window cut it).
    np.testing.assert_array_equal(vecs[hashes[DOCUMENT_ORDINAL]], vecs[hashes[0]])
    assert hashes[DOCUMENT_ORDINAL] != hashes[0]
    assert len(fd.index) == len(rows)
    fd.close()


def test_a_body_that_adds_quoted_text_gets_its_document_chunk_encoded_once(
    data_dir: Path, tmp_path: Path
) -> None:
    enc = RecordingEncoder()
    fd = _profile(data_dir, enc)
    reply = "Someone wrote:\n> the launch slipped because of the weather\n\nIt did, again."
    fd.sources.add("mbox", str(_mbox(tmp_path / "in.mbox", [reply])))
    summary = fd.sources.sync()
    with fd.store.session() as s:
        item = s.scalars(select(Item)).one()
        ordinals = sorted(s.scalars(select(Chunk.ordinal)).all())
    assert "launch slipped" not in item.text  # the quote is not a passage
    assert ordinals == [DOCUMENT_ORDINAL, 0]
    assert any("launch slipped" in t for t in enc.texts)  # but the document chunk has it
    assert len(enc.texts) == len(set(enc.texts)) == summary.chunks_encoded == 2
    assert fd.sources.sync().chunks_encoded == 0
    fd.close()


def test_chunks_are_measured_with_the_encoders_tokenizer(data_dir: Path, tmp_path: Path) -> None:
    enc = RecordingEncoder()
    fd = _profile(data_dir, enc)
    fd.settings.chunk_tokens = 40
    fd.sources.add("mbox", str(_mbox(tmp_path / "in.mbox", [LONG])))
    fd.sources.sync()
    chunker = tokenizer_chunker(enc, 40, 32)  # type: ignore[arg-type]
    assert chunker.counter == "tokenizer:" + enc.base_model_id
    with fd.store.session() as s:
        item = s.scalars(select(Item)).one()
        spans = [
            item.text[c.char_start : c.char_end]
            for c in s.scalars(select(Chunk).where(Chunk.ordinal >= 0))
        ]
        assert item.chunked_hash == chunker.key(item.content_hash)
    assert len(spans) > 2
    assert all(enc.count_tokens(t) <= 40 for t in spans)
    fd.close()


def test_chunking_tokenizes_each_item_once(data_dir: Path, tmp_path: Path) -> None:
    # Counting per candidate span called the tokenizer dozens of times per long item.
    enc = RecordingEncoder()
    calls: list[list[str]] = []
    offsets = enc.token_offsets

    def counted(texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        calls.append(list(texts))
        return offsets(texts)

    count_tokens = enc.count_tokens
    per_text: list[str] = []

    def count_one(text: str) -> int:
        per_text.append(text)
        return count_tokens(text)

    enc.token_offsets = counted  # type: ignore[method-assign]
    enc.count_tokens = count_one  # type: ignore[method-assign]
    fd = _profile(data_dir, enc)
    fd.settings.chunk_tokens = 30
    fd.sources.add("mbox", str(_mbox(tmp_path / "in.mbox", [LONG, LONG + " More.", "Short."])))
    fd.sources.sync()
    with fd.store.session() as s:
        texts = sorted(s.scalars(select(Item.text)).all())
        spans = [
            item.text[c.char_start : c.char_end]
            for c, item in s.execute(
                select(Chunk, Item).join(Item, Item.id == Chunk.item_id).where(Chunk.ordinal >= 0)
            ).all()
        ]
    assert per_text == []
    assert sorted(t for batch in calls for t in batch) == texts  # one tokenization per item
    assert len(spans) > 6
    assert all(count_tokens(t) <= 30 for t in spans)  # the offsets' counts hold for the text
    fd.close()


def test_cancelling_keeps_the_batches_already_stored(data_dir: Path, tmp_path: Path) -> None:
    enc = RecordingEncoder(cancel_after=2)
    fd = _profile(data_dir, enc)
    fd.settings.chunk_tokens = 30
    fd.sources.add("mbox", str(_mbox(tmp_path / "in.mbox", [LONG] * 3)))
    from focusdesk.rank.passages import Chunker

    def read(stored: Callable[[], None]) -> None:
        from focusdesk.sync import sync_source

        sync_source(fd.store, 1, clock=fd.clock)

    with pytest.raises(Cancelled):
        encode_while_reading(
            fd.store,
            enc,
            lambda: Chunker(30, 32, enc.token_offsets),
            read,
            batch=4,
            cancel=enc.token,
        )
    with fd.store.session() as s:
        stored = s.scalars(select(Embedding.text_hash)).all()
    # Two batches encoded before the cancel; both are kept.
    assert len(stored) >= 8
    assert set(stored) <= {h for h in _all_hashes(fd)}
    # The next sync encodes only what is missing.
    before = len(enc.texts)
    enc.cancel_after = None
    summary = fd.sources.sync()
    assert summary.chunks_encoded == len(enc.texts) - before
    assert summary.chunks_cached >= len(stored)
    fd.close()


def _all_hashes(fd: FocusDesk) -> set[str]:
    with fd.store.session() as s:
        return set(s.scalars(select(Chunk.text_hash)).all())


def test_progress_shows_items_per_second_and_time_left(data_dir: Path, tmp_path: Path) -> None:
    enc = RecordingEncoder()
    fd = _profile(data_dir, enc)
    fd.settings.chunk_tokens = 30
    fd.sources.add("mbox", str(_mbox(tmp_path / "in.mbox", [LONG] * 4)))
    from focusdesk.rank.passages import Chunker
    from focusdesk.sync import sync_source

    sync_source(fd.store, 1, clock=fd.clock)  # read first: the total is known from the first batch
    ticks = iter(range(0, 10_000, 2))
    seen: list[Progress] = []
    encode_while_reading(
        fd.store,
        enc,
        lambda: Chunker(30, 32, enc.token_offsets),
        batch=5,
        progress=seen.append,
        clock=lambda: float(next(ticks)),
    )
    encode = [p for p in seen if p.stage == "encode"]
    assert len(encode) >= 2
    first = encode[0]
    assert first.total is not None
    assert first.done == 5
    assert first.rate is not None
    assert first.rate > 0
    assert "items/s" in first.message
    assert first.eta is not None
    assert " left" in first.message
    assert encode[-1].done == encode[-1].total
    fd.close()


def test_a_reader_failure_is_raised_after_storing_what_was_encoded(
    data_dir: Path, tmp_path: Path
) -> None:
    enc = RecordingEncoder()
    fd = _profile(data_dir, enc)

    def read(stored: Callable[[], None]) -> None:
        raise OSError("disk gone")

    from focusdesk.rank.passages import Chunker

    with pytest.raises(OSError, match="disk gone"):
        encode_while_reading(fd.store, enc, lambda: Chunker(30, 32), read)
    fd.close()


def test_switching_backend_never_mixes_vectors_in_one_index(data_dir: Path, tmp_path: Path) -> None:
    mbox = _mbox(tmp_path / "in.mbox", [LONG, "Soup with leeks.", "Firmware release notes."])
    fp32 = RecordingEncoder()
    fd = _profile(data_dir, fp32)
    fd.sources.add("mbox", str(mbox))
    fd.sources.sync()
    n = len(fd.index)
    fd.close()

    other = RecordingEncoder(tag="+bf16")
    fd = _profile(data_dir, other)
    summary = fd.sources.sync()  # nothing new to read, but every vector is missing for this backend
    assert summary.chunks_cached == 0
    assert summary.chunks_encoded > 0
    index = fd.index
    assert index.model_id == other.model_id
    assert len(index) == n
    ids, vectors = load_vectors(fd.store, other.model_id)
    # Every vector of the index is the other backend's (tilted), none the first one's.
    np.testing.assert_allclose(np.sort(index.vectors, axis=0), np.sort(vectors, axis=0), atol=1e-6)
    _, fp32_vectors = load_vectors(fd.store, fp32.model_id)
    assert not np.allclose(np.sort(index.vectors, axis=0), np.sort(fp32_vectors, axis=0))
    fd.close()

    back = RecordingEncoder()
    fd = _profile(data_dir, back)
    assert fd.sources.sync().chunks_encoded == 0  # each backend's vectors stay cached apart
    assert fd.index.model_id == back.model_id
    assert len(fd.index) == n
    fd.close()
