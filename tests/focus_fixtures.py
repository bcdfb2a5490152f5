"""Helpers shared by the focus tests: a small synced vault with goals, and time helpers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fakes import ManualClock

from focusdesk.app import FocusDesk

BERLIN = ZoneInfo("Europe/Berlin")

VAULT = {
    "ota.md": "# OTA rollback\n\nSigned OTA firmware updates with rollback for the sensor.",
    "ble.md": "# BLE disconnects\n\nBLE firmware disconnects during OTA updates on old phones.",
    "power.md": "# Sleep current\n\nFirmware sleep current budget for the battery sensor.",
    "hiring.md": "# Interview loop\n\nInterview loop for two embedded firmware engineers.",
    "soup.md": "# Leek soup\n\nLeek and potato soup with stock.",
}


def berlin(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """A Berlin wall time (aware); ``local_zone("Europe/Berlin")`` makes Berlin local."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=BERLIN)


class TravelClock(ManualClock):
    """The profile's clock in the focus tests: ``move_to`` is time passing (the wall and
    the monotonic clock move together); ``shift`` moves the wall clock alone, as sleep or
    a clock change does."""

    def __init__(self, at: datetime) -> None:
        super().__init__(at)
        self._mono = 1_000_000.0

    def monotonic(self) -> float:
        return self._mono

    def move_to(self, when: datetime) -> None:
        self._mono += (when - self.at).total_seconds()
        self.at = when

    def shift(self, delta: timedelta) -> None:
        self.at += delta


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Make ``name`` the process's local time zone (``TZ``) for the block."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def make_vault(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in VAULT.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def seed(desk: FocusDesk, vault: Path) -> list[int]:
    """Add the vault, sync it, add two goals; the goal ids."""
    desk.sources.add("notes", str(vault), name="Notes")
    desk.sources.sync()
    firmware = desk.goals.add("Ship the sensor firmware: OTA updates, BLE, sleep current")
    hiring = desk.goals.add("Hire embedded firmware engineers: interview loop")
    return [firmware.id, hiring.id]


def add_note(vault: Path, name: str, text: str) -> None:
    (vault / name).write_text(text, encoding="utf-8")
