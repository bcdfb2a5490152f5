"""Fixtures of the review tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from review_helpers import make_profile


@pytest.fixture
def profile(fd: Any, tmp_path: Path) -> Any:
    make_profile(fd, tmp_path)
    return fd
