"""Evidence that points: passages shaded by weight, the best sentence marked, in any theme.

The reader shades each passage of the item by the attention its row's goal paid it,
marks the best sentence of the evidence passage, keeps a rendered note's formatting
(callout boxes, link colours) and reads in light and dark palettes; the Why panel lists
the top three passages (a click scrolls the reader) and the standing in words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS, ranked_window
from PySide6.QtGui import QColor, QPalette, QTextDocument, QTextTable

from focusdesk.app import FocusDesk
from focusdesk.rank.passage_weights import ItemEvidence, PassageWeight, SentenceMatch
from focusdesk.records import ItemDetail, RankedItem
from focusdesk.ui.reader import ReaderView
from focusdesk.ui.reader_pane import ReaderPane
from focusdesk.ui.shading import (
    SENTENCE_BACKGROUND,
    SENTENCE_FOREGROUND,
    contrast,
    passage_shade,
)
from focusdesk.ui.style import dark_palette
from focusdesk.ui.why_panel import WhyPanel

TEXT = (
    "Agenda for Friday and the room booking.\n\n"
    "Board deck. We must send the board deck by Friday. Priya owns the numbers.\n\n"
    "Lunch is at noon, bring your own cup."
)
P0 = (0, TEXT.index("\n\n"))
P1 = (P0[1] + 2, TEXT.index("\n\n", P0[1] + 2))
P2 = (P1[1] + 2, len(TEXT))
SENTENCE = "We must send the board deck by Friday."


def detail(body: str = TEXT, *, kind: str = "email", meta: dict[str, Any] | None = None) -> Any:
    return ItemDetail(
        id=7,
        source_name="Inbox",
        source_kind="mbox",
        kind=kind,
        title="Board prep",
        author="Priya",
        url=None,
        published_at=datetime(2026, 11, 18, 9, 30, tzinfo=UTC),
        body=body,
        text=body,
        status="new",
        meta=meta or {},
    )


def ranked(evidence: str = TEXT[P1[0] : P1[1]], **fields: Any) -> RankedItem:
    values: dict[str, Any] = {
        "item_id": 7,
        "source_id": 1,
        "source_kind": "mbox",
        "source_name": "Inbox",
        "external_id": "<m1@example.com>",
        "title": "Board prep",
        "author": "Priya",
        "published_at": None,
        "status": "new",
        "score": 0.73,
        "goal_id": 1,
        "goal_title": "Prepare the board meeting",
        "evidence": evidence,
        "evidence_span": P1 if evidence == TEXT[P1[0] : P1[1]] else None,
    }
    values.update(fields)
    return RankedItem(**values)


def weights(goal_id: int = 1, text: str = TEXT) -> ItemEvidence:
    s0 = text.index(SENTENCE)
    return ItemEvidence(
        item_id=7,
        goal_id=goal_id,
        passages=(
            PassageWeight(1, 0, *P0, text[P0[0] : P0[1]], 0.25),
            PassageWeight(2, 1, *P1, text[P1[0] : P1[1]], 0.65),
            PassageWeight(3, 2, *P2, text[P2[0] : P2[1]], 0.10),
        ),
        evidence=1,
        sentence=SentenceMatch(s0, s0 + len(SENTENCE), SENTENCE, 0.8),
        facet="Prepare the board meeting",
    )


def backgrounds(doc: QTextDocument) -> dict[str, str]:
    """Each character's background colour (#rrggbb, '' for none), keyed by text run."""
    out: dict[str, str] = {}
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            brush = fragment.charFormat().background()
            colour = brush.color().name() if brush.style() != brush.style().NoBrush else ""
            out[fragment.text()] = colour
            it += 1
        block = block.next()
    return out


def colour_of(doc: QTextDocument, text: str) -> str:
    cursor = doc.find(text, 0, QTextDocument.FindFlag.FindCaseSensitively)
    assert not cursor.isNull(), f"{text!r} not shown"
    brush = cursor.charFormat().background()
    return brush.color().name() if brush.style() != brush.style().NoBrush else ""


def test_passages_are_shaded_by_weight_and_the_sentence_is_marked(qtbot: Any) -> None:
    reader = ReaderView()
    qtbot.addWidget(reader)
    reader.show_item(detail(), ranked())
    doc = reader.document()
    # Until the weights arrive: the ranker's evidence passage alone, and no sentence mark.
    assert colour_of(doc, "Priya owns the numbers.") == passage_shade(reader.palette(), 1).name()
    assert colour_of(doc, "Agenda for Friday") == ""
    assert SENTENCE_BACKGROUND not in reader.toHtml().lower()

    assert reader.set_weights(weights())
    doc = reader.document()
    heavy = passage_shade(reader.palette(), 1.0).name()
    light = passage_shade(reader.palette(), 0.25 / 0.65).name()
    faint = passage_shade(reader.palette(), 0.10 / 0.65).name()
    assert colour_of(doc, "Board deck.") == heavy
    assert colour_of(doc, "Priya owns the numbers.") == heavy
    assert colour_of(doc, "Agenda for Friday") == light
    assert colour_of(doc, "Lunch is at noon") == faint
    assert len({heavy, light, faint}) == 3
    # The mark is on the sentence only, not on the whole passage.
    assert colour_of(doc, SENTENCE) == SENTENCE_BACKGROUND
    assert doc.find(SENTENCE).charFormat().foreground().color().name() == SENTENCE_FOREGROUND
    assert reader.marks is not None
    assert reader.marks.sentence == (TEXT.index(SENTENCE), TEXT.index(SENTENCE) + len(SENTENCE))
    # The header names the best goal and leaves the evidence in place.
    assert "Evidence" not in reader.toPlainText()


def test_a_lone_passage_is_not_shaded_but_its_sentence_is_marked(qtbot: Any) -> None:
    """Shading all of a short item points at nothing: only the sentence is marked."""
    reader = ReaderView()
    qtbot.addWidget(reader)
    whole = ranked(TEXT, evidence_span=(0, len(TEXT)))
    reader.show_item(detail(), whole)
    assert reader.evidence_found is True
    assert colour_of(reader.document(), "Board deck.") == ""
    s0 = TEXT.index(SENTENCE)
    one = ItemEvidence(
        7,
        1,
        (PassageWeight(1, 0, 0, len(TEXT), TEXT, 1.0),),
        0,
        SentenceMatch(s0, s0 + len(SENTENCE), SENTENCE, 0.8),
        None,
    )
    assert reader.set_weights(one)
    doc = reader.document()
    assert colour_of(doc, SENTENCE) == SENTENCE_BACKGROUND
    assert colour_of(doc, "Board deck.") == ""
    assert colour_of(doc, "Lunch is at noon") == ""


def test_weights_for_another_item_or_goal_are_ignored(qtbot: Any) -> None:
    reader = ReaderView()
    qtbot.addWidget(reader)
    reader.show_item(detail(), ranked())
    assert not reader.set_weights(weights(goal_id=2))  # the row is shown for goal 1
    other = ItemEvidence(8, 1, (), None, None, None)
    assert not reader.set_weights(other)
    assert reader.weights is None
    assert reader.set_weights(weights())
    reader.show_item(detail(), ranked(goal_id=2, goal_title="Other"))  # re-seated elsewhere
    assert reader.weights is None


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_shades_keep_the_text_readable_in_both_themes(qtbot: Any, theme: str) -> None:
    reader = ReaderView()
    qtbot.addWidget(reader)
    if theme == "dark":
        reader.setPalette(dark_palette())
    palette = reader.palette()
    text = palette.color(QPalette.ColorRole.Text)
    base = palette.color(QPalette.ColorRole.Base)
    for strength in (0.12, 0.5, 1.0):
        shade = passage_shade(palette, strength)
        assert contrast(shade, text) >= 4.5
        assert shade != base  # visibly shaded
    # Heavier passages are shaded more (further from the page colour).
    far = [contrast(passage_shade(palette, s), base) for s in (0.2, 0.6, 1.0)]
    assert far == sorted(far)
    assert far[-1] > 1.25
    assert contrast(QColor(SENTENCE_BACKGROUND), QColor(SENTENCE_FOREGROUND)) >= 7
    reader.show_item(detail(), ranked())
    reader.set_weights(weights())
    assert colour_of(reader.document(), "Board deck.") == passage_shade(palette, 1).name()


NOTE = """# Trip plan

Intro words about nothing in particular here.

> [!info] Train passes
> Buy the *JR pass* before leaving, see [[Kyoto]] and `jr-pass.pdf`.

The rest of the note talks about packing.

Packing list for the whole trip, written down early so that nothing is forgotten on the
day: socks, a rain jacket, the charger for the camera, a book for the long train ride
from Tokyo, and the printed hotel bookings for every night of the stay.
"""


def cells(doc: QTextDocument) -> list[str]:
    out = []
    for frame in doc.rootFrame().childFrames():
        if isinstance(frame, QTextTable):
            for r in range(frame.rows()):
                for c in range(frame.columns()):
                    out.append(frame.cellAt(r, c).format().background().color().name())
    return out


def link_colours(doc: QTextDocument) -> dict[str, str]:
    out = {}
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isAnchor() and fmt.anchorHref():
                out[it.fragment().text()] = fmt.foreground().color().name()
            it += 1
        block = block.next()
    return out


def test_shading_a_rendered_note_keeps_its_callouts_links_and_code(qtbot: Any) -> None:
    """Fails on the old reader: its highlight painted the callout box and the links amber."""
    note = detail(NOTE, kind="note", meta={"path": "trip.md"})
    pane = ReaderPane()
    qtbot.addWidget(pane)
    pane.show_item(note, None, {})
    assert pane.showing_formatted
    doc = pane.reader.document()
    plain_cells, plain_links = cells(doc), link_colours(doc)
    code = doc.find("jr-pass.pdf").charFormat().fontFamilies()
    assert plain_cells
    assert plain_links

    # The ranker's evidence runs across the callout (before the weights arrive).
    evidence = (
        "Intro words about nothing in particular here.\nTrain passes\nBuy the JR pass before "
        "leaving, see Kyoto and jr-pass.pdf.\nThe rest of the note talks about packing."
    )
    pane.show_item(note, ranked(evidence, evidence_span=None), {1: "Trip"})
    doc = pane.reader.document()
    assert pane.reader.evidence_found is True
    assert colour_of(doc, "before leaving") == passage_shade(pane.reader.palette(), 1).name()
    assert cells(doc) == plain_cells  # the callout box keeps its fill
    assert link_colours(doc) == plain_links  # links keep their colour
    assert doc.find("jr-pass.pdf").charFormat().fontFamilies() == code  # code stays code


def test_why_panel_lists_the_top_passages_and_the_standing(qtbot: Any) -> None:
    pane = ReaderPane()
    qtbot.addWidget(pane)
    pane.resize(900, 600)
    pane.show()
    pane.why.show()
    item = ranked(percentile={1: 0.98}, calibrated={1: 0.91})
    pane.show_item(detail(), item, {1: "Prepare the board meeting"})
    why = pane.why.text()
    assert "Top 2 % for this goal; clears its relevance bar (p = 0.91)" in why
    assert "Weighing each passage…" in why
    assert "top 2 % for this goal" in pane.reader.toPlainText()  # the reader's Why line too

    pane.set_weights(weights())
    why = pane.why.text()
    assert "Weighing" not in why
    rows = [label.text() for label in pane.why.passage_labels]
    assert len(rows) == 3
    assert rows[0].startswith("<a href='passage:1'>65 %</a>")
    assert "<a href='passage:0'>25 %</a>" in rows[1]
    assert "<a href='passage:2'>10 %</a>" in rows[2]
    assert "Best sentence" in why
    assert SENTENCE in why

    # A click on a passage scrolls the reader there.
    scrolled: list[int] = []
    pane.why.passage_activated.connect(scrolled.append)
    pane.why.passage_labels[2].linkActivated.emit("passage:2")
    assert scrolled == [2]
    assert pane.reader.scroll_to_passage(2)
    cursor = pane.reader.document().find("Lunch is at noon")
    assert pane.reader.cursorRect(cursor).top() >= 0  # in view


def test_why_panel_without_percentile_says_nothing_of_standing(qtbot: Any) -> None:
    why = WhyPanel()
    qtbot.addWidget(why)
    why.show_item(ranked(), {1: "Prepare the board meeting"})
    assert "for this goal" not in why.text()
    why.set_weights_error(7, "This goal is no longer active.")
    assert "could not be weighed: This goal is no longer active." in why.text()


def test_the_window_weighs_the_item_read_in_the_background(
    qtbot: Any, make_window: Any, profile: FocusDesk, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text(
        "The team meets on Monday about the office move and the coffee machine.\n\n"
        "Soak test the battery. Ship the v2 firmware release with the low power mode. Sign "
        "the image.\n\nBook the venue for the summer party and order the cake.\n",
        encoding="utf-8",
    )
    (notes / "soup.md").write_text("# Leek soup\n\nOnions and leeks.\n", encoding="utf-8")
    # One passage per paragraph (no headings: a note's cleaned text keeps a heading as a
    # plain line, which the chunker packs with the paragraph before it).
    profile.settings.chunk_tokens = 18
    window = ranked_window(qtbot, make_window, profile, notes, "ship the v2 firmware release")
    window.set_why_visible(True)
    window.inbox_controller.select_row(0)
    reader = window.reader
    qtbot.waitUntil(lambda: reader.weights is not None, timeout=SIGNAL_TIMEOUT_MS)
    ev = reader.weights
    assert ev is not None
    assert ev.item_id == window.inbox_controller.current_item_id()
    assert len(ev.passages) == 3
    assert ev.sentence is not None
    assert ev.sentence.text == "Ship the v2 firmware release with the low power mode."
    doc = reader.document()
    assert colour_of(doc, "Ship the v2 firmware release") == SENTENCE_BACKGROUND
    assert colour_of(doc, "Soak test the battery.") == passage_shade(reader.palette(), 1).name()
    assert len(window.why_panel.passage_labels) == 3

    # Moving on cancels the request for the item left behind.
    window.inbox_controller.select_row(1)
    other = window.inbox_controller.current_item_id()
    assert window.reader_controller.passage_weights.pending in (
        None,
        (other, window.inbox_controller.current_item().goal_id),
    )
    qtbot.waitUntil(
        lambda: reader.weights is not None and reader.weights.item_id == other,
        timeout=SIGNAL_TIMEOUT_MS,
    )


def test_moving_on_cancels_the_request_left_behind(qtbot: Any) -> None:
    import threading

    from focusdesk.progress import CancelToken
    from focusdesk.ui.operations import Operations
    from focusdesk.ui.passage_loader import PassageWeightsLoader

    tasks = Operations()
    started, release = threading.Event(), threading.Event()
    asked: list[tuple[int, int]] = []
    cancelled: list[int] = []

    def explain(item_id: int, goal_id: int, cancel: CancelToken) -> ItemEvidence:
        asked.append((item_id, goal_id))
        if item_id == 1:
            started.set()
            while not release.wait(0.01):
                if cancel.cancelled:
                    cancelled.append(item_id)
                    cancel.raise_if_cancelled()
        return ItemEvidence(item_id, goal_id, (), None, None, None)

    loader = PassageWeightsLoader(tasks, explain)
    arrived: list[ItemEvidence] = []
    loader.weights_did_arrive.connect(arrived.append)
    try:
        loader.request(1, 5)
        assert loader.pending == (1, 5)  # starts once the reader rests on the item
        qtbot.waitUntil(started.is_set, timeout=SIGNAL_TIMEOUT_MS)
        loader.request(1, 5)  # the same request in flight is not asked twice
        loader.request(2, 5)  # the reader moved on: item 1's request is cancelled
        assert loader.pending == (2, 5)
        qtbot.waitUntil(lambda: bool(arrived), timeout=SIGNAL_TIMEOUT_MS)
        qtbot.waitUntil(lambda: not tasks.busy, timeout=SIGNAL_TIMEOUT_MS)
        assert cancelled == [1]
        assert asked == [(1, 5), (2, 5)]
        assert [(w.item_id, w.goal_id) for w in arrived] == [(2, 5)]
        loader.request(3, None)  # no goal to weigh for: nothing is asked
        assert loader.pending is None
        # Items flicked past (J J J) are never weighed: only the one the reader rests on.
        for item_id in (4, 5, 6):
            loader.request(item_id, 5)
        qtbot.waitUntil(lambda: len(arrived) == 2, timeout=SIGNAL_TIMEOUT_MS)
        assert asked == [(1, 5), (2, 5), (6, 5)]
    finally:
        release.set()
        tasks.shutdown()
