"""Test doubles for tests that are about something other than the model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from focusdesk.progress import CancelToken, Progress, ProgressCallback, no_progress

_WORD = re.compile(r"[a-z0-9]+")
_WORD_ANY_CASE = re.compile(r"[A-Za-z0-9]+")


class FakeEncoder:
    """A tiny deterministic encoder: hashed bag of words, L2-normalised.

    Texts that share words get similar vectors, so ranking by it is meaningful
    enough for tests of sync, storage and the UI. Counts what it encodes.
    """

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.model_path = Path("/fake/model")
        self.encoded = 0
        self.calls = 0

    @property
    def model_id(self) -> str:
        return f"fake-bow:{self._dim}"

    @property
    def base_model_id(self) -> str:
        return self.model_id

    @property
    def backend(self) -> None:
        return None

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return 256

    @property
    def loaded(self) -> bool:
        return True

    @property
    def device(self) -> None:
        return None

    def expected_model_id(self) -> str | None:
        return self.model_id

    def load(self) -> FakeEncoder:
        return self

    @property
    def fast_tokenizer(self) -> bool:
        return True

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Each word (as ``encode`` sees it) is one token."""
        return [[m.span() for m in _WORD_ANY_CASE.finditer(t)] for t in texts]

    def count_tokens(self, text: str) -> int:
        return len(self.token_offsets([text])[0])

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            if cancel is not None:
                cancel.raise_if_cancelled()
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row, h % self._dim] += 1.0
            if not out[row].any():
                out[row, 0] = 1.0
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        self.encoded += len(texts)
        progress(Progress("encode", len(texts), len(texts)))
        return out


class ManualClock:
    """A ``focusdesk.clock.Clock`` that stands still until a test moves ``at`` by hand."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.at.timestamp()


def tiny_bert(**overrides: object) -> object:
    """A randomly initialised two-layer BERT of width 32 (transformers' ``BertModel``), for
    tests of how the encoder runs a model rather than of what the model knows."""
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        **overrides,
    )
    return BertModel(config).eval()
