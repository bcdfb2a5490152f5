"""A generated profile of realistic size, written as the app's own sync would leave it.

`focusdesk bench rank` measures FocusDesk on this: a data folder that plain
``FocusDesk.open(dir)`` and ``focusdesk --data-dir DIR`` open like a user's. The store
is made by the app's migrations and written with bulk inserts: sources (mail, notes,
feeds), items with titles, senders, dates, text and bodies of mail-like length,
chunks with their character spans and text hashes exactly as the chunker and the
encode stage would store them (passages, then a document chunk for items of more
than one), their vectors in the embedding cache under the model id the app uses, and
goals with facets whose vectors are cached too, so that no text needs encoding. The
vectors are clustered synthetic ones (``bench.vectors``). Then the app opens it once
and ranks, which writes the vector index files (and the candidate index beyond
50,000 chunks) where the app keeps them.

A file in the folder records the parameters; the same parameters reuse the profile,
others regenerate it. A folder that is not a generated profile is never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import insert

from focusdesk.bench.vectors import (
    MAX_CHUNKS,
    SyntheticVectors,
    facet_vectors,
    goal_topics,
    synthetic_vectors,
)
from focusdesk.bench.words import DOMAINS, FILLER, FIRST, LAST, TOPIC_WORDS
from focusdesk.errors import KnownError
from focusdesk.rank.goal_queries import goal_queries
from focusdesk.rank.passages import (
    DOCUMENT_ORDINAL,
    chunking_key,
    document_input,
    passage_input,
    store_vectors,
    text_hash,
)
from focusdesk.store.models import Chunk, Embedding, Goal, Item, Source

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk
    from focusdesk.rank.encoding import Encoder

GENERATOR_VERSION = 2
"""Raised whenever what is generated changes, so older profiles are regenerated."""
MARKER_FILE = "bench-profile.json"
BATCH_ITEMS = 10_000


SOURCES = (
    # kind, name, item kind, share of the items
    ("mbox", "Mailing lists", "email", 0.40),
    ("maildir", "Work mail", "email", 0.20),
    ("notes", "Vault", "note", 0.15),
    ("feed", "Tech news", "feed", 0.08),
    ("feed", "Science daily", "feed", 0.06),
    ("feed", "Open source weekly", "feed", 0.04),
    ("feed", "Local news", "feed", 0.04),
    ("feed", "Cooking blog", "feed", 0.03),
)
TOPIC_KEYWORDS = 5
SENDERS = 400


@dataclass(frozen=True)
class ProfileSpec:
    """What a generated profile holds."""

    items: int = 100_000
    chunks: int = 250_000
    goals: int = 10
    seed: int = 0
    topics: int = 200

    def validate(self) -> None:
        """Raise ValueError for a profile that cannot be generated."""
        if self.items < 1:
            raise ValueError("--items must be at least 1")
        if not self.items <= self.chunks <= MAX_CHUNKS * self.items:
            raise ValueError(f"--chunks must lie between --items and {MAX_CHUNKS} x --items")
        if not 1 <= self.goals <= min(self.topics, 50):
            raise ValueError(f"--goals must lie between 1 and {min(self.topics, 50)}")


@dataclass(frozen=True)
class ProfileInfo:
    """A generated profile, ready to open."""

    folder: Path
    spec: ProfileSpec
    model_id: str
    dim: int
    reused: bool
    generate_s: float
    """Seconds it took to generate (when it was generated, not when reused)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "spec": asdict(self.spec),
            "model_id": self.model_id,
            "dim": self.dim,
            "reused": self.reused,
            "generate_s": round(self.generate_s, 2),
        }


def _marker(spec: ProfileSpec, model_id: str, dim: int, *, complete: bool) -> dict[str, Any]:
    return {
        "generator": GENERATOR_VERSION,
        "spec": asdict(spec),
        "model_id": model_id,
        "dim": dim,
        "complete": complete,
    }


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The parameters a generated profile in ``folder`` was made with (None: not one)."""
    try:
        data = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def ensure_profile(
    folder: Path,
    spec: ProfileSpec,
    encoder: Encoder | None = None,
    *,
    say: Callable[[str], None] = lambda _: None,
) -> ProfileInfo:
    """The generated profile in ``folder``: reused when made with the same parameters
    (and model), else generated afresh. ``encoder`` replaces the configured model."""
    from focusdesk.app import FocusDesk

    spec.validate()
    folder = folder.expanduser().resolve()
    marker = read_marker(folder)
    if folder.exists() and any(folder.iterdir()) and marker is None:
        raise KnownError(
            f"{folder} holds files but is not a generated benchmark profile; it is left as it is.",
            hint="Give --profile-dir an empty or new folder.",
        )
    if marker is not None and marker.get("complete"):
        desk = FocusDesk.open(folder, encoder)
        try:
            model_id = desk.encoder.model_id
        finally:
            desk.close()
        if marker == _marker(spec, model_id, int(marker.get("dim", 0)), complete=True):
            say(f"reusing the generated profile in {folder}")
            return ProfileInfo(folder, spec, model_id, int(marker["dim"]), True, 0.0)
    if marker is not None:
        say(f"the profile in {folder} was made with other parameters: generating it afresh")
        shutil.rmtree(folder)
    started = time.perf_counter()
    model_id, dim = _generate(folder, spec, encoder, say)
    return ProfileInfo(folder, spec, model_id, dim, False, time.perf_counter() - started)


def _generate(
    folder: Path, spec: ProfileSpec, encoder: Encoder | None, say: Callable[[str], None]
) -> tuple[str, int]:
    from focusdesk.app import FocusDesk

    folder.mkdir(parents=True, exist_ok=True)
    desk = FocusDesk.open(folder, encoder)
    try:
        model_id, dim = desk.encoder.model_id, desk.encoder.dim
        (folder / MARKER_FILE).write_text(
            json.dumps(_marker(spec, model_id, dim, complete=False), indent=2), encoding="utf-8"
        )
        say(f"generating {spec.items:,} items / {spec.chunks:,} chunks in {folder}")
        vectors = synthetic_vectors(
            spec.items, spec.chunks, dim=dim, topics=spec.topics, seed=spec.seed
        )
        writer = _Writer(desk, spec, vectors, model_id)
        writer.sources()
        for a in range(0, spec.items, BATCH_ITEMS):
            writer.items(a, min(spec.items, a + BATCH_ITEMS))
            say(f"  {min(spec.items, a + BATCH_ITEMS):,} items written")
        writer.goals()
        say("building the vector index and ranking once, as the app does")
        _ = desk.index
        desk.ranking.rank(top=1)
    finally:
        desk.close()
    (folder / MARKER_FILE).write_text(
        json.dumps(_marker(spec, model_id, dim, complete=True), indent=2), encoding="utf-8"
    )
    return model_id, dim


class _Writer:
    """Writes the generated rows, batch by batch."""

    def __init__(
        self, desk: FocusDesk, spec: ProfileSpec, vectors: SyntheticVectors, model_id: str
    ) -> None:
        self.desk = desk
        self.spec = spec
        self.v = vectors
        self.model_id = model_id
        self.rng = np.random.default_rng(spec.seed + 7)
        self.now = datetime.now(UTC).replace(microsecond=0)
        settings = desk.settings
        self.max_tokens, self.max_chunks = settings.chunk_tokens, settings.max_chunks_per_item
        self.words_min, self.words_max = _paragraph_words(self.max_tokens)
        words = np.asarray(TOPIC_WORDS)
        self.keywords = [
            list(self.rng.choice(words, TOPIC_KEYWORDS, replace=False)) for _ in range(spec.topics)
        ]
        self.vocab = [FILLER + kw * 6 for kw in self.keywords]  # a topic's words, often
        self.senders = [f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}" for _ in range(SENDERS)]
        weight = 1.0 / np.arange(1, SENDERS + 1)
        self.sender_p = weight / weight.sum()
        self.starts = vectors.starts
        self.source_ids: list[int] = []
        self.item_kinds: list[str] = []
        self.seen: set[str] = set()

    def sources(self) -> None:
        folder = self.desk.paths.data_dir / "generated-sources"
        with self.desk.store.session() as s:
            for n, (kind, name, item_kind, _share) in enumerate(SOURCES, 1):
                uri = (
                    f"https://feeds.example.org/{n}.xml"
                    if kind == "feed"
                    else str(folder / name.lower().replace(" ", "-"))
                )
                src = Source(
                    kind=kind,
                    name=name,
                    uri=uri,
                    config={},
                    sync_state={},
                    last_sync_at=self.now,
                )
                s.add(src)
                s.flush()
                self.source_ids.append(src.id)
                self.item_kinds.append(item_kind)

    def _paragraph(self, topic: int, lo: int, hi: int) -> str:
        vocab = self.vocab[topic]
        n = int(self.rng.integers(lo, hi + 1))
        words = [vocab[i] for i in self.rng.integers(0, len(vocab), n)]
        at = 0
        while at < n:
            words[at] = words[at].capitalize()
            at += int(self.rng.integers(8, 19))
            words[min(at, n) - 1] += "."
        return " ".join(words)

    def _title(self, topic: int, kind: str) -> str:
        kw = self.keywords[topic]
        n = int(self.rng.integers(2, 6))
        words = [
            kw[i] if self.rng.random() < 0.5 else FILLER[j]
            for i, j in zip(
                self.rng.integers(0, len(kw), n), self.rng.integers(0, len(FILLER), n), strict=True
            )
        ]
        title = " ".join([kw[0].capitalize(), *words])
        if kind == "email" and self.rng.random() < 0.35:
            title = f"Re: {title}"
        return title

    def items(self, a: int, b: int) -> None:
        rng, v = self.rng, self.v
        shares = np.asarray([s[3] for s in SOURCES])
        which = rng.choice(len(SOURCES), b - a, p=shares / shares.sum())
        ages = np.minimum(rng.exponential(120.0, b - a), 3 * 365.0)
        statuses = rng.choice(["new", "read", "done"], b - a, p=[0.7, 0.27, 0.03])
        senders = rng.choice(SENDERS, b - a, p=self.sender_p)
        items: list[dict[str, Any]] = []
        chunks: list[dict[str, Any]] = []
        embeddings: list[dict[str, Any]] = []
        half = v.vectors.astype(np.float16)  # as `store_vectors` keeps them
        for k in range(a, b):
            r = k - a
            topic, count, first = int(v.topic[k]), int(v.counts[k]), int(self.starts[k])
            kind = self.item_kinds[int(which[r])]
            title = self._title(topic, kind)
            n_passages = count - 1 if count > 1 else 1
            lo = self.words_min if n_passages > 1 else 12
            while True:  # every chunk text is new, as every cached vector is its own
                paragraphs = [self._paragraph(topic, lo, self.words_max) for _ in range(n_passages)]
                text = "\n\n".join(paragraphs)
                body = _body(kind, title, text, paragraphs) if count > 1 else text
                hashes = [text_hash(passage_input(title, p, n)) for n, p in enumerate(paragraphs)]
                if count > 1:
                    hashes.append(text_hash(document_input(title, body)))
                if len(set(hashes)) == len(hashes) and self.seen.isdisjoint(hashes):
                    self.seen.update(hashes)
                    break
            published = self.now - timedelta(days=float(ages[r]))
            author, meta, external = self._origin(kind, k, int(senders[r]), title, published)
            item_id = k + 1
            items.append(
                {
                    "id": item_id,
                    "source_id": self.source_ids[int(which[r])],
                    "external_id": external,
                    "kind": kind,
                    "title": title,
                    "author": author,
                    "url": f"https://news.example.org/{k}" if kind == "feed" else None,
                    "published_at": published,
                    "received_at": published + timedelta(minutes=float(rng.integers(1, 90))),
                    "content_hash": hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
                    "text": text,
                    "body": body,
                    "meta": meta,
                    "status": str(statuses[r]),
                    "pinned": False,
                    "vanished": False,
                    "chunked_hash": "",
                }
            )
            items[-1]["chunked_hash"] = chunking_key(
                items[-1]["content_hash"], self.max_tokens, self.max_chunks
            )
            offset = 0
            for n, p in enumerate(paragraphs):
                chunks.append(
                    {
                        "id": first + n + 1,
                        "item_id": item_id,
                        "ordinal": n,
                        "char_start": offset,
                        "char_end": offset + len(p),
                        "text_hash": hashes[n],
                    }
                )
                offset += len(p) + 2
            if count > 1:
                chunks.append(
                    {
                        "id": first + count,
                        "item_id": item_id,
                        "ordinal": DOCUMENT_ORDINAL,
                        "char_start": 0,
                        "char_end": 0,
                        "text_hash": hashes[-1],
                    }
                )
            dim = v.vectors.shape[1]
            for n, h in enumerate(hashes):
                embeddings.append(
                    {
                        "model_id": self.model_id,
                        "text_hash": h,
                        "dim": dim,
                        "vector": half[first + n].tobytes(),
                        "created_at": published,
                    }
                )
        with self.desk.store.session() as s:
            s.execute(insert(Item), items)
            s.execute(insert(Chunk), chunks)
            s.execute(insert(Embedding), embeddings)

    def _origin(
        self, kind: str, k: int, sender: int, title: str, when: datetime
    ) -> tuple[str | None, dict[str, Any], str]:
        """Author, meta and external id, as each kind of source gives them."""
        name = self.senders[sender]
        if kind == "email":
            addr = f"{name.lower().replace(' ', '.')}@{DOMAINS[sender % len(DOMAINS)]}"
            message_id = f"<{k:08x}.{self.spec.seed}@bench.focusdesk>"
            meta = {
                "message_id": message_id,
                "from_addr": addr,
                "to": [],
                "cc": [],
                "has_html": False,
                "attachments": [],
            }
            return f"{name} <{addr}>", meta, message_id
        if kind == "note":
            slug = "-".join(title.lower().split()[:4])
            return None, {}, f"{when:%Y}/{slug}-{k}.md"
        return name, {}, f"https://news.example.org/{k}"

    def goals(self) -> None:
        """Goals about popular topics, each with a list (so facets), their vectors cached."""
        rng = self.rng
        topics = goal_topics(self.v, self.spec.goals, rng)
        titles: list[str] = []
        descriptions: list[str] = []
        facets: list[list[str]] = []
        for t in topics:
            kw = self.keywords[int(t)]
            things = [str(w) for w in kw[1 : 1 + int(rng.integers(2, 5))]]
            title = f"Keep up with {kw[0]} work"
            titles.append(title if title not in titles else f"{title} ({len(titles) + 1})")
            descriptions.append(
                f"{kw[0].capitalize()} projects: {', '.join(things[:-1])} and {things[-1]}"
            )
            facets.append(goal_queries(titles[-1], descriptions[-1]))
        vectors = facet_vectors(self.v, topics, [len(f) for f in facets], rng)
        with self.desk.store.session() as s:
            for t, title, desc in zip(topics, titles, descriptions, strict=True):
                s.add(
                    Goal(
                        title=title,
                        description=desc,
                        name=str(self.keywords[int(t)][0]).capitalize(),
                        weight=round(float(rng.uniform(0.5, 1.5)), 1),
                        active=True,
                    )
                )
        # As `encode_cached` would have stored them: no model is needed to embed the goals.
        queries = [q for f in facets for q in f]
        store_vectors(
            self.desk.store, self.model_id, [text_hash(q) for q in queries], np.concatenate(vectors)
        )


def _paragraph_words(max_tokens: int) -> tuple[int, int]:
    """Word counts of a passage that the chunker keeps as one chunk, never two, and
    never packs with its neighbour: words of at most five letters count 1.1 tokens
    each, and a full stop (at most one per 8 words) one more."""
    lo = int(max_tokens / 2 / 1.1) + 3
    hi = int((max_tokens - 2) / 1.225) - 3
    return lo, hi


def _body(kind: str, title: str, text: str, paragraphs: list[str]) -> str:
    """What the reader shows: a reply's quote under mail, the heading of a note, HTML."""
    if kind == "email":
        quote = "\n".join(f"> {line}" for line in paragraphs[0][:400].split(". "))
        return f"{text}\n\nOn an earlier day, someone wrote:\n{quote}\n"
    if kind == "note":
        return f"# {title}\n\n{text}\n"
    return "".join(f"<p>{p}</p>\n" for p in paragraphs)
