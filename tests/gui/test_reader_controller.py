"""The reader reads its item in the background; the newest request wins."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window, settle, wait_reading

from focusdesk.app import FocusDesk
from focusdesk.errors import KnownError
from focusdesk.records import ItemDetail


class HeldReads:
    """Wraps ``items.get`` so that the read of one item waits until released."""

    def __init__(self, desk: FocusDesk, held: int) -> None:
        self.held = held
        self.release = threading.Event()
        self.started = threading.Event()
        self._get = desk.items.get

    def __call__(self, item_id: int) -> ItemDetail:
        if item_id == self.held:
            self.started.set()
            assert self.release.wait(SIGNAL_TIMEOUT_MS / 1000)
        return self._get(item_id)


def test_a_late_answer_for_an_item_passed_by_is_dropped(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path, monkeypatch: Any
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "firmware release checklist")
    settle(qtbot, window)
    a, b = (item.item_id for item in window.inbox_model.items()[1:3])
    held = HeldReads(profile, a)
    monkeypatch.setattr(profile.items, "get", held)
    shown: list[int] = []
    window.reader_controller.item_did_show.connect(shown.append)

    window.inbox_controller.select_row(1)  # A: its read is held
    assert held.started.wait(SIGNAL_TIMEOUT_MS / 1000)
    window.inbox_controller.select_row(2)  # B, quickly: read beside A's, shown first
    wait_reading(qtbot, window, b)
    held.release.set()  # now A's answer arrives, late
    settle(qtbot, window)
    qtbot.wait(20)
    assert shown == [b]
    assert window.reader.item_id == b
    assert window.reader_pane.detail is not None
    assert window.reader_pane.detail.id == b
    assert window.inbox_controller.current_item_id() == b


def test_the_selection_does_not_wait_for_the_item(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path, monkeypatch: Any
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "firmware release checklist")
    settle(qtbot, window)
    first, second = (item.item_id for item in window.inbox_model.items()[:2])
    wait_reading(qtbot, window, first)
    held = HeldReads(profile, second)
    monkeypatch.setattr(profile.items, "get", held)
    window.inbox_controller.select_row(1)  # returns while the item is still being read
    assert window.inbox_controller.current_item_id() == second
    assert window.reader.item_id == first  # the body follows when it arrives
    held.release.set()
    wait_reading(qtbot, window, second)


def test_an_item_that_cannot_be_read_says_why(
    qtbot: Any, make_window: Any, profile: FocusDesk, notes_dir: Path, monkeypatch: Any
) -> None:
    window = ranked_window(qtbot, make_window, profile, notes_dir, "firmware release checklist")
    settle(qtbot, window)

    def gone(_item_id: int) -> ItemDetail:
        raise KnownError("This item is no longer in the profile.")

    monkeypatch.setattr(profile.items, "get", gone)
    window.inbox_controller.select_row(1)
    wait_reading(qtbot, window, None)
    assert "no longer in the profile" in window.reader.toPlainText()


def test_a_wikilink_opens_the_note_it_names(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "plan.md").write_text(
        "# Firmware plan\n\nShip the firmware. See [[checklist#Battery]].\n", encoding="utf-8"
    )
    (vault / "checklist.md").write_text(
        "# Checklist\n\nSign the firmware image.\n\n## Battery\n\nRun the soak test.\n",
        encoding="utf-8",
    )
    window = ranked_window(qtbot, make_window, profile, vault, "firmware release checklist")
    settle(qtbot, window)
    ids = {item.title: item.item_id for item in window.inbox_model.items()}
    assert window.inbox_controller.select_item(ids["Firmware plan"])
    wait_reading(qtbot, window, ids["Firmware plan"])
    window.reader_controller.open_linked_note("checklist#Battery")
    wait_reading(qtbot, window, ids["Checklist"])
    assert window.inbox_controller.current_item_id() == ids["Checklist"]
    window.reader_controller.open_linked_note("no such note")
    qtbot.waitUntil(
        lambda: "There is no note named “no such note”" in window.status_label.text(),
        timeout=SIGNAL_TIMEOUT_MS,
    )
    assert window.reader.item_id == ids["Checklist"]
