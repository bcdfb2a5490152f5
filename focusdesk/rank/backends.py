"""Encoder backends: how the model's forward pass runs, chosen at run time and checked.

- ``torch-fp32``: the reference.
- ``torch-bf16``: bfloat16 matrix products on the CPU, chosen automatically where the CPU
  runs bf16 natively (AVX512-BF16 or AMX, read from ``/proc/cpuinfo``); elsewhere it is
  slower. A BERT model runs packed, with no padding outside attention (``packed_bert``);
  any other runs its own forward pass under CPU autocast.
- ``cuda-fp16``: the model in half precision on an NVIDIA GPU.
- ``onnx-int8``: ONNX Runtime with dynamically quantised per-channel int8 weights, from the
  optional extra ``focusdesk[onnx]``. Exported and quantised locally from the loaded model
  on first use, cached by model and backend; a cached file that fails its checksum or does
  not load is rebuilt. Nothing is downloaded.

Every backend but fp32 must pass a fidelity check on first use (cosine to fp32 of at least
``FIDELITY_MIN_COSINE`` on a fixed sample), else the encoder falls back to torch fp32 and
says why. torch and onnxruntime are imported lazily.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from focusdesk.settings import ENCODER_BACKENDS

if TYPE_CHECKING:  # numpy is imported where vectors are made: choosing a backend needs none
    import numpy as np

log = logging.getLogger(__name__)

FP32 = "torch-fp32"
BF16 = "torch-bf16"
FP16 = "cuda-fp16"
INT8 = "onnx-int8"
BACKENDS = (FP32, BF16, FP16, INT8)
"""Every backend, by the name the ``encoder_backend`` setting and ``doctor`` use."""
CHOICES = ENCODER_BACKENDS
assert ("auto", *BACKENDS) == CHOICES

FIDELITY_MIN_COSINE = 0.995
"""The smallest cosine to fp32 any text of the fidelity sample may have."""

SUFFIX = {FP32: "", BF16: "+bf16", FP16: "+fp16", INT8: "+onnx-int8"}
"""What each backend adds to the model id: vectors that differ are cached apart."""

FIDELITY_SAMPLE = (
    "Meeting moved to Thursday at 10:00.",
    "Re: quarterly budget review — please send the revised spreadsheet before Friday.",
    "The new GPU drivers fix the flickering on external monitors but break suspend.",
    "Has anyone tried cycling from Oslo to Bergen in April? Looking for advice on roads, "
    "weather and where to stay overnight along the way.",
    "In this paper we propose a retrieval model that encodes passages once and compares "
    "them with queries by cosine similarity, which makes indexing a large corpus cheap. "
    "We evaluate on three benchmarks and report nDCG@10 and recall@100.",
    "Orbital mechanics: a spacecraft in low Earth orbit completes a revolution in about "
    "ninety minutes, and raising the orbit lengthens the period according to Kepler's "
    "third law. Launch windows depend on the target's phase angle.",
    "I disagree with the previous poster. Gun control statistics are often quoted without "
    "context; the rates per capita differ widely between regions, and the causes are "
    "debated. Please cite your sources before drawing conclusions.",
    "def encode(texts):\n    return model(tokenize(texts)).mean(dim=1)",
    "Zusammenfassung: Die Sitzung wurde vertagt, die Protokolle folgen morgen.",
    "Baseball: the Red Sox lost again last night; the bullpen gave up four runs in the "
    "ninth inning. Is it time to trade for a closer before the deadline?",
    "For sale: 1992 Honda motorcycle, 30k miles, new tyres, runs well. Contact me by mail.",
    "Encryption keys held in escrow by the government raise questions about privacy and "
    "about who audits the escrow agents. The Clipper chip proposal is a case in point: "
    "the algorithm is classified, so outside experts cannot review it. " * 3,
)
"""A fixed, varied sample for the fidelity check: short and long, prose, code, German."""


@dataclass(frozen=True)
class BackendChoice:
    """The backend in use and why, with the fidelity it measured (None when not checked)."""

    name: str
    reason: str
    min_cosine: float | None = None
    mean_cosine: float | None = None


class Runner(Protocol):
    """Runs the model on one padded batch of token ids; returns L2-normalised float32 rows."""

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


def cpu_count() -> int:
    """The cores this process may use (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU feature flags (Linux); empty where they cannot be read."""
    try:
        text = cpuinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def native_bf16(flags: set[str]) -> str | None:
    """The flag that shows the CPU computes bf16 natively, or None."""
    for flag in ("amx_bf16", "avx512_bf16"):
        if flag in flags:
            return flag
    return None


def candidate(preference: str, *, cuda: bool, flags: set[str]) -> BackendChoice:
    """The backend to try for a preference (``auto`` or a backend name), and why."""
    if preference not in CHOICES:
        return BackendChoice(FP32, f"unknown encoder backend {preference!r} in the settings")
    if preference != "auto":
        if preference == FP16 and not cuda:
            return BackendChoice(FP32, "cuda-fp16 chosen in the settings but no CUDA device")
        return BackendChoice(preference, f"{preference} chosen in the settings")
    if cuda:
        return BackendChoice(FP16, "CUDA device found")
    flag = native_bf16(flags)
    if flag:
        return BackendChoice(BF16, f"the CPU runs bf16 natively ({flag})")
    return BackendChoice(FP32, "no CUDA device and no native bf16 on this CPU")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two matrices of vectors."""
    import numpy as np

    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    return np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-12)


# -- torch ------------------------------------------------------------------------------------


class TorchRunner:
    """A sentence-transformers model's forward pass, optionally under bf16 autocast."""

    def __init__(self, model: Any, *, bf16: bool = False) -> None:
        self.model = model
        self.bf16 = bf16
        self.device = str(model.device)

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import numpy as np
        import torch  # noqa: TID253 - rank/ is the one place allowed, lazily

        features = {
            "input_ids": torch.from_numpy(ids).to(self.device),
            "attention_mask": torch.from_numpy(mask).to(self.device),
            "token_type_ids": torch.zeros_like(torch.from_numpy(ids)).to(self.device),
        }
        cast = torch.autocast("cpu", dtype=torch.bfloat16) if self.bf16 else nullcontext()
        with torch.inference_mode(), cast:
            out = self.model(features)["sentence_embedding"]
        out = torch.nn.functional.normalize(out.float(), p=2, dim=1)
        return np.asarray(out.cpu().numpy(), dtype=np.float32)


# -- ONNX Runtime int8 ------------------------------------------------------------------------


class OnnxRunner:
    """An ONNX Runtime session of the exported transformer; pooling redone in numpy."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: on a machine of a few cores they would
        # take the cores from everything else (the sync's reader, torch).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import numpy as np

        (hidden,) = self.session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def onnx_available() -> bool:
    """Whether the optional extra ``focusdesk[onnx]`` (onnxruntime and onnx) is installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def onnx_int8_runner(model: Any, folder: Path, threads: int) -> OnnxRunner:
    """The int8 runner from the cached file in ``folder``, exported and quantised if missing.

    A cached file whose checksum does not match, or that ONNX Runtime cannot load, is
    rebuilt from the model.
    """
    path = folder / "model-int8.onnx"
    check = folder / "model-int8.onnx.sha256"
    if path.exists() and check.exists():
        try:
            if _sha256(path) == check.read_text(encoding="ascii").strip():
                return OnnxRunner(path, threads)
            log.warning("The cached ONNX model %s is damaged (checksum); rebuilding it", path)
        except Exception as exc:
            log.warning("The cached ONNX model %s does not load (%s); rebuilding it", path, exc)
    export_int8(model, path)
    check.write_text(_sha256(path) + "\n", encoding="ascii")
    return OnnxRunner(path, threads)


def export_int8(model: Any, path: Path) -> None:
    """Export the model's transformer to ONNX, quantise it to per-channel int8, atomically."""
    import torch  # noqa: TID253
    from onnxruntime.quantization import QuantType, quantize_dynamic

    bert = model[0].auto_model

    class _Wrapped(torch.nn.Module):
        # transformers 5 takes use_cache positionally: pass everything as keywords.
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        int8 = Path(tmp) / "model-int8.onnx"
        dummy = torch.ones((2, 8), dtype=torch.long)
        axes = {0: "batch", 1: "tokens"}
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it fixes
            torch.onnx.export(
                _Wrapped().eval(),
                (dummy, dummy, torch.zeros_like(dummy)),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": axes,
                    "attention_mask": axes,
                    "token_type_ids": axes,
                    "last_hidden_state": axes,
                },
                opset_version=17,
                dynamo=False,
            )
        # Per-tensor int8 loses too much (min cosine 0.84 on dev passages): per channel.
        logging.getLogger().disabled, was = True, logging.getLogger().disabled
        try:  # quantize_dynamic logs every tensor it leaves alone on the root logger
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.getLogger().disabled = was
        os.replace(int8, path)


# -- the first-use verdicts -------------------------------------------------------------------


class Verdicts:
    """Fidelity verdicts kept on disk, so the check runs once per model, backend and setup."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._read().get(key)
        return value if isinstance(value, dict) else None

    def put(self, key: str, verdict: dict[str, Any]) -> None:
        if self.path is None:
            return
        data = self._read()
        data[key] = verdict
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("Encoder verdicts could not be saved to %s: %s", self.path, exc)


RUNNER_REVISION = {BF16: "|packed"}
"""Marks a backend whose forward pass changed, so that a verdict measured on the old one
is not taken for the new: bf16 runs packed (``packed_bert``) since the autocast verdicts."""


def setup_key(base_model_id: str, backend: str) -> str:
    """Identifies what a verdict was measured on: the model, the backend and the libraries."""
    from importlib.metadata import PackageNotFoundError, version

    def v(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "-"

    libs = f"torch={v('torch')},ort={v('onnxruntime')}" if backend == INT8 else v("torch")
    return f"{base_model_id}|{backend}|{libs}{RUNNER_REVISION.get(backend, '')}"


def check_fidelity(
    reference: Sequence[np.ndarray] | np.ndarray, candidate_vectors: np.ndarray
) -> tuple[float, float]:
    """(min, mean) cosine of the candidate's vectors to the fp32 reference."""
    import numpy as np

    cos = cosines(np.asarray(reference, np.float32), np.asarray(candidate_vectors, np.float32))
    return float(cos.min()), float(cos.mean())
