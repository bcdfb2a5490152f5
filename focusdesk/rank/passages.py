"""Passages: items split into chunks, chunks embedded once per (model, text), vectors loaded.

This is the "encode" stage of the pipeline. It reads items from the store, writes
chunk rows and cached embeddings back, and hands vectors to the index. The encoder
is passed in, so nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import and_, delete, select

from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress
from focusdesk.sources.chunking import chunk_text
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Embedding, Item

if TYPE_CHECKING:
    from focusdesk.rank.encoder import Encoder

log = logging.getLogger(__name__)

ENCODE_COMMIT = 256
CHUNKER_VERSION = 2
DOCUMENT_ORDINAL = -1
"""The ordinal of an item's document-level chunk: title + full body, as the model sees it."""
DOCUMENT_CHARS = 2000
"""Body characters given to the document chunk (the model's window truncates before that)."""


def text_hash(text: str) -> str:
    """Key of the embedding cache for one model input text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def passage_input(title: str, passage: str, ordinal: int) -> str:
    """What the encoder sees for a chunk: the title rides with the first chunk."""
    if ordinal == 0 and title and passage:
        return f"{title}\n{passage}"
    return passage or title


def document_input(title: str, body: str) -> str:
    """What the encoder sees for the whole item: its title and (the start of) its body."""
    body = " ".join(body[: DOCUMENT_CHARS * 2].split())[:DOCUMENT_CHARS]
    return f"{title}\n{body}" if title and body else (body or title or "(untitled)")


def chunking_key(content_hash: str, max_tokens: int, max_chunks: int) -> str:
    """Identifies how an item was chunked: its content and the chunker's parameters."""
    raw = f"{CHUNKER_VERSION}:{max_tokens}:{max_chunks}:{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()


def chunk_pending(
    store: Store,
    *,
    max_tokens: int,
    max_chunks: int,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> int:
    """(Re)chunk every live item whose text (or the chunker's parameters) changed.

    Each item gets its passages (ordinals 0, 1, ...) and, when it differs from its
    only passage, a document chunk (ordinal -1) of its title and full body.
    """
    with store.session() as s:
        rows = s.execute(
            select(Item.id, Item.content_hash, Item.chunked_hash).where(Item.vanished.is_(False))
        ).all()
    todo = [
        r.id for r in rows if r.chunked_hash != chunking_key(r.content_hash, max_tokens, max_chunks)
    ]
    total = len(todo)
    for start in range(0, total, 200):
        if cancel is not None:
            cancel.raise_if_cancelled()
        ids = todo[start : start + 200]
        with store.session() as s:
            s.execute(delete(Chunk).where(Chunk.item_id.in_(ids)))
            for item in s.scalars(select(Item).where(Item.id.in_(ids))):
                spans = chunk_text(item.text, max_tokens=max_tokens)[:max_chunks]
                if not spans:
                    # A title-only item is still rankable: its one passage is the title.
                    s.add(
                        Chunk(
                            item_id=item.id,
                            ordinal=0,
                            char_start=0,
                            char_end=0,
                            text_hash=text_hash(item.title or "(untitled)"),
                        )
                    )
                for n, span in enumerate(spans):
                    s.add(
                        Chunk(
                            item_id=item.id,
                            ordinal=n,
                            char_start=span.start,
                            char_end=span.end,
                            text_hash=text_hash(passage_input(item.title, span.text, n)),
                        )
                    )
                doc_hash = text_hash(document_input(item.title, item.body))
                first = text_hash(passage_input(item.title, spans[0].text, 0)) if spans else None
                if len(spans) > 1 or doc_hash != first:
                    s.add(
                        Chunk(
                            item_id=item.id,
                            ordinal=DOCUMENT_ORDINAL,
                            char_start=0,
                            char_end=0,
                            text_hash=doc_hash,
                        )
                    )
                item.chunked_hash = chunking_key(item.content_hash, max_tokens, max_chunks)
        progress(Progress("chunk", min(total, start + 200), total, "Splitting items into passages"))
    return total


def passage_text(title: str, text: str, start: int, end: int, ordinal: int, body: str = "") -> str:
    """The model input of a stored chunk, rebuilt from its item."""
    if ordinal == DOCUMENT_ORDINAL:
        return document_input(title, body or text)
    passage = text[start:end].strip()
    return passage_input(title, passage, ordinal) or (title or "(untitled)")


def encode_pending(
    store: Store,
    encoder: Encoder,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[int, int]:
    """Embed every chunk text that has no cached vector for this model.

    Returns (texts encoded, chunks whose vector was already cached). Vectors are
    committed in batches, so cancelling keeps what was done.
    """
    model_id = encoder.model_id
    with store.session() as s:
        rows = s.execute(
            select(
                Chunk.text_hash,
                Chunk.ordinal,
                Chunk.char_start,
                Chunk.char_end,
                Item.title,
                Item.text,
                Item.body,
                Embedding.text_hash.label("cached"),
            )
            .join(Item, Item.id == Chunk.item_id)
            .outerjoin(
                Embedding,
                and_(Embedding.model_id == model_id, Embedding.text_hash == Chunk.text_hash),
            )
            .where(Item.vanished.is_(False))
        ).all()
    todo: dict[str, str] = {}
    cached = 0
    for r in rows:
        if r.cached is not None:
            cached += 1
        elif r.text_hash not in todo:
            todo[r.text_hash] = passage_text(
                r.title, r.text, r.char_start, r.char_end, r.ordinal, r.body
            )
    if not todo:
        return 0, cached
    hashes = list(todo)
    done = 0
    for start in range(0, len(hashes), ENCODE_COMMIT):
        if cancel is not None:
            cancel.raise_if_cancelled()
        part = hashes[start : start + ENCODE_COMMIT]
        vectors = encoder.encode([todo[h] for h in part], cancel=cancel)
        store_vectors(store, model_id, part, vectors)
        done += len(part)
        progress(Progress("encode", done, len(hashes), f"Encoded {done} of {len(hashes)} passages"))
    return done, cached


def store_vectors(store: Store, model_id: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Cache vectors (as float16) under (model, text hash)."""
    half = np.asarray(vectors, dtype=np.float16)
    with store.session() as s:
        for h, vec in zip(hashes, half, strict=True):
            s.merge(
                Embedding(
                    model_id=model_id, text_hash=h, dim=int(vec.shape[0]), vector=vec.tobytes()
                )
            )


def cached_vectors(store: Store, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """The cached float32 vectors for those hashes that have one."""
    out: dict[str, np.ndarray] = {}
    with store.session() as s:
        for start in range(0, len(hashes), 500):
            part = list(hashes[start : start + 500])
            for h, blob in s.execute(
                select(Embedding.text_hash, Embedding.vector).where(
                    Embedding.model_id == model_id, Embedding.text_hash.in_(part)
                )
            ):
                out[h] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
    return out


def encode_cached(store: Store, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Vectors for arbitrary texts (goals, queries), through the same cache."""
    hashes = [text_hash(t) for t in texts]
    have = cached_vectors(store, encoder.model_id, hashes)
    missing = [i for i, h in enumerate(hashes) if h not in have]
    if missing:
        vecs = encoder.encode([texts[i] for i in missing])
        store_vectors(store, encoder.model_id, [hashes[i] for i in missing], vecs)
        for i, v in zip(missing, vecs, strict=True):
            have[hashes[i]] = np.asarray(v, dtype=np.float16).astype(np.float32)
    return np.stack([have[h] for h in hashes]) if hashes else np.zeros((0, 0), np.float32)


def live_chunk_ids(store: Store, model_id: str) -> np.ndarray:
    """Ids of the chunks of live items that have a vector for this model."""
    with store.session() as s:
        ids = s.scalars(
            select(Chunk.id)
            .join(Item, Item.id == Chunk.item_id)
            .join(
                Embedding,
                and_(Embedding.model_id == model_id, Embedding.text_hash == Chunk.text_hash),
            )
            .where(Item.vanished.is_(False))
        ).all()
    return np.asarray(ids, dtype=np.int64)


def load_vectors(
    store: Store, model_id: str, chunk_ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(chunk ids, float32 vectors) of live chunks, all of them or just ``chunk_ids``."""
    stmt = (
        select(Chunk.id, Embedding.vector)
        .join(Item, Item.id == Chunk.item_id)
        .join(
            Embedding, and_(Embedding.model_id == model_id, Embedding.text_hash == Chunk.text_hash)
        )
        .where(Item.vanished.is_(False))
    )
    ids: list[int] = []
    blobs: list[bytes] = []
    with store.session() as s:
        if chunk_ids is None:
            batches = [s.execute(stmt).all()]
        else:
            wanted = [int(i) for i in chunk_ids]
            batches = [
                s.execute(stmt.where(Chunk.id.in_(wanted[a : a + 500]))).all()
                for a in range(0, len(wanted), 500)
            ]
        for batch in batches:
            for cid, blob in batch:
                ids.append(cid)
                blobs.append(blob)
    if not ids:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    mat = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(ids), -1)
    return np.asarray(ids, dtype=np.int64), mat.astype(np.float32)
