"""The reader shows escaped text with the evidence highlighted, and fetches nothing."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument

from focusdesk.records import ItemDetail, RankedItem
from focusdesk.ui.reader import ReaderView, find_evidence
from focusdesk.ui.shading import passage_shade


def detail(body: str, text: str | None = None) -> ItemDetail:
    return ItemDetail(
        id=7,
        source_name="inbox.mbox",
        source_kind="mbox",
        kind="email",
        title="Board prep <b>Q4</b>",
        author="Priya <priya@example.com>",
        url=None,
        published_at=datetime(2026, 11, 18, 9, 30, tzinfo=UTC),
        body=body,
        text=text if text is not None else body,
        status="new",
        meta={},
    )


def ranked(evidence: str, span: tuple[int, int] | None = None) -> RankedItem:
    return RankedItem(
        item_id=7,
        source_id=1,
        source_kind="mbox",
        source_name="inbox.mbox",
        external_id="<m1@example.com>",
        title="Board prep",
        author="Priya",
        published_at=None,
        status="new",
        score=0.734,
        goal_id=1,
        goal_title="Prepare the board meeting",
        evidence=evidence,
        evidence_span=span,
    )


class CountingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        CountingHandler.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def http_server() -> Iterator[str]:
    """A real loopback HTTP server that records every request it gets."""
    CountingHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_evidence_in_the_body_is_highlighted_in_place(qtbot: Any) -> None:
    reader = ReaderView()
    qtbot.addWidget(reader)
    body = "Agenda.\n\nWe must send the board deck by Friday.\n\nThanks,\nPriya"
    reader.show_item(detail(body), ranked("We must send the board deck by Friday."))
    assert reader.evidence_found is True
    text = reader.toPlainText()
    assert "Why: best goal Prepare the board meeting · score 0.73" in text
    assert "Evidence" not in text  # found in place: no separate block
    assert "Agenda.\n\nWe must send" in text  # paragraphs are kept
    assert "Board prep <b>Q4</b>" in text  # markup in the title is shown, not obeyed
    assert "Priya <priya@example.com> · inbox.mbox" in text


def test_evidence_with_other_whitespace_is_still_found() -> None:
    body = "Line one\nWe must send the\n  board deck by Friday.\n"
    assert find_evidence(body, "We must send the board deck by Friday.") == (9, 49)
    assert find_evidence(body, "nothing like it") is None
    assert find_evidence(body, "   ") is None


def test_evidence_not_in_the_body_gets_its_own_block(qtbot: Any) -> None:
    reader = ReaderView()
    qtbot.addWidget(reader)
    reader.show_item(
        detail("The full message, quoted and all."),
        ranked("A cleaned passage the body does not contain."),
    )
    assert reader.evidence_found is False
    text = reader.toPlainText()
    assert text.index("Evidence") < text.index("The full message")
    assert "A cleaned passage the body does not contain." in text


def test_evidence_span_is_used_when_body_is_the_ranked_text(qtbot: Any) -> None:
    reader = ReaderView()
    qtbot.addWidget(reader)
    body = "same words here. same words here."
    reader.show_item(detail(body), ranked("same words here.", span=(17, 33)))
    html = reader.toHtml()
    # The shade starts at the second occurrence, where the span points.
    shade = passage_shade(reader.palette(), 1.0).name()
    assert html.index("same words here. ") < html.lower().index(shade)
    assert reader.marks is not None
    assert [(s.start, s.end) for s in reader.marks.shades] == [(17, 33)]


def test_item_html_is_shown_as_text_and_loads_nothing(
    qtbot: Any, http_server: str, tmp_path: Path
) -> None:
    image = tmp_path / "pixel.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    body = (
        f'<img src="{http_server}/tracker.png"> <img src="file://{image}"> '
        '<a href="javascript:alert(1)">click</a>'
    )
    reader = ReaderView()
    qtbot.addWidget(reader)
    reader.show()
    reader.show_item(detail(body), ranked("click"))
    reader.grab()  # paint it
    assert f'<img src="{http_server}/tracker.png">' in reader.toPlainText()
    assert CountingHandler.requests == []


@pytest.mark.parametrize("scheme", ["http", "https", "file", "data", "qrc", "cid"])
def test_load_resource_refuses_every_url(
    qtbot: Any, scheme: str, http_server: str, tmp_path: Path
) -> None:
    image = tmp_path / "pixel.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    url = {
        "http": f"{http_server}/a.png",
        "https": "https://example.com/a.png",
        "file": image.as_uri(),
        "data": "data:image/png;base64,iVBORw0KGgo=",
        "qrc": "qrc:/icons/x.png",
        "cid": "cid:part1@example.com",
    }[scheme]
    reader = ReaderView()
    qtbot.addWidget(reader)
    kind = int(QTextDocument.ResourceType.ImageResource.value)
    assert reader.loadResource(kind, QUrl(url)) is None
    # Injected straight into the document (as a hostile HTML part might be), still nothing.
    reader.setHtml(f'<p>x</p><img src="{url}" width="10" height="10">')
    reader.show()
    reader.grab()
    assert url in reader.refused
    assert CountingHandler.requests == []
    assert reader.openExternalLinks() is False
    assert reader.openLinks() is False
