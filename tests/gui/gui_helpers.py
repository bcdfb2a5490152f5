"""Helpers shared by the GUI tests: sample notes and an encoder that can be held."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from fakes import FakeEncoder

from focusdesk.progress import CancelToken, ProgressCallback, no_progress

# The offscreen platform warns whenever a window's size constraints change, and when a
# popup menu asks to be raised or to grab the keyboard; harmless.
OFFSCREEN_NOISE = (
    r"This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)"
)
SIGNAL_TIMEOUT_MS = 20_000

NOTES = {
    "firmware.md": (
        "# Firmware release plan\n\n"
        "Ship the v2 firmware release with the new low power mode.\n\n"
        "Release checklist: run the battery soak test, sign the firmware image, "
        "publish the OTA update to the beta ring.\n"
    ),
    "hiring.md": (
        "# Hiring embedded engineers\n\n"
        "Interview loop for two embedded engineers: a take-home exercise, "
        "a pairing session and a chat with the team.\n"
    ),
    "soup.md": "# Leek soup\n\nOnions, leeks and potatoes, simmered slowly with stock.\n",
}


class BlockingEncoder(FakeEncoder):
    """A fake encoder whose first ``encode`` waits until released or cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()
        self._blocked_once = False

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        if not self._blocked_once:
            self._blocked_once = True
            self.started.set()
            while not self.release.wait(0.01):
                if cancel is not None and cancel.cancelled:
                    break
        return super().encode(texts, progress=progress, cancel=cancel)


def ranked_window(qtbot: Any, make_window: Any, desk: Any, notes: Any, *goals: str) -> Any:
    """A shown window on a synced, ranked profile with the ``notes`` folder and ``goals``."""
    desk.sources.add("notes", str(notes))
    for goal in goals:
        desk.goals.add(goal)
    window = make_window(desk, show=False)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.show()  # never synced: the window syncs, then ranks, by itself
    activate(qtbot, window)
    return window


def activate(qtbot: Any, window: Any) -> None:
    """Make ``window`` the active one, so that its window-wide shortcuts work."""
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=SIGNAL_TIMEOUT_MS)


def shown_titles(window: Any) -> list[str]:
    """The titles the inbox shows, top to bottom."""
    return [item.title for item in window.inbox_model.items()]


def settle(qtbot: Any, window: Any) -> None:
    """Wait until the window's background work is done."""
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)


def wait_reading(qtbot: Any, window: Any, item_id: int | None) -> None:
    """The reader reads its item in the background: wait until it shows ``item_id``."""
    qtbot.waitUntil(lambda: window.reader.item_id == item_id, timeout=SIGNAL_TIMEOUT_MS)
