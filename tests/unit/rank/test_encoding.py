"""The ``Encoder`` protocol: what the app needs of an encoder, met by the real one and the fake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fakes import FakeEncoder

from focusdesk.rank.encoder import Encoder as SentenceEncoder
from focusdesk.rank.encoding import Encoder


def _members() -> set[str]:
    names = {name for name in vars(Encoder) if not name.startswith("_")}
    return names | set(Encoder.__annotations__)


def test_the_real_encoder_and_the_fake_have_every_member_of_the_protocol(tmp_path: Path) -> None:
    members = _members()
    assert {"model_id", "encode", "model_path", "token_offsets"} <= members
    real = SentenceEncoder(tmp_path, "cpu")  # not loaded: only names are looked up
    fake = FakeEncoder()
    for encoder in (real, fake):
        missing = {n for n in members if not hasattr(type(encoder), n) and n not in vars(encoder)}
        assert not missing, type(encoder).__name__
    assert not real.loaded


def test_the_protocol_imports_neither_torch_nor_numpy() -> None:
    code = (
        "import sys\n"
        "import focusdesk.rank.encoding\n"
        "print([m for m in ('torch', 'sentence_transformers', 'numpy') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"
