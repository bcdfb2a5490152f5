"""Passages: items split into chunks, chunks embedded once per (model, text), vectors loaded.

This is the "encode" stage of the pipeline. It reads items from the store, writes
chunk rows and cached embeddings back, and hands vectors to the index. The encoder
is passed in, so nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from sqlalchemy import Table, and_, bindparam, delete, insert, select, update

from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress
from focusdesk.sources.chunking import ChunkSpan, chunk_text
from focusdesk.store.db import Store
from focusdesk.store.models import Chunk, Embedding, Item

if TYPE_CHECKING:
    from focusdesk.rank.encoding import Encoder

log = logging.getLogger(__name__)

ENCODE_COMMIT = 256
CHUNKER_VERSION = 5
DOCUMENT_ORDINAL = -1
"""The ordinal of an item's document-level chunk: its title and body encoded when the body
adds text the passages lack (quoted mail), else its first passage's vector (the title and
the body's opening: what an encoded title and body gave, the window cutting the rest)."""
DOCUMENT_CHARS = 2000
"""Body characters given to an encoded document chunk (the model's window cuts before)."""


def text_hash(text: str) -> str:
    """Key of the embedding cache for one model input text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def document_hash(first_passage_hash: str) -> str:
    """Key of the embedding cache for a document vector taken from the first passage's."""
    return text_hash("document-from-first-passage:" + first_passage_hash)


def passage_input(title: str, passage: str, ordinal: int) -> str:
    """What the encoder sees for a chunk: the title rides with the first chunk."""
    if ordinal == 0 and title and passage:
        return f"{title}\n{passage}"
    return passage or title


def document_input(title: str, body: str) -> str:
    """The whole item as one text: its title and (the start of) its body."""
    body = " ".join(body[: DOCUMENT_CHARS * 2].split())[:DOCUMENT_CHARS]
    return f"{title}\n{body}" if title and body else (body or title or "(untitled)")


def chunking_key(content_hash: str, max_tokens: int, max_chunks: int, counter: str = "") -> str:
    """Identifies how an item was chunked: its content, the chunker's parameters and the
    token counter (a model's tokenizer)."""
    raw = f"{CHUNKER_VERSION}:{max_tokens}:{max_chunks}:{counter}:{content_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()


TokenOffsets = Callable[[Sequence[str]], Sequence[Sequence[tuple[int, int]]]]
"""Texts -> the character span of each of their tokens (a fast tokenizer's offsets)."""


@dataclass(frozen=True)
class Chunker:
    """How items are cut into passages: the budget and what measures it."""

    max_tokens: int
    max_chunks: int
    token_offsets: TokenOffsets | None = None
    """Tokenizes a batch of item texts once each; without it tokens are estimated."""
    counter: str = "estimate"
    """Names what counts the tokens in the chunking key: another counter re-chunks every item."""

    def key(self, content_hash: str) -> str:
        return chunking_key(content_hash, self.max_tokens, self.max_chunks, self.counter)

    def spans(self, texts: Sequence[str]) -> list[list[ChunkSpan]]:
        """The passages of each text (at most ``max_chunks``), one tokenization per text."""
        offsets = self.token_offsets(texts) if self.token_offsets and texts else None
        return [
            chunk_text(
                text,
                max_tokens=self.max_tokens,
                token_spans=offsets[n] if offsets is not None else None,
            )[: self.max_chunks]
            for n, text in enumerate(texts)
        ]


def tokenizer_chunker(encoder: Encoder, max_tokens: int, max_chunks: int) -> Chunker:
    """A chunker that counts with the encoder's own tokenizer, within its window."""
    budget = max(16, min(max_tokens, encoder.max_tokens - 2))  # [CLS] and [SEP]
    if not encoder.fast_tokenizer:  # it cannot give offsets
        log.warning(
            "The model's tokenizer cannot give token offsets; passages are measured by an "
            "estimate instead."
        )
        return Chunker(budget, max_chunks)
    return Chunker(budget, max_chunks, encoder.token_offsets, f"tokenizer:{encoder.base_model_id}")


def chunk_pending(
    store: Store,
    chunker: Chunker,
    *,
    limit: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[int]:
    """(Re)chunk live items whose text (or the chunker) changed: all, or the first ``limit``.

    Each item gets its passages (ordinals 0, 1, ...) and a document chunk (ordinal -1):
    its title and body, encoded, when the body adds text the passages lack (quoted mail);
    else, for more than one passage, one whose vector is the first passage's, never encoded.
    Returns the ids of the items chunked.
    """
    with store.session() as s:
        rows = s.execute(
            select(Item.id, Item.content_hash, Item.chunked_hash)
            .where(Item.vanished.is_(False))
            .order_by(Item.id)
        ).all()
    todo = [r.id for r in rows if r.chunked_hash != chunker.key(r.content_hash)]
    if limit is not None:
        todo = todo[:limit]
    total = len(todo)
    for start in range(0, total, 200):
        if cancel is not None:
            cancel.raise_if_cancelled()
        ids = todo[start : start + 200]
        with store.session() as s:
            items = s.execute(
                select(Item.id, Item.title, Item.text, Item.body, Item.content_hash).where(
                    Item.id.in_(ids)
                )
            ).all()
        # Cut outside the write transaction: a sync's reader writes meanwhile.
        spans = chunker.spans([item.text for item in items])
        planned = [(item, _plan_chunks(item, cut)) for item, cut in zip(items, spans, strict=True)]
        items_table = cast(Table, Item.__table__)
        mark = (
            update(items_table)
            .where(
                items_table.c.id == bindparam("item_id"),
                items_table.c.content_hash == bindparam("read_hash"),
            )
            .values(chunked_hash=bindparam("key"))
        )
        with store.session() as s:  # batched: a few statements per 200 items
            s.execute(delete(Chunk).where(Chunk.item_id.in_(ids)))
            s.execute(insert(Chunk), [c for _, chunks in planned for c in chunks])
            s.execute(
                mark,
                [
                    {
                        "item_id": item.id,
                        "read_hash": item.content_hash,
                        "key": chunker.key(item.content_hash),
                    }
                    for item, _ in planned
                ],
            )
        progress(Progress("chunk", min(total, start + 200), total, "Splitting items into passages"))
    return todo


def _plan_chunks(item: Any, spans: list[ChunkSpan]) -> list[dict[str, Any]]:
    """The chunk rows of one item (``item``: id, title, text, body) cut into ``spans``."""
    item_id, title, text = item.id, item.title, item.text

    def row(ordinal: int, start: int, end: int, h: str) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "ordinal": ordinal,
            "char_start": start,
            "char_end": end,
            "text_hash": h,
        }

    if not spans:
        # A title-only item is still rankable: its one passage is the title.
        return [row(0, 0, 0, text_hash(title or "(untitled)"))]
    hashes = [text_hash(passage_input(title, span.text, n)) for n, span in enumerate(spans)]
    chunks = [
        row(n, span.start, span.end, h)
        for n, (span, h) in enumerate(zip(spans, hashes, strict=True))
    ]
    doc: str | None = None
    if adds_text(item.body, text):
        doc = text_hash(document_input(title, item.body))  # encoded: it says more
    elif len(spans) > 1:
        doc = document_hash(hashes[0])  # the first passage's vector, never encoded
    if doc is not None:
        chunks.append(row(DOCUMENT_ORDINAL, 0, 0, doc))
    return chunks


def adds_text(body: str | None, text: str) -> bool:
    """Whether an item's body holds text its passages lack (a quoted message, a signature):
    then its document chunk is encoded; otherwise its vector is derived from the passages."""
    return bool(body) and " ".join((body or "").split()) != " ".join(text.split())


def passage_text(title: str, text: str, start: int, end: int, ordinal: int, body: str = "") -> str:
    """The model input of a stored chunk, rebuilt from its item (a document chunk: the item)."""
    if ordinal == DOCUMENT_ORDINAL:
        return document_input(title, body or text)
    passage = text[start:end].strip()
    return passage_input(title, passage, ordinal) or (title or "(untitled)")


@dataclass
class Pending:
    """Chunk texts without a vector under one model id: what to encode, what to derive."""

    texts: dict[str, str] = field(default_factory=dict)
    """Text hash -> model input (passages, and document chunks that add text), in item order."""
    documents: dict[str, str] = field(default_factory=dict)
    """Document hash -> the hash of the passage whose vector it takes (the first)."""
    cached: int = 0
    """Chunks whose vector is already cached."""


def pending_chunks(store: Store, model_id: str, item_ids: Sequence[int] | None = None) -> Pending:
    """What the live items' chunks (all, or those of ``item_ids``) still need under
    ``model_id``."""
    stmt = (
        select(
            Chunk.item_id,
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
        .order_by(Chunk.item_id, Chunk.ordinal)
    )
    with store.session() as s:
        if item_ids is None:
            rows = list(s.execute(stmt).all())
        else:
            wanted = sorted(item_ids)
            rows = [
                r
                for a in range(0, len(wanted), 500)
                for r in s.execute(stmt.where(Item.id.in_(wanted[a : a + 500]))).all()
            ]
    pending = Pending()
    passages: dict[int, list[str]] = {}
    docs: list[tuple[int, str]] = []
    for r in rows:
        if r.ordinal != DOCUMENT_ORDINAL:
            passages.setdefault(r.item_id, []).append(r.text_hash)
        if r.cached is not None:
            pending.cached += 1
        elif r.ordinal == DOCUMENT_ORDINAL:
            whole = document_input(r.title, r.body or r.text)
            if text_hash(whole) == r.text_hash:
                pending.texts.setdefault(r.text_hash, whole)
            else:
                docs.append((r.item_id, r.text_hash))
        elif r.text_hash not in pending.texts:
            pending.texts[r.text_hash] = passage_text(
                r.title, r.text, r.char_start, r.char_end, r.ordinal
            )
    for item_id, h in docs:
        if passages.get(item_id):
            pending.documents[h] = passages[item_id][0]
    return pending


def derive_documents(store: Store, model_id: str, documents: dict[str, str]) -> int:
    """Store each document vector: its first passage's vector, under the document's hash.

    Documents whose passage is not encoded yet stay in ``documents`` for later; the
    others are removed from it. Returns how many were stored.
    """
    if not documents:
        return 0
    have = cached_vectors(store, model_id, sorted(set(documents.values())))
    ready = [doc for doc, passage in documents.items() if passage in have]
    if ready:
        store_vectors(store, model_id, ready, np.stack([have[documents[d]] for d in ready]))
    for doc in ready:
        del documents[doc]
    return len(ready)


def store_vectors(store: Store, model_id: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Cache vectors (as float16) under (model, text hash), in one batched write."""
    half = np.asarray(vectors, dtype=np.float16)
    rows = [
        {"model_id": model_id, "text_hash": h, "dim": int(vec.shape[0]), "vector": vec.tobytes()}
        for h, vec in zip(hashes, half, strict=True)
    ]
    if not rows:
        return
    keys = list(dict.fromkeys(hashes))
    with store.session() as s:
        for start in range(0, len(keys), 500):
            s.execute(
                delete(Embedding).where(
                    Embedding.model_id == model_id,
                    Embedding.text_hash.in_(keys[start : start + 500]),
                )
            )
        s.execute(insert(Embedding), list({r["text_hash"]: r for r in rows}.values()))


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
