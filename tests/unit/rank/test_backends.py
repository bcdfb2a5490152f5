"""Encoder backends: which one is chosen and why, fidelity fallbacks, the ONNX cache."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from fakes import tiny_bert

from focusdesk.rank import backends
from focusdesk.rank.backends import (
    BF16,
    FP16,
    FP32,
    INT8,
    Verdicts,
    candidate,
    cpu_flags,
    native_bf16,
    setup_key,
)
from focusdesk.settings import ENCODER_BACKENDS


def test_auto_prefers_cuda_then_native_bf16_then_fp32() -> None:
    assert candidate("auto", cuda=True, flags={"avx512_bf16"}).name == FP16
    bf16 = candidate("auto", cuda=False, flags={"avx512f", "avx512_bf16"})
    assert bf16.name == BF16
    assert "avx512_bf16" in bf16.reason
    assert candidate("auto", cuda=False, flags={"amx_bf16"}).name == BF16
    plain = candidate("auto", cuda=False, flags={"avx2", "avx512f"})
    assert plain.name == FP32
    assert "no native bf16" in plain.reason


def test_a_forced_backend_is_tried_and_an_impossible_one_says_why() -> None:
    assert candidate(INT8, cuda=False, flags=set()).name == INT8
    assert candidate(BF16, cuda=False, flags=set()).name == BF16  # forced, even if slow
    no_gpu = candidate(FP16, cuda=False, flags=set())
    assert no_gpu.name == FP32
    assert "no CUDA device" in no_gpu.reason
    assert candidate("tpu", cuda=False, flags=set()).name == FP32


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 avx512_vnni\n")
    flags = cpu_flags(info)
    assert native_bf16(flags) == "avx512_bf16"
    assert cpu_flags(tmp_path / "missing") == set()


def test_the_setting_offers_every_backend() -> None:
    assert ENCODER_BACKENDS == backends.CHOICES == ("auto", *backends.BACKENDS)


def test_verdicts_survive_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    Verdicts(path).put("k", {"ok": True})
    assert Verdicts(path).get("k") == {"ok": True}
    path.write_text("{not json")
    assert Verdicts(path).get("k") is None
    Verdicts(path).put("k2", {"ok": False})
    assert Verdicts(path).get("k2") == {"ok": False}


def _tiny_model() -> object:
    """A tiny BERT shaped like a sentence-transformers model's first module."""
    return [SimpleNamespace(auto_model=tiny_bert())]


def test_a_corrupt_cached_onnx_model_is_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = _tiny_model()
    folder = tmp_path / "onnx"
    ids = np.array([[1, 5, 7, 2, 0], [1, 9, 2, 0, 0]], dtype=np.int64)
    mask = (ids > 0).astype(np.int64)
    first = backends.onnx_int8_runner(model, folder, 1).run(ids, mask)
    path = folder / "model-int8.onnx"
    assert path.exists()
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    # Damaged on disk: half of it gone.
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with caplog.at_level(logging.WARNING):
        again = backends.onnx_int8_runner(model, folder, 1).run(ids, mask)
    assert "damaged" in caplog.text
    np.testing.assert_allclose(again, first, atol=1e-5)
    # Garbage with a matching checksum (written by something else) does not load: rebuilt.
    path.write_bytes(b"not an onnx model")
    (folder / "model-int8.onnx.sha256").write_text(backends._sha256(path))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        third = backends.onnx_int8_runner(model, folder, 1).run(ids, mask)
    assert "does not load" in caplog.text
    np.testing.assert_allclose(third, first, atol=1e-5)


# -- with the real bundled model ----------------------------------------------------------


def _fresh(real_encoder: object, backend: str, cache: Path | None) -> object:
    """An encoder sharing the session's loaded model, choosing ``backend`` anew."""
    from focusdesk.rank.encoder import Encoder

    enc = Encoder(backend=backend, cache_dir=cache)
    model = real_encoder.load()  # type: ignore[attr-defined]
    enc._model = model
    enc._device = real_encoder.device  # type: ignore[attr-defined]
    enc._backend, enc._runner = enc._activate(model, cuda=False)
    return enc


@pytest.mark.model
def test_bf16_passes_the_fidelity_check_and_keeps_its_vectors_apart(
    real_encoder: object, tmp_path: Path
) -> None:
    from focusdesk.rank.packed_bert import PackedBertRunner

    enc = _fresh(real_encoder, BF16, tmp_path)
    assert enc.backend.name == BF16  # type: ignore[attr-defined]
    assert isinstance(enc._runner, PackedBertRunner)  # type: ignore[attr-defined]
    assert enc.backend.min_cosine >= backends.FIDELITY_MIN_COSINE  # type: ignore[attr-defined]
    assert enc.model_id == real_encoder.base_model_id + "+bf16"  # type: ignore[attr-defined]
    fp32 = _fresh(real_encoder, FP32, tmp_path)
    assert fp32.model_id == real_encoder.base_model_id  # type: ignore[attr-defined]
    texts = ["orbital mechanics of satellites", "a recipe for leek soup"]
    cos = np.sum(enc.encode(texts) * fp32.encode(texts), axis=1)  # type: ignore[attr-defined]
    assert cos.min() > 0.999


@pytest.mark.model
def test_a_verdict_on_the_older_autocast_bf16_is_not_taken_for_the_packed_one(
    real_encoder: object, tmp_path: Path
) -> None:
    import torch

    old_key = f"{real_encoder.base_model_id}|{BF16}|{torch.__version__}"  # type: ignore[attr-defined]
    Verdicts(tmp_path / "encoder-verdicts.json").put(old_key, {"ok": False, "why": "old"})
    enc = _fresh(real_encoder, BF16, tmp_path)
    assert enc.backend.name == BF16  # measured anew, not the old runner's verdict
    assert Verdicts(tmp_path / "encoder-verdicts.json").get(
        setup_key(real_encoder.base_model_id, BF16)  # type: ignore[attr-defined]
    )["ok"]


@pytest.mark.model
def test_bf16_of_a_model_that_cannot_run_packed_runs_its_own_forward_under_autocast(
    real_encoder: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import focusdesk.rank.encoder as encoder_module

    monkeypatch.setattr(encoder_module, "unsupported", lambda model: "its pooling is cls")
    enc = _fresh(real_encoder, BF16, tmp_path)
    assert enc.backend.name == BF16  # type: ignore[attr-defined]
    runner = enc._runner  # type: ignore[attr-defined]
    assert isinstance(runner, backends.TorchRunner)
    assert runner.bf16


@pytest.mark.model
def test_a_backend_that_fails_the_fidelity_check_falls_back_to_fp32_and_says_why(
    real_encoder: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import focusdesk.rank.encoder as encoder_module

    monkeypatch.setattr(encoder_module, "FIDELITY_MIN_COSINE", 1.01)  # nothing can pass
    enc = _fresh(real_encoder, BF16, tmp_path)
    assert enc.backend.name == FP32  # type: ignore[attr-defined]
    assert "failed the fidelity check" in enc.backend.reason  # type: ignore[attr-defined]
    assert enc.model_id == real_encoder.base_model_id  # type: ignore[attr-defined]
    # The verdict is kept: the next start falls back at once, without measuring again.
    monkeypatch.setattr(encoder_module, "FIDELITY_SAMPLE", ())
    again = _fresh(real_encoder, BF16, tmp_path)
    assert again.backend.name == FP32  # type: ignore[attr-defined]
    assert "failed the fidelity check" in again.backend.reason  # type: ignore[attr-defined]


@pytest.mark.model
def test_a_backend_that_cannot_load_falls_back_to_fp32_and_says_why(
    real_encoder: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import focusdesk.rank.encoder as encoder_module

    monkeypatch.setattr(encoder_module, "onnx_available", lambda: False)
    enc = _fresh(real_encoder, INT8, tmp_path)
    assert enc.backend.name == FP32  # type: ignore[attr-defined]
    assert "onnxruntime is not installed" in enc.backend.reason  # type: ignore[attr-defined]

    def broken(*args: object) -> object:
        raise RuntimeError("export failed: unsupported operator")

    monkeypatch.setattr(encoder_module, "onnx_available", lambda: True)
    monkeypatch.setattr(encoder_module, "onnx_int8_runner", broken)
    enc = _fresh(real_encoder, INT8, tmp_path)
    assert enc.backend.name == FP32  # type: ignore[attr-defined]
    assert "unsupported operator" in enc.backend.reason  # type: ignore[attr-defined]
    assert enc.encode(["still works"]).shape == (1, 384)  # type: ignore[attr-defined]


@pytest.mark.model
def test_cuda_fp16_runs_on_a_gpu(real_encoder: object, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from focusdesk.rank.encoder import Encoder

    enc = Encoder(device="cuda", cache_dir=tmp_path)
    enc.load()
    assert enc.backend.name == FP16  # type: ignore[union-attr]
    assert enc.model_id.endswith("+fp16")
    assert enc.encode(["a GPU test"]).shape == (1, 384)
