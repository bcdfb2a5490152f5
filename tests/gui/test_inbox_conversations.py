"""A mail conversation is one inbox row with its message count; the reader shows the thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, activate, settle
from PySide6.QtCore import Qt

from focusdesk.app import FocusDesk
from focusdesk.ui.inbox_model import Column

MBOX = (
    "From x Mon Mar  2 09:00:00 2026\nFrom: Ann <ann@example.org>\n"
    "Subject: Firmware power budget\nDate: Mon, 02 Mar 2026 09:00:00 +0000\n"
    "Message-ID: <root@x>\n\nThe firmware power budget for the sensor board: sleep current, "
    "radio duty cycle and battery life.\n\n"
    "From x Tue Mar  3 09:00:00 2026\nFrom: Bob <bob@example.org>\n"
    "Subject: Re: Firmware power budget\nDate: Tue, 03 Mar 2026 09:00:00 +0000\n"
    "Message-ID: <r1@x>\nIn-Reply-To: <root@x>\n\nLow power firmware: the radio wakes every "
    "ten seconds; sleep current measured at four microamps.\n\n"
    "From x Wed Mar  4 09:00:00 2026\nFrom: Cy <cy@example.org>\n"
    "Subject: Re: Firmware power budget\nDate: Wed, 04 Mar 2026 09:00:00 +0000\n"
    "Message-ID: <r2@x>\nReferences: <root@x> <r1@x>\n\nAgreed, I will update the "
    "spreadsheet tonight.\n\n"
    "From x Wed Mar  4 10:00:00 2026\nFrom: Dee <dee@example.org>\nSubject: Team lunch\n"
    "Date: Wed, 04 Mar 2026 10:00:00 +0000\nMessage-ID: <o@x>\n\nPizza on Friday.\n"
)


def test_a_conversation_row_shows_its_count_and_the_reader_its_messages(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    mbox = tmp_path / "in.mbox"
    mbox.write_text(MBOX)
    profile.sources.add("mbox", str(mbox))
    profile.goals.add("Ship the low-power firmware for the sensor board")
    window = make_window(profile, show=False)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.show()
    activate(qtbot, window)
    model = window.inbox_model
    assert model.rowCount() == 2  # the conversation and the lunch mail
    (row,) = [n for n in range(model.rowCount()) if model.item_at(n).thread_size == 3]
    cell = model.index(row, Column.TITLE)
    assert cell.data().endswith("Firmware power budget  (3)")
    assert "A conversation of 3 messages" in cell.data(Qt.ItemDataRole.ToolTipRole)

    item = model.item_at(row)
    window.inbox_controller.select_item(item.item_id)
    qtbot.waitUntil(lambda: window.reader.item_id == item.item_id, timeout=SIGNAL_TIMEOUT_MS)
    text = window.reader.toPlainText()
    assert "Conversation · 3 messages" in text
    # Every message is listed in date order, the one shown above marked.
    order = [text.index(f"{n}. {who}") for n, who in enumerate(("Ann", "Bob", "Cy"), 1)]
    assert order == sorted(order)
    assert "◆" in text
    others = [m for m in ("Ann", "Bob", "Cy") if m not in (item.author or "")]
    bodies = {"Ann": "sleep current, radio duty cycle", "Bob": "four microamps", "Cy": "tonight"}
    assert all(bodies[m] in text.split("Conversation · 3 messages")[1] for m in others)

    # Done on the row finishes the whole conversation: it leaves the inbox and stays out.
    window.inbox_view.setFocus()
    with qtbot.waitSignal(window.item_actions.item_did_change, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClicks(window.inbox_view, "e")
    settle(qtbot, window)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.inbox_controller.request_rank()
    assert [i.title for i in model.items()] == ["Team lunch"]
