"""The encoder's model id worked out without loading the model (the stored ranking's check)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from focusdesk.rank.backends import setup_key
from focusdesk.rank.encoder import Encoder


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"x" * 1234)
    return folder


def encoder(
    model_dir: Path, tmp_path: Path, backend: str, verdict: dict[str, object] | None
) -> Encoder:
    cache = tmp_path / "cache"
    cache.mkdir(exist_ok=True)
    if verdict is not None:
        key = setup_key("my-model:1234", backend)
        (cache / "encoder-verdicts.json").write_text(json.dumps({key: verdict}))
    return Encoder(model_dir, "cpu", backend=backend, cache_dir=cache)


@pytest.mark.parametrize(
    ("backend", "verdict", "expected"),
    [
        ("torch-fp32", None, "my-model:1234"),  # fp32 needs no fidelity check
        ("torch-bf16", {"ok": True, "min_cosine": 1.0, "mean_cosine": 1.0}, "my-model:1234+bf16"),
        ("torch-bf16", {"ok": False, "why": "too far"}, "my-model:1234"),  # falls back to fp32
        ("torch-bf16", None, None),  # not checked on this machine yet: only loading can tell
    ],
)
def test_the_model_id_is_known_from_the_settings_and_the_saved_verdicts(
    model_dir: Path,
    tmp_path: Path,
    backend: str,
    verdict: dict[str, object] | None,
    expected: str | None,
) -> None:
    enc = encoder(model_dir, tmp_path, backend, verdict)
    assert enc.expected_model_id() == expected
    assert not enc.loaded


def test_a_model_folder_of_other_weights_is_another_model(model_dir: Path, tmp_path: Path) -> None:
    enc = encoder(model_dir, tmp_path, "torch-fp32", None)
    before = enc.expected_model_id()
    (model_dir / "model.safetensors").write_bytes(b"y" * 999)
    assert enc.expected_model_id() != before


def test_working_it_out_imports_no_ml_stack(model_dir: Path, tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from focusdesk.rank.encoder import Encoder\n"
        f"enc = Encoder(Path({str(model_dir)!r}), 'cpu', backend='torch-fp32')\n"
        "print(enc.expected_model_id())\n"
        "print([m for m in ('torch', 'sentence_transformers', 'numpy') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out == ["my-model:1234", "[]"]


# -- batching -----------------------------------------------------------------------------


def test_batches_hold_at_most_size_texts_and_budget_padded_tokens() -> None:
    from focusdesk.rank.encoder import batches

    lengths = [5, 5, 6, 10, 10, 30, 100, 300]  # sorted, as the encoder sorts them
    spans = batches(lengths, 4, 40)
    assert [list(s) for s in spans] == [[0, 1, 2, 3], [4], [5], [6], [7]]
    # Every text once, in order; a text longer than the budget still gets its own batch.
    assert [i for s in spans for i in s] == list(range(len(lengths)))
    for s in spans:
        assert len(s) <= 4
        assert len(s) == 1 or len(s) * lengths[s[-1]] <= 40
    # Without a budget (a GPU), only the count limits a batch.
    assert [len(s) for s in batches(lengths, 3, None)] == [3, 3, 2]
    assert batches([], 8, 100) == []


@pytest.mark.model
def test_on_a_cpu_the_encoder_feeds_its_runner_budget_sized_batches(
    real_encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import focusdesk.rank.encoder as encoder_module

    monkeypatch.setattr(encoder_module, "TOKENS_PER_BATCH", 64)
    shapes: list[tuple[int, int]] = []

    class Spy:
        def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            shapes.append(ids.shape)
            return np.ones((len(ids), real_encoder.dim), dtype=np.float32)

    texts = [("word " * n).strip() for n in (2, 3, 3, 4, 20, 40, 90, 5)]
    out = real_encoder._run(Spy(), texts)
    assert out.shape == (len(texts), real_encoder.dim)
    assert sum(n for n, _ in shapes) == len(texts)
    assert all(n == 1 or n * width <= 64 for n, width in shapes)
    assert len(shapes) > 2  # the short texts share a batch, the long ones do not
    assert max(n for n, _ in shapes) > 1
