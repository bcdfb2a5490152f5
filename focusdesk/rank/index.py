"""The FAISS vector index over chunk embeddings: a derived cache of the store.

Inner product over L2-normalised vectors (so scores are cosines), ids are chunk
ids. It is written atomically next to a small JSON manifest; on load the manifest
is checked against the store's chunk ids, and any disagreement rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from focusdesk.errors import KnownError

log = logging.getLogger(__name__)

INDEX_FILE = "chunks.faiss"
MANIFEST_FILE = "chunks.json"
# 2: chunk ids are never reused (migration 0004); an index written before may hold a
# re-chunked item's old vectors under its new chunks' ids, so it is rebuilt once.
MANIFEST_VERSION = 2


def ids_digest(ids: np.ndarray) -> str:
    """A fingerprint of a set of ids (order does not matter)."""
    return hashlib.sha256(np.sort(ids.astype(np.int64)).tobytes()).hexdigest()


class VectorIndex:
    """Chunk vectors in memory plus their FAISS index, kept in step with the store."""

    def __init__(self, folder: Path, model_id: str, dim: int) -> None:
        self.folder = folder
        self.model_id = model_id
        self.dim = dim
        self.ids = np.zeros(0, dtype=np.int64)
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self._pos: dict[int, int] = {}
        self._faiss: Any = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    # -- building ---------------------------------------------------------------------
    def replace(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Make the index hold exactly these (id, vector) pairs."""
        import faiss  # noqa: TID253 - lazy, rank/ is the one place allowed

        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if ids.shape[0] != vectors.shape[0]:
            raise ValueError("ids and vectors differ in length")
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        if len(ids):
            index.add_with_ids(vectors, ids)
        self._faiss = index
        self.ids = ids
        self.vectors = stored_vectors(index, self.dim)  # FAISS's copy: not held twice
        self._pos = {int(i): n for n, i in enumerate(ids.tolist())}

    def update(self, add_ids: np.ndarray, add_vectors: np.ndarray, remove_ids: np.ndarray) -> None:
        """Add and remove vectors without rebuilding from the store."""
        keep = ~np.isin(self.ids, remove_ids) if len(remove_ids) else np.ones(len(self.ids), bool)
        ids = np.concatenate([self.ids[keep], np.asarray(add_ids, dtype=np.int64)])
        vecs = np.concatenate(
            [self.vectors[keep], np.asarray(add_vectors, dtype=np.float32).reshape(-1, self.dim)]
        )
        self.replace(ids, vecs)

    # -- using --------------------------------------------------------------------------
    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id in ``vectors``; -1 where the id is not indexed."""
        return np.fromiter((self._pos.get(int(i), -1) for i in ids), dtype=np.int64, count=len(ids))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest chunk ids (and their cosines) for each query vector."""
        if self._faiss is None:
            self.replace(self.ids, self.vectors)
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        k = max(1, min(k, len(self))) if len(self) else 1
        scores, ids = self._faiss.search(q, k)
        return ids, scores

    # -- persistence --------------------------------------------------------------------
    def save(self) -> None:
        """Write index and manifest atomically (a crash leaves the old pair or the new).

        A failure (a full disk) is a ``KnownError``; the store keeps every vector, and a
        manifest that does not match makes the next sync or start rebuild the index."""
        try:
            self._save()
        except OSError as exc:
            raise KnownError(
                f"The search index could not be saved in {self.folder} ({exc.strerror or exc}).",
                hint="The disk may be full. Free some space, then sync again: everything "
                "read and encoded is kept, and the index is rebuilt from it.",
            ) from exc

    def _save(self) -> None:
        import faiss  # noqa: TID253

        if self._faiss is None:
            self.replace(self.ids, self.vectors)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = {
            "version": MANIFEST_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "count": len(self),
            "ids_sha256": ids_digest(self.ids),
        }
        data: np.ndarray = faiss.serialize_index(self._faiss)  # Python writes it: OSErrors
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".chunks-", suffix=".faiss")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.tobytes())
            os.replace(tmp, self.folder / INDEX_FILE)
        finally:
            Path(tmp).unlink(missing_ok=True)
        atomic_write_text(self.folder / MANIFEST_FILE, json.dumps(manifest, indent=2))

    def load(self, expected_ids: np.ndarray) -> bool:
        """Load from disk if it matches the store's ids and model; False when it doesn't."""
        import faiss  # noqa: TID253

        index_path = self.folder / INDEX_FILE
        manifest = saved_manifest(self.folder, self.model_id, expected_ids)
        if manifest is None or manifest.get("dim") != self.dim:
            return False
        try:
            index: Any = faiss.read_index(str(index_path))
            if index.ntotal != len(expected_ids):
                return False
            id_map = faiss.vector_to_array(index.id_map).astype(np.int64)
            vectors = stored_vectors(index, self.dim)
        except Exception as exc:  # a damaged file is rebuilt, never fatal
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            log.warning(
                "The search index %s is damaged (%s); it is rebuilt from the stored vectors",
                index_path,
                detail,
            )
            return False
        self._faiss = index
        self.ids = id_map
        self.vectors = vectors
        self._pos = {int(i): n for n, i in enumerate(id_map.tolist())}
        return True


class _Holder:
    """Exposes a FAISS index's vector storage to numpy and keeps the index alive while
    an array made from it exists (the array's ``base``)."""

    def __init__(self, view: np.ndarray, owner: Any) -> None:
        self.__array_interface__ = view.__array_interface__
        self._owner = owner


def stored_vectors(index: Any, dim: int) -> np.ndarray:
    """The vectors an ``IndexIDMap2(IndexFlatIP)`` holds, as a float32 [n, dim] array over
    the index's own memory (no copy); the array keeps the index alive."""
    import faiss  # noqa: TID253

    n = int(index.ntotal)
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    flat: Any = faiss.downcast_index(index.index)
    view = faiss.rev_swig_ptr(flat.get_xb(), n * dim).reshape(n, dim)
    return np.asarray(_Holder(view, index))


def saved_manifest(folder: Path, model_id: str, expected_ids: np.ndarray) -> dict[str, Any] | None:
    """The manifest of the index saved in ``folder`` when it holds exactly
    ``expected_ids`` for ``model_id`` (None otherwise: missing, damaged or behind the
    store); reads the small manifest only, not the index."""
    index_path, manifest_path = folder / INDEX_FILE, folder / MANIFEST_FILE
    if not index_path.exists() or not manifest_path.exists():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("Vector index manifest could not be read (%s); it will be rebuilt", exc)
        return None
    if (
        not isinstance(manifest, dict)
        or manifest.get("version") != MANIFEST_VERSION
        or manifest.get("model_id") != model_id
        or manifest.get("count") != len(expected_ids)
        or manifest.get("ids_sha256") != ids_digest(expected_ids)
    ):
        log.info("Vector index on disk disagrees with the store; it will be rebuilt")
        return None
    return manifest


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file, then a rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
