"""What the rest of FocusDesk needs of a sentence encoder: the ``Encoder`` protocol.

Every caller (the ranker, sync, passages, search, the explainer, the app) is typed against
this protocol rather than against the sentence-transformers implementation in
``focusdesk.rank.encoder``, so a test can hand any object with these members (its fake
encoder) to ``FocusDesk`` without monkeypatching. Importing this module imports neither
torch nor numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from focusdesk.progress import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:
    import numpy as np

    from focusdesk.rank.backends import BackendChoice
    from focusdesk.rank.encoder import DeviceChoice


class Encoder(Protocol):
    """Embeds texts as L2-normalised float32 vectors and names the model that made them."""

    model_path: Path
    """The model's folder (shown by ``focusdesk doctor``)."""

    @property
    def base_model_id(self) -> str:
        """Names the model alone, without the backend; known without loading it."""
        ...

    @property
    def model_id(self) -> str:
        """Names the vectors the encoder makes (model and backend); may load the model."""
        ...

    def expected_model_id(self) -> str | None:
        """The ``model_id`` loading would give, without loading; None when only loading can
        tell."""
        ...

    @property
    def loaded(self) -> bool: ...

    @property
    def device(self) -> DeviceChoice | None:
        """The device in use, once loaded."""
        ...

    @property
    def backend(self) -> BackendChoice | None:
        """The backend in use and why, once loaded."""
        ...

    def load(self) -> Any:
        """Load the model (once)."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """The model's token window, special tokens included."""
        ...

    @property
    def fast_tokenizer(self) -> bool:
        """Whether ``token_offsets`` can be called."""
        ...

    def token_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """The character span of each token of each text (no special tokens)."""
        ...

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """One vector per text, in batches that can be cancelled."""
        ...
