"""Fixtures of the focus tests: the profile's clock (a ``TravelClock`` at Monday
23 November 2026, 07:00 in Berlin, the local zone) and a seeded profile that reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeEncoder
from focus_fixtures import TravelClock, berlin, local_zone, make_vault, seed

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths


@pytest.fixture
def clock() -> Iterator[TravelClock]:
    with local_zone("Europe/Berlin"):
        yield TravelClock(berlin(2026, 11, 23, 7, 0))


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return make_vault(tmp_path / "vault")


@pytest.fixture
def desk(data_dir: Path, vault: Path, clock: TravelClock) -> Iterator[FocusDesk]:
    """A profile on ``clock`` with five synced notes and two goals (firmware, hiring)."""
    fd = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
    seed(fd, vault)
    yield fd
    fd.close()
