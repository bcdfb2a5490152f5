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
