"""A big profile made fast: generated items written straight into the store.

Syncing thousands of note files through the parser, the chunker and the encoder takes
most of a minute on a loaded 2-core machine; the UI tests that need a big inbox only
need rows, passages and vectors. Each item gets one passage and a vector mixed from a
few topic directions (so goals still find their items) plus noise (so no two items are
near duplicates and nothing collapses into stories).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select, update

from focusdesk.store.models import Chunk, Embedding, Item, Source

TOPICS = ("firmware release", "battery sensor", "hiring interview", "budget travel", "soup")


def add_generated_items(desk: Any, n: int, *, name: str = "Generated", seed: int = 7) -> int:
    """Add a notes source holding ``n`` generated items, marked as synced; its id.

    Its folder is empty: syncing that source again would mark the items vanished.
    """
    folder = desk.paths.data_dir / "generated-notes"
    folder.mkdir(parents=True, exist_ok=True)
    source = desk.sources.add("notes", str(folder), name=name)
    encoder = desk.encoder
    topics = encoder.encode(list(TOPICS))
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        text = f"Item {i} on {topic}: notes, plans and follow-ups number {i}."
        digest = hashlib.sha256(text.encode()).hexdigest()
        rows.append(
            {
                "source_id": source.id,
                "external_id": f"gen-{i:06d}.md",
                "kind": "note",
                "title": f"{topic.capitalize()} note {i}",
                "text": text,
                "body": text,
                "meta": {},
                "content_hash": digest,
                "chunked_hash": digest,
                "status": "new",
                "received_at": now - timedelta(minutes=i),
                "published_at": now - timedelta(minutes=i),
            }
        )
    weights = rng.random((n, len(TOPICS))) * 0.3
    weights[np.arange(n), np.arange(n) % len(TOPICS)] += 1.0
    vectors = weights @ topics + rng.normal(0.0, 0.35, (n, topics.shape[1]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with desk.store.session() as s:
        s.execute(insert(Item), rows)
        ids = dict(
            s.execute(select(Item.external_id, Item.id).where(Item.source_id == source.id)).all()
        )
        chunks, embeddings = [], []
        for i, row in enumerate(rows):
            text_hash = hashlib.sha256(f"chunk:{row['text']}".encode()).hexdigest()
            chunks.append(
                {
                    "item_id": ids[row["external_id"]],
                    "ordinal": 0,
                    "char_start": 0,
                    "char_end": len(row["text"]),
                    "text_hash": text_hash,
                }
            )
            embeddings.append(
                {
                    "model_id": encoder.model_id,
                    "text_hash": text_hash,
                    "dim": int(vectors.shape[1]),
                    "vector": vectors[i].astype(np.float16).tobytes(),
                    "created_at": now,
                }
            )
        s.execute(insert(Chunk), chunks)
        s.execute(insert(Embedding), embeddings)
        s.execute(update(Source).where(Source.id == source.id).values(last_sync_at=now))
    desk.refresh_index()
    return int(source.id)
