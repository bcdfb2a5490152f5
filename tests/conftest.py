"""Shared fixtures: every test gets its own data dir; the real model loads once per session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import FakeEncoder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh profile folder for each test; nothing touches the user's real profile."""
    profile = tmp_path / "profile"
    monkeypatch.setenv("FOCUSDESK_DATA_DIR", str(profile))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return profile


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def fd(data_dir: Path, fake_encoder: FakeEncoder) -> Iterator[object]:
    """A freshly migrated profile with the fake encoder."""
    from focusdesk.app import FocusDesk
    from focusdesk.paths import resolve_paths

    app = FocusDesk(resolve_paths(data_dir), encoder=fake_encoder)  # type: ignore[arg-type]
    yield app
    app.close()


@pytest.fixture(scope="session")
def real_encoder() -> object:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from focusdesk.rank.encoder import Encoder

    encoder = Encoder()
    encoder.load()
    return encoder


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
