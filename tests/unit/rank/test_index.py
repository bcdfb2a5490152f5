from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from focusdesk.rank.index import INDEX_FILE, MANIFEST_FILE, VectorIndex


def _unit(n: int, d: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_search_returns_chunk_ids_by_cosine(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path, "m", 16)
    vecs = _unit(50, 16)
    ids = np.arange(100, 150)
    idx.replace(ids, vecs)
    found, scores = idx.search(vecs[7:8], 3)
    assert found[0, 0] == 107
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert scores[0, 0] >= scores[0, 1] >= scores[0, 2]


def test_save_and_load_when_it_matches_the_store(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path, "m", 8)
    ids, vecs = np.array([3, 1, 2]), _unit(3, 8)
    idx.replace(ids, vecs)
    idx.save()
    again = VectorIndex(tmp_path, "m", 8)
    assert again.load(np.array([1, 2, 3]))
    np.testing.assert_array_equal(again.ids, ids)
    np.testing.assert_allclose(again.vectors, vecs)
    assert list(tmp_path.glob(".chunks-*")) == []  # no temp file left behind


@pytest.mark.parametrize(
    ("expected", "model"),
    [(np.array([1, 2]), "m"), (np.array([1, 2, 4]), "m"), (np.array([1, 2, 3]), "other")],
)
def test_load_refuses_an_index_that_disagrees(
    tmp_path: Path, expected: np.ndarray, model: str
) -> None:
    idx = VectorIndex(tmp_path, "m", 8)
    idx.replace(np.array([1, 2, 3]), _unit(3, 8))
    idx.save()
    assert not VectorIndex(tmp_path, model, 8).load(expected)


def test_damaged_file_is_not_fatal(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path, "m", 8)
    idx.replace(np.array([1]), _unit(1, 8))
    idx.save()
    (tmp_path / INDEX_FILE).write_bytes(b"garbage")
    assert not VectorIndex(tmp_path, "m", 8).load(np.array([1]))
    (tmp_path / MANIFEST_FILE).write_text("{")
    assert not VectorIndex(tmp_path, "m", 8).load(np.array([1]))


def test_update_adds_and_removes(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path, "m", 8)
    vecs = _unit(4, 8)
    idx.replace(np.array([1, 2]), vecs[:2])
    idx.update(np.array([3, 4]), vecs[2:], np.array([1]))
    assert sorted(idx.ids.tolist()) == [2, 3, 4]
    np.testing.assert_allclose(idx.vectors[idx.positions(np.array([4]))[0]], vecs[3])
    assert idx.positions(np.array([1]))[0] == -1


def test_vectors_are_faiss_own_copy_not_a_second_one(tmp_path: Path) -> None:
    """The index's vectors are a view of what FAISS holds (built or loaded), and stay
    valid while an array of them is held, whatever the index does next."""
    import gc

    import faiss

    vecs = _unit(40, 8)
    ids = np.arange(10, 50)
    built = VectorIndex(tmp_path, "m", 8)
    built.replace(ids, vecs)
    built.save()
    loaded = VectorIndex(tmp_path, "m", 8)
    assert loaded.load(ids)
    for idx in (built, loaded):
        flat = faiss.downcast_index(idx._faiss.index)
        storage = faiss.rev_swig_ptr(flat.get_xb(), 1).__array_interface__["data"][0]
        assert idx.vectors.__array_interface__["data"][0] == storage
        np.testing.assert_array_equal(idx.vectors, vecs)
    held = loaded.vectors
    loaded.replace(ids[:5], vecs[:5])  # the old FAISS index is let go by the index
    gc.collect()
    np.testing.assert_array_equal(held, vecs)
    assert len(loaded.vectors) == 5
    empty = VectorIndex(tmp_path / "e", "m", 8)
    empty.replace(np.zeros(0, np.int64), np.zeros((0, 8), np.float32))
    assert empty.vectors.shape == (0, 8)
