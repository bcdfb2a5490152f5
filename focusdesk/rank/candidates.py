"""The candidate pass for large profiles (DESIGN.md, "Scale").

Below ``exact_below`` chunk vectors every item is scored exactly. Beyond it an
approximate FAISS index over the chunk vectors (IVF with 8-bit scalar quantisation,
ids = chunk ids) finds, for each goal facet query, the chunks nearest to it; the
(query, chunk) hits are ranked by goal weight x similarity and the best ``hits`` of
them, over all queries, name the candidate items. Exact attention then scores every
chunk of each candidate item (its document chunk included).

The approximate index is built once per vector set, updated in place when a sync
adds or removes a few chunks, and written atomically next to the flat index so a
restart does not rebuild it. The facet queries are mapped through the scorer's
projections (``candidate_queries``), so the pass keeps following the scorer after
training without rebuilding the index.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from focusdesk.rank.index import atomic_write_text, ids_digest
from focusdesk.rank.scoring import ChunkLayout, ItemScores, one_torch_thread

if TYPE_CHECKING:
    from focusdesk.rank.attention import GoalAttentionScorer
    from focusdesk.rank.index import VectorIndex

log = logging.getLogger(__name__)

MANIFEST_FILE = "chunks-ivf.json"
INDEX_PREFIX = "chunks-ivf-"
INDEX_KIND = "IVF-SQ8"
MANIFEST_VERSION = 2  # 2: rebuilt once, as chunks.json (see index.MANIFEST_VERSION)


@dataclass(frozen=True)
class CandidateConfig:
    """When the candidate pass runs and how wide it casts its net."""

    exact_below: int = 50_000
    """Chunk vectors below which every item is scored exactly (no candidate pass)."""
    hits: int = 3000
    """(query, chunk) hits kept over all facet queries, best weight x similarity first.
    3000 gives recall@100 >= 0.99 on 100k items / 250k chunks (``focusdesk bench rank``)."""
    min_hits_per_query: int = 20
    """Hits every facet query keeps whatever its weight, so no goal goes unrepresented."""
    nlist: int | None = None
    """IVF lists; None: about 2 sqrt(V), at most V / 39 (FAISS's training minimum)."""
    nprobe: int | None = None
    """Lists searched per query; None: nlist / 16, at least 32."""
    train_per_list: int = 64
    """Training vectors sampled per list (k-means)."""
    persist: bool = True
    """Write the approximate index next to the flat one (building it takes seconds)."""

    def lists_for(self, n: int) -> int:
        """The number of IVF lists for ``n`` vectors."""
        if self.nlist is not None:
            return max(1, min(self.nlist, n))
        return max(1, min(round(2 * math.sqrt(n)), n // 39))

    def probes_for(self, nlist: int) -> int:
        """The number of lists searched per query."""
        return min(nlist, self.nprobe if self.nprobe is not None else max(32, nlist // 16))


def project_all_keys(
    scorer: GoalAttentionScorer, vectors: np.ndarray, block: int = 32_768
) -> np.ndarray:
    """``scorer.project_keys`` of every row of ``vectors``: float32 [V, H, d/H], contiguous.

    Computed in blocks into one preallocated array, so the peak memory is the result
    plus one block. Valid while the scorer's P_k is unchanged.
    """
    import torch  # noqa: TID253 - rank/ is the one place allowed

    heads, head_dim = scorer.config.heads, scorer.config.head_dim
    out = np.empty((len(vectors), heads, head_dim), np.float32)
    src = torch.from_numpy(np.ascontiguousarray(vectors, np.float32))
    dst = torch.from_numpy(out)
    with torch.inference_mode():
        for a in range(0, len(vectors), block):
            dst[a : a + block] = scorer.project_keys(src[a : a + block][None])[0].float()
    return out


class KeysCache:
    """`project_all_keys` of a whole vector matrix, kept while vectors and scorer stay.

    The vectors and the scorer are held by weak reference and compared by identity:
    a new vector array (the index was updated) or a new scorer recomputes the keys;
    `clear` drops them, for a scorer whose parameters changed in place.
    """

    def __init__(self) -> None:
        self._entry: (
            tuple[weakref.ref[np.ndarray], weakref.ref[GoalAttentionScorer], np.ndarray] | None
        ) = None
        self.seconds: float | None = None
        """How long the last projection took."""

    def get(self, scorer: GoalAttentionScorer, vectors: np.ndarray) -> np.ndarray:
        """The projected keys [V, H, d/H] of ``vectors`` under ``scorer``."""
        entry = self._entry
        if (
            entry is not None
            and entry[0]() is vectors
            and entry[1]() is scorer
            and len(entry[2]) == len(vectors)
        ):
            return entry[2]
        self._entry = None  # let the old keys go before the new ones are made
        start = time.perf_counter()
        keys = project_all_keys(scorer, vectors)
        self.seconds = time.perf_counter() - start
        self._entry = (weakref.ref(vectors), weakref.ref(scorer), keys)
        return keys

    def clear(self) -> None:
        """Forget the keys (the vectors or the scorer's parameters changed)."""
        self._entry = None


KEEP_FACTOR = 4
"""`RowKeysCache` keeps the keys of earlier rows while they are fewer than this many times
the rows asked for (a goal edit brings a few new candidates and drops a few)."""


class RowKeysCache:
    """`project_all_keys` of the vector rows scored last (a large profile's candidates'
    chunks), kept while vectors and scorer stay.

    Scoring the candidates again after a goal changed projects only the chunks that were
    not among the last ones. Vectors and scorer are held by weak reference and compared
    by identity, as in `KeysCache`; `clear` drops the keys.
    """

    def __init__(self) -> None:
        self._entry: (
            tuple[weakref.ref[np.ndarray], weakref.ref[GoalAttentionScorer], np.ndarray, np.ndarray]
            | None
        ) = None
        self.projected = 0
        """How many rows the last `get` projected (the others were kept)."""

    def get(self, scorer: GoalAttentionScorer, vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The projected keys [len(rows), H, d/H] of ``vectors[rows]`` under ``scorer``."""
        keys, at = self.lookup(scorer, vectors, rows)
        return keys.take(at, axis=0)

    def lookup(
        self, scorer: GoalAttentionScorer, vectors: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(keys [K, H, d/H], at [len(rows)]): ``keys[at[i]]`` is the projected key of
        ``vectors[rows[i]]``. ``keys`` is the cache's own array (not a copy): rows not
        kept are projected and added; the rows of earlier calls stay while they are
        fewer than ``KEEP_FACTOR`` times these."""
        rows = np.asarray(rows, np.int64)
        heads, head_dim = scorer.config.heads, scorer.config.head_dim
        entry = self._entry
        if entry is not None and entry[0]() is vectors and entry[1]() is scorer and len(entry[2]):
            known, keys = entry[2], entry[3]  # known: sorted rows; keys: aligned with them
        else:
            known, keys = np.zeros(0, np.int64), np.zeros((0, heads, head_dim), np.float32)
        at = np.minimum(np.searchsorted(known, rows), max(0, len(known) - 1))
        have = known[at] == rows if len(known) else np.zeros(len(rows), bool)
        missing = np.unique(rows[~have])
        self.projected = len(missing)
        if not len(missing):
            return keys, at
        if len(known) + len(missing) > KEEP_FACTOR * max(1, len(rows)):
            kept = np.unique(rows[have])  # too many rows of old: keep only these
            keys = keys[np.searchsorted(known, kept)]
            known = kept
        added = project_all_keys(scorer, vectors[missing])
        merged = np.concatenate([known, missing])
        order = np.argsort(merged, kind="stable")
        known = merged[order]
        keys = np.concatenate([keys, added])[order]
        self._entry = (weakref.ref(vectors), weakref.ref(scorer), known, keys)
        return keys, np.searchsorted(known, rows)

    def clear(self) -> None:
        """Forget the keys (the vectors or the scorer's parameters changed)."""
        self._entry = None


def candidate_queries(scorer: GoalAttentionScorer, queries: np.ndarray) -> np.ndarray:
    """Facet queries [F, d] mapped so that ⟨q', v⟩ approximates the scorer on chunk v.

    For one chunk the scorer gives sum_h beta_h <q^_h, k^_h> with q = g P_q and
    k = v P_k split into heads and normalised; leaving out the keys' normalisation,
    that is <v, a P_k^T> with a the beta-weighted unit query heads, so
    q' = a P_k^T, searched against the raw chunk vectors.
    """
    import torch  # noqa: TID253

    with one_torch_thread(), torch.inference_mode():  # a few dozen queries: see scoring.py
        q = scorer.project_goals(torch.from_numpy(np.ascontiguousarray(queries, np.float32)))
        a = (q * scorer.head_weights[None, :, None]).flatten(1)
        out = a @ scorer.proj_k.detach().T
    return np.ascontiguousarray(out.float().numpy())


def top_item_ids(scores: ItemScores, k: int) -> np.ndarray:
    """The ids of the ``k`` items with the highest relevance (ties: layout order)."""
    order = np.argsort(-scores.relevance, kind="stable")[:k]
    return scores.item_ids[order]


def candidate_recall(exhaustive: ItemScores, candidate: ItemScores, k: int) -> float:
    """|top-k items by exhaustive scoring ∩ top-k by candidate scoring| / k.

    With fewer than ``k`` items in all, k is their number; 1.0 when there are none.
    """
    k = min(k, len(exhaustive.item_ids))
    if k <= 0:
        return 1.0
    common = np.intersect1d(top_item_ids(exhaustive, k), top_item_ids(candidate, k))
    return len(common) / k


class ApproximateIndex:
    """An IVF-SQ8 inner-product index over chunk vectors, ids = chunk ids."""

    def __init__(
        self, faiss_index: Any, ids: np.ndarray, trained_count: int, model_id: str
    ) -> None:
        self.faiss_index = faiss_index
        self.ids = np.sort(np.asarray(ids, np.int64))
        self.trained_count = trained_count
        self.model_id = model_id

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def nlist(self) -> int:
        return int(self.faiss_index.nlist)

    @property
    def nprobe(self) -> int:
        return int(self.faiss_index.nprobe)

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        vectors: np.ndarray,
        config: CandidateConfig,
        model_id: str = "",
        seed: int = 0,
    ) -> ApproximateIndex:
        """Train the coarse quantiser and the scalar quantiser on a sample, then add all."""
        import faiss  # noqa: TID253

        vectors = np.ascontiguousarray(vectors, np.float32)
        n, dim = vectors.shape
        nlist = config.lists_for(n)
        index = faiss.IndexIVFScalarQuantizer(
            faiss.IndexFlatIP(dim),
            dim,
            nlist,
            faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )
        sample_size = min(n, nlist * config.train_per_list)
        sample = (
            vectors
            if sample_size == n
            else vectors[np.sort(np.random.default_rng(seed).choice(n, sample_size, False))]
        )
        index.train(sample)
        index.add_with_ids(vectors, np.ascontiguousarray(ids, np.int64))
        index.nprobe = config.probes_for(nlist)
        return cls(index, ids, n, model_id)

    def can_update(self, new_count: int, changed: int) -> bool:
        """Whether adding/removing ``changed`` vectors keeps the trained lists fit for use."""
        return (
            self.trained_count / 2 <= new_count <= self.trained_count * 2
            and changed <= max(1, new_count) // 2
        )

    def update(self, add_ids: np.ndarray, add_vectors: np.ndarray, remove_ids: np.ndarray) -> None:
        """Add and remove vectors in place (the trained lists stay)."""
        import faiss  # noqa: TID253

        if len(remove_ids):
            self.faiss_index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(remove_ids)))
        if len(add_ids):
            self.faiss_index.add_with_ids(
                np.ascontiguousarray(add_vectors, np.float32), np.ascontiguousarray(add_ids)
            )
        kept = self.ids[~np.isin(self.ids, remove_ids)] if len(remove_ids) else self.ids
        self.ids = np.sort(np.concatenate([kept, np.asarray(add_ids, np.int64)]))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Similarities and chunk ids [Q, k] (id -1 and a huge negative where none)."""
        sims, ids = self.faiss_index.search(np.ascontiguousarray(queries, np.float32), k)
        return sims, ids

    # -- persistence --------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the index, then the manifest that names it; one atomic step counts.

        The manifest is replaced last and names the index file it belongs to, so a
        crash leaves either the old pair or the new one.
        """
        import faiss  # noqa: TID253

        folder.mkdir(parents=True, exist_ok=True)
        digest = ids_digest(self.ids)
        name = f"{INDEX_PREFIX}{digest[:16]}.faiss"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".chunks-ivf-", suffix=".faiss")
        os.close(fd)
        try:
            faiss.write_index(self.faiss_index, tmp)
            os.replace(tmp, folder / name)
        finally:
            Path(tmp).unlink(missing_ok=True)
        manifest = {
            "version": MANIFEST_VERSION,
            "kind": INDEX_KIND,
            "file": name,
            "model_id": self.model_id,
            "dim": int(self.faiss_index.d),
            "count": len(self),
            "ids_sha256": digest,
            "trained_count": self.trained_count,
        }
        atomic_write_text(folder / MANIFEST_FILE, json.dumps(manifest, indent=2))
        for old in folder.glob(f"{INDEX_PREFIX}*.faiss"):
            if old.name != name:
                old.unlink(missing_ok=True)

    @classmethod
    def load(
        cls, folder: Path, model_id: str, dim: int, ids: np.ndarray, config: CandidateConfig
    ) -> ApproximateIndex | None:
        """The saved index if it holds exactly ``ids`` for this model, else None."""
        import faiss  # noqa: TID253

        path = folder / MANIFEST_FILE
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if (
                manifest.get("version") != MANIFEST_VERSION
                or manifest.get("kind") != INDEX_KIND
                or manifest.get("model_id") != model_id
                or manifest.get("dim") != dim
                or manifest.get("count") != len(ids)
                or manifest.get("ids_sha256") != ids_digest(ids)
            ):
                return None
            index: Any = faiss.read_index(str(folder / str(manifest["file"])))
            if index.ntotal != len(ids) or index.d != dim:
                return None
        except Exception as exc:  # a damaged file is rebuilt, never fatal
            log.warning("Candidate index could not be read (%s); it will be rebuilt", exc)
            return None
        index.nprobe = config.probes_for(int(index.nlist))
        return cls(index, ids, int(manifest.get("trained_count", len(ids))), model_id)


class CandidatePass:
    """Selects the items worth exact scoring; keeps its approximate index in step.

    One per ranker. The index follows a `VectorIndex`: it is rebuilt, updated or
    loaded from disk when that index's vector array changes (`prepare`).
    """

    def __init__(self, config: CandidateConfig | None = None) -> None:
        self.config = config or CandidateConfig()
        self.approx: ApproximateIndex | None = None
        self.build_seconds: float | None = None
        """How long the last build, update or load of the approximate index took."""
        self._for: weakref.ref[np.ndarray] | None = None
        self._lookup: tuple[weakref.ref[ChunkLayout], np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()
        self._searched: dict[tuple[bytes, int], tuple[np.ndarray, np.ndarray]] = {}
        """(query, depth) -> its hits (similarities, chunk ids) in the current approximate
        index: the queries of the last pass, so that an edited goal's are the only ones
        searched again (``search``)."""
        self.searches = 0
        """How many queries the last pass searched in the index (the others were kept)."""

    def forget(self) -> None:
        """Forget the hits kept: the next pass searches every query again."""
        self._searched = {}

    def needed(self, index: VectorIndex) -> bool:
        """Whether the vector set is large enough for a candidate pass."""
        return len(index) >= self.config.exact_below

    def prepare(self, index: VectorIndex) -> ApproximateIndex:
        """The approximate index for ``index``'s current vectors (built when they changed).

        Slow the first time (seconds for 250k vectors); a sync worker may call it
        so that the next ranking does not wait.
        """
        with self._lock:
            if self.approx is not None and self._for is not None and self._for() is index.vectors:
                return self.approx
            start = time.perf_counter()
            self._searched = {}  # hits in the index as it was
            approx = self._refresh(index)
            self.build_seconds = time.perf_counter() - start
            self.approx = approx
            self._for = weakref.ref(index.vectors)
            return approx

    def _refresh(self, index: VectorIndex) -> ApproximateIndex:
        old = self.approx
        if old is not None and old.model_id == index.model_id and old.faiss_index.d == index.dim:
            add = np.setdiff1d(index.ids, old.ids, assume_unique=True)
            remove = np.setdiff1d(old.ids, index.ids, assume_unique=True)
            if old.can_update(len(index), len(add) + len(remove)):
                if len(add) or len(remove):
                    old.update(add, index.vectors[index.positions(add)], remove)
                    self._save(old, index)
                return old
        if self.config.persist:
            loaded = ApproximateIndex.load(
                index.folder, index.model_id, index.dim, index.ids, self.config
            )
            if loaded is not None:
                return loaded
        log.info("Building the candidate index over %d chunk vectors", len(index))
        built = ApproximateIndex.build(index.ids, index.vectors, self.config, index.model_id)
        self._save(built, index)
        return built

    def _save(self, approx: ApproximateIndex, index: VectorIndex) -> None:
        if not self.config.persist:
            return
        try:
            approx.save(index.folder)
        except OSError as exc:  # a cache that cannot be written is rebuilt next time
            log.warning("Candidate index could not be written (%s)", exc)

    def _items_of(self, layout: ChunkLayout) -> tuple[np.ndarray, np.ndarray]:
        """Sorted chunk ids of ``layout`` and the item (row in layout) of each."""
        cached = self._lookup
        if cached is not None and cached[0]() is layout:
            return cached[1], cached[2]
        order = np.argsort(layout.chunk_ids, kind="stable")
        item_of_row = np.repeat(np.arange(len(layout.item_ids)), layout.counts)
        sorted_ids, items = layout.chunk_ids[order], item_of_row[order]
        self._lookup = (weakref.ref(layout), sorted_ids, items)
        return sorted_ids, items

    def _hits(
        self, approx: ApproximateIndex, queries: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Chunk ids of the hits kept: the best ``hits`` by weight x similarity over all
        queries, and the first ``min_hits_per_query`` of each query."""
        cfg = self.config
        depth = max(1, min(cfg.hits, len(approx)))
        weight = np.maximum(np.asarray(weights, np.float32), 0.0)[:, None]
        # Search shallow first: only a query whose last hit still makes the cut can
        # have more beyond it, and only those are searched again to the full depth.
        # The shallow depth is a power of two, so that adding or dropping a facet seldom
        # changes it (the hits of the queries searched at it are kept for the next pass).
        share = max(cfg.min_hits_per_query, 4 * math.ceil(cfg.hits / len(queries)))
        first = min(depth, 1 << (share - 1).bit_length())
        kept, self._searched, self.searches = self._searched, {}, 0
        sims, ids = self._search(approx, queries, first, kept)
        if first < depth:
            cut = _nth_largest(_weighted(sims, ids, weight), cfg.hits)
            last = _weighted(sims[:, -1:], ids[:, -1:], weight)[:, 0]
            deeper = np.flatnonzero((ids[:, -1] >= 0) & (last >= cut))
            if len(deeper):
                more_sims, more_ids = self._search(approx, queries[deeper], depth, kept)
                wide_sims = np.full((len(queries), depth), -np.inf, np.float32)
                wide_ids = np.full((len(queries), depth), -1, np.int64)
                wide_sims[:, :first], wide_ids[:, :first] = sims, ids
                wide_sims[deeper], wide_ids[deeper] = more_sims, more_ids
                sims, ids = wide_sims, wide_ids
        scored = _weighted(sims, ids, weight)
        valid = ids >= 0
        keep = valid & (scored >= _nth_largest(scored, cfg.hits))
        # FAISS returns each query's hits best first.
        keep[:, : cfg.min_hits_per_query] |= valid[:, : cfg.min_hits_per_query]
        return np.asarray(ids[keep])

    def _search(
        self,
        approx: ApproximateIndex,
        queries: np.ndarray,
        k: int,
        kept: dict[tuple[bytes, int], tuple[np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """``approx.search(queries, k)``, each query's hits taken from ``kept`` where they
        are there (a query's hits do not depend on the others searched with it: FAISS
        searches each query alone, and below its BLAS threshold of queries the lists to
        probe are found query by query too); every query's are kept for the next pass."""
        import faiss  # noqa: TID253

        keys = [(q.tobytes(), k) for q in np.ascontiguousarray(queries, np.float32)]
        missing = [j for j, key in enumerate(keys) if key not in kept]
        found = dict(kept)
        batch = max(1, int(faiss.cvar.distance_compute_blas_threshold) - 1)
        for a in range(0, len(missing), batch):
            some = missing[a : a + batch]
            sims, ids = approx.search(queries[some], k)
            for n, j in enumerate(some):
                found[keys[j]] = (sims[n], ids[n])
        self.searches += len(missing)
        sims = np.empty((len(keys), k), np.float32)
        ids = np.empty((len(keys), k), np.int64)
        for j, key in enumerate(keys):
            sims[j], ids[j] = self._searched[key] = found[key]
        return sims, ids

    def candidate_mask(
        self,
        scorer: GoalAttentionScorer,
        layout: ChunkLayout,
        index: VectorIndex,
        queries: np.ndarray,
        weights: np.ndarray,
    ) -> np.ndarray:
        """Bool mask over ``layout``'s items: those that some facet query's hits name."""
        approx = self.prepare(index)
        hit = self._hits(approx, candidate_queries(scorer, queries), weights)
        sorted_ids, items = self._items_of(layout)
        at = np.minimum(np.searchsorted(sorted_ids, hit), max(0, len(sorted_ids) - 1))
        known = sorted_ids[at] == hit if len(sorted_ids) else np.zeros(len(hit), bool)
        mask = np.zeros(len(layout.item_ids), bool)
        mask[items[at[known]]] = True
        return mask

    def select(
        self,
        scorer: GoalAttentionScorer,
        layout: ChunkLayout,
        index: VectorIndex,
        queries: np.ndarray,
        weights: np.ndarray,
    ) -> ChunkLayout:
        """The layout to score exactly: all of it while small, else the candidates'."""
        if not self.needed(index) or len(layout.item_ids) == 0 or len(queries) == 0:
            return layout
        return layout.subset(self.candidate_mask(scorer, layout, index, queries, weights))


def _weighted(sims: np.ndarray, ids: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """weight x similarity of each hit; -inf where there is no hit."""
    valid = ids >= 0
    return np.where(valid, np.where(valid, sims, 0.0) * weight, -np.inf)


def _nth_largest(values: np.ndarray, n: int) -> float:
    """The n-th largest value (-inf when there are no more than n).

    Partitioned over the finite values only: a deep search leaves most of the hits
    table at -inf, and partitioning that many equal values is several times slower."""
    flat = values.ravel()
    if n >= flat.size:
        return -math.inf
    finite = flat[flat > -math.inf]
    if n > finite.size:
        return -math.inf
    return float(np.partition(finite, finite.size - n)[finite.size - n])
