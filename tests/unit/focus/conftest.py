"""Fixtures of the focus tests: a fake wall clock (time-machine) and a seeded profile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from focus_fixtures import berlin, make_vault, seed

from focusdesk.app import FocusDesk


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The wall clock frozen at Monday 23 November 2026, 07:00 in Berlin, the local zone."""
    with time_machine.travel(berlin(2026, 11, 23, 7, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return make_vault(tmp_path / "vault")


@pytest.fixture
def desk(fd: FocusDesk, vault: Path, clock: time_machine.Traveller) -> FocusDesk:
    """A profile with five synced notes and two goals (firmware, hiring)."""
    seed(fd, vault)
    return fd
