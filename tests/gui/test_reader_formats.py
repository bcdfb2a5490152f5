"""The reader formats what it shows: Markdown notes, and HTML mail whose plain part is a stub.

Each test drives a real window on a real, synced profile (a notes folder or an mbox)
with the mouse or the keyboard, the way a user reads.
"""

from __future__ import annotations

import mailbox
import socket
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from gui_helpers import SIGNAL_TIMEOUT_MS, activate
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor, QTextDocument

from focusdesk.app import FocusDesk

TRIP = """---
categories:
  - "[[Trips]]"
start: 2023-09-12
loc:
  - "[[Kyoto]]"
---
# Japan trip

We stay **three nights** in [[Kyoto|the old capital]] and one in [[Nara]].

> [!info]- Train passes
> Buy the *JR pass* before leaving.

Packing list:
- clothes
\t- socks
\t- rain jacket
- [[Missing guide]]

| Day | Place |
|-----|-------|
| 1   | Kyoto |
"""
KYOTO = "# Kyoto\n\nTemples, the Philosopher's Path and tofu for dinner.\n"
NARA = "# Nara\n\nDeer park and the great Buddha hall.\n"

NEWSLETTER_HTML = """<html><body>
<h1>Battery Weekly</h1>
<p>This week: the <b>soak test</b> results for the v2 firmware are in, and every unit
passed the forty-eight hour run without a single brown-out or reset.</p>
<table><tr><th>Unit</th><th>Hours</th></tr><tr><td>A1</td><td>48</td></tr></table>
<p><img src="{server}/chart.png" width="600" height="300" alt="Soak chart">
<img src="{server}/team.png" width="600" height="400" alt="Team photo">
<img src="{server}/logo.png" width="300" height="100" alt="Logo"></p>
<p>Read the full report on our site, where the raw logs of every unit are attached
for anyone who wants to check the numbers for themselves.</p>
</body></html>"""


def write_vault(root: Path) -> Path:
    root.mkdir()
    (root / "Trips").mkdir()
    (root / "Trips" / "2023 Japan Trip.md").write_text(TRIP, encoding="utf-8")
    (root / "Places").mkdir()
    (root / "Places" / "Kyoto.md").write_text(KYOTO, encoding="utf-8")
    (root / "Nara.md").write_text(NARA, encoding="utf-8")
    return root


def write_newsletter(path: Path, server: str, *, plain: str = "See the HTML version.") -> Path:
    msg = EmailMessage()
    msg["From"] = "Battery Weekly <news@battery.example>"
    msg["To"] = "me@example.com"
    msg["Subject"] = "Battery Weekly: soak test results"
    msg["Date"] = "Wed, 18 Nov 2026 09:00:00 +0000"
    msg["Message-ID"] = "<weekly-47@battery.example>"
    msg.set_content(plain)
    msg.add_alternative(NEWSLETTER_HTML.format(server=server), subtype="html")
    box = mailbox.mbox(str(path))
    box.add(msg)
    box.close()
    return path


def closed_port_url() -> str:
    """A loopback address where nothing listens: every fetch fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def synced_window(qtbot: Any, make_window: Any, desk: FocusDesk, *goals: str) -> Any:
    for goal in goals:
        desk.goals.add(goal)
    window = make_window(desk, show=False)
    window.resize(1400, 900)
    with qtbot.waitSignal(window.inbox_controller.rank_did_finish, timeout=SIGNAL_TIMEOUT_MS):
        window.show()
    activate(qtbot, window)
    return window


def click_row(qtbot: Any, window: Any, title: str) -> None:
    """Click the inbox row whose title starts with ``title``; the reader shows it."""
    view = window.inbox_view
    model = view.model()
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        titles = [str(model.index(row, c).data() or "") for c in range(model.columnCount())]
        if any(t.startswith(title) for t in titles):
            view.scrollTo(index)
            rect = view.visualRect(index)
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            qtbot.waitUntil(lambda: window.reader_pane.detail is not None)
            qtbot.waitUntil(lambda: window.reader_pane.detail.title.startswith(title))
            return
    raise AssertionError(f"no row titled {title!r}")


def click_link(qtbot: Any, reader: Any, text: str) -> None:
    """Click the link whose text is ``text`` in the reader, where it is drawn."""
    found = reader.document().find(text)
    assert not found.isNull(), f"{text!r} is not in the reader"
    assert found.charFormat().isAnchor(), f"{text!r} is not a link"
    middle = QTextCursor(reader.document())
    middle.setPosition((found.selectionStart() + found.selectionEnd()) // 2)
    reader.setTextCursor(middle)
    reader.ensureCursorVisible()
    rect = reader.cursorRect(middle)
    pos = QPoint(rect.center().x(), rect.center().y())
    qtbot.mouseClick(reader.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def has_images(document: QTextDocument) -> bool:
    """Whether the document draws any image (a loaded one, or Qt's broken-image icon)."""
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            if it.fragment().charFormat().isImageFormat():
                return True
            it += 1
        block = block.next()
    return False


def test_a_note_is_rendered_and_its_wikilinks_open_notes(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    vault = write_vault(tmp_path / "vault")
    profile.sources.add("notes", str(vault))
    window = synced_window(qtbot, make_window, profile, "Plan the Japan trip")
    click_row(qtbot, window, "Japan trip")
    reader = window.reader
    text = reader.toPlainText()
    # No Markdown syntax is left: it is formatting now.
    for raw in ("**", "[[", "> [!", "[!info]", "| Day", "\t- socks", "---"):
        assert raw not in text, f"raw Markdown {raw!r} is shown"
    assert "three nights" in text
    assert "the old capital" in text
    doc = reader.document()
    bold = doc.find("three nights")
    assert bold.charFormat().fontWeight() >= 600  # **bold**
    heading = doc.find("Japan trip", doc.find("Properties"))
    assert heading.block().blockFormat().headingLevel() == 1
    socks = doc.find("socks")
    assert socks.block().textList() is not None
    assert socks.block().textList().format().indent() >= 2  # the tab-indented list nests
    assert socks.currentTable() is None
    assert doc.find("Kyoto", doc.find("| Day") if False else doc.find("Place")).currentTable()
    # The callout is a box with its title; its fold marker is not text.
    passes = doc.find("Train passes")
    assert passes.currentTable() is not None
    assert "[!info]-" not in text
    # The front matter is a properties table, its links are links.
    assert doc.find("categories").currentTable() is not None
    assert "2023-09-12" in text

    # A wikilink opens the linked note inside FocusDesk (found in another folder).
    click_link(qtbot, reader, "the old capital")
    qtbot.waitUntil(lambda: window.reader_pane.detail.title == "Kyoto", timeout=SIGNAL_TIMEOUT_MS)
    assert "Philosopher's Path" in reader.toPlainText()

    # A link to a note that is not in the vault says so in words.
    click_row(qtbot, window, "Japan trip")
    click_link(qtbot, reader, "Missing guide")
    qtbot.waitUntil(lambda: "Missing guide" in window.status_label.text())
    assert "no note" in window.status_label.text().lower()
    assert window.reader_pane.detail.title == "Japan trip"

    # The keyboard alone: Tab walks the reader's links, Enter follows one.
    reader.setFocus()
    for _ in range(10):
        if reader.textCursor().selectedText() == "Nara":
            break
        qtbot.keyClick(reader, Qt.Key.Key_Tab)
    assert reader.textCursor().selectedText() == "Nara"
    qtbot.keyClick(reader, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.reader_pane.detail.title == "Nara", timeout=SIGNAL_TIMEOUT_MS)


def test_a_newsletter_with_a_stub_plain_part_shows_its_html_with_a_toggle(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    server = closed_port_url()
    profile.sources.add("mbox", str(write_newsletter(tmp_path / "news.mbox", server)))
    window = synced_window(qtbot, make_window, profile, "Ship the v2 firmware")
    click_row(qtbot, window, "Battery Weekly")
    pane = window.reader_pane
    reader = window.reader
    text = reader.toPlainText()
    assert "See the HTML version" not in text
    assert "Battery Weekly" in text
    assert "soak test" in text
    assert reader.document().find("A1").currentTable() is not None  # the HTML's table
    assert pane.remote_blocked  # its images wait for the user, as always
    assert not has_images(reader.document())
    assert pane.format_bar.isVisible()
    assert pane.showing_formatted

    # V (the keyboard) switches to plain text and back.
    window.inbox_view.setFocus()
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_V)
    assert not pane.showing_formatted
    assert reader.document().find("A1").currentTable() is None
    assert not pane.remote_blocked  # plain text has nothing remote
    qtbot.keyClick(window.inbox_view, Qt.Key.Key_V)
    assert pane.showing_formatted
    assert reader.document().find("A1").currentTable() is not None


def test_failed_remote_images_keep_their_alt_text_and_say_why(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    server = closed_port_url()
    profile.sources.add("mbox", str(write_newsletter(tmp_path / "news.mbox", server)))
    window = synced_window(qtbot, make_window, profile, "Ship the v2 firmware")
    click_row(qtbot, window, "Battery Weekly")
    pane = window.reader_pane
    assert pane.remote_blocked
    qtbot.mouseClick(pane.bar.load_button, Qt.MouseButton.LeftButton)
    window.reader.grab()  # lay the page out, as a screen would
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=20_000)  # every fetch failed
    window.reader.grab()
    text = window.reader.toPlainText()
    for alt in ("Soak chart", "Team photo", "Logo"):
        assert alt in text
    assert not has_images(window.reader.document())  # no broken-image icon, scaled up
    assert "Could not load 3 remote images" in pane.notice_text()
    assert "refused" in pane.notice_text()


def test_a_link_to_a_heading_of_the_same_note_scrolls_to_it(qtbot: Any) -> None:
    from datetime import UTC, datetime

    from focusdesk.records import ItemDetail
    from focusdesk.ui.reader_pane import ReaderPane

    body = "Jump to [[#Far heading|the end]].\n\n" + "filler paragraph\n\n" * 80
    body += "## Far heading\n\nHere.\n\n" + "more filler\n\n" * 40
    note = ItemDetail(
        id=5,
        source_name="vault",
        source_kind="notes",
        kind="note",
        title="Long note",
        author=None,
        url=None,
        published_at=datetime(2026, 11, 18, tzinfo=UTC),
        body=body,
        text=body,
        status="new",
        meta={"path": "/vault/Long note.md", "front_matter": {}},
    )
    pane = ReaderPane()
    qtbot.addWidget(pane)
    pane.resize(600, 400)
    pane.show()
    qtbot.waitExposed(pane)
    pane.show_item(note, None, {})
    opened: list[str] = []
    pane.note_link_activated.connect(opened.append)
    assert pane.reader.verticalScrollBar().value() == 0
    click_link(qtbot, pane.reader, "the end")
    assert opened == []  # not another note
    heading = pane.reader.document().find("Far heading")
    top = pane.reader.cursorRect(QTextCursor(heading.block())).top()
    assert pane.reader.verticalScrollBar().value() > 0
    assert 0 <= top < pane.reader.viewport().height() // 2
