"""`bench encode` on a tiny mbox with the real model: one run, every figure present."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from focusdesk.bench.encode import RAW, _interleaved, format_report, run_encode_bench
from focusdesk.cli import main
from focusdesk.rank.encoder import TOKENS_PER_BATCH


def _mbox(path: Path) -> Path:
    posts = [
        "The shuttle launch slipped a day because of weather over the Cape.",
        "Our team needs a closer; the bullpen blew another lead in the ninth.",
        "Encryption export rules keep strong crypto out of shipped software.",
    ]
    path.write_text(
        "\n".join(
            f"From a@b Mon Jan  1 00:00:00 2024\nMessage-ID: <m{n}@x>\nSubject: Post {n}\n"
            f"From: a@b\n\n{body}\n"
            for n, body in enumerate(posts)
        )
    )
    return path


@pytest.mark.model
def test_bench_encode_measures_raw_each_backend_and_the_sync_path(tmp_path: Path) -> None:
    result = run_encode_bench(
        _mbox(tmp_path / "in.mbox"), messages=2, backends=["torch-fp32"], rounds=1, log=str
    )
    rows = {r["backend"]: r for r in result["backends"]}
    # The backend the sync chose is timed too, asked for or not (its share needs it).
    assert set(rows) == {RAW, "torch-fp32", result["sync"]["backend"]}
    assert result["passages"] == 2
    assert rows[RAW]["ratio_to_raw"] == 1.0
    assert len(rows["torch-fp32"]["ratio_to_raw_per_round"]) == 1
    assert rows["torch-fp32"]["min_cosine"] > 0.999
    assert rows["torch-fp32"]["tokens_per_s"] > 0
    sync = result["sync"]
    assert sync["items"] == 2
    assert sync["passages_encoded"] == 2
    assert sync["texts_per_s"] > 0
    assert len(sync["share_of_backend_per_round"]) == 1
    assert sync["share_of_backend"] == sync["share_of_backend_per_round"][0]
    assert result["machine"]["cores"] >= 1
    # Raw sentence-transformers runs at its own default batch; FocusDesk as the app does.
    assert result["raw_batch_size"] == 32
    assert result["batch_size"] == 64
    assert result["tokens_per_batch"] == TOKENS_PER_BATCH
    table = format_report(result)
    assert "sync path" in table
    assert RAW in table
    assert f"at most 64 texts and {TOKENS_PER_BATCH} tokens, raw batches of 32" in table


def test_bench_encode_refuses_a_missing_mbox(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["bench", "encode", "--mbox", str(tmp_path / "none.mbox")])
    assert code != 0
    assert "is not a file" in capsys.readouterr().err


def test_backends_are_timed_slice_by_slice_in_turn() -> None:
    # Each run encodes each slice once, the order rotating, and its vectors come back
    # in the order of the texts.
    calls: list[tuple[str, str]] = []

    def run(name: str) -> Callable[[list[str]], np.ndarray]:
        def encode(part: list[str]) -> np.ndarray:
            calls.append((name, part[0]))
            return np.array([[float(t)] for t in part])

        return encode

    texts = [str(n) for n in range(600)]
    vectors: dict[str, np.ndarray] = {}
    seconds = _interleaved({"a": run("a"), "b": run("b")}, texts, vectors, turn=1)
    assert set(seconds) == {"a", "b"}
    assert calls == [("b", "0"), ("a", "0"), ("a", "256"), ("b", "256"), ("b", "512"), ("a", "512")]
    for name in ("a", "b"):
        np.testing.assert_array_equal(vectors[name][:, 0], np.arange(600, dtype=float))
