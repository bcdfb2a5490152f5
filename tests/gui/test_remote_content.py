"""Remote content stays blocked behind a bar until the user allows it, once or always.

A real loopback HTTP server counts requests: nothing reaches it before the user says
so. Items are constructed with the HTML and flags the feed source stores in meta.
"""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from gui_helpers import SIGNAL_TIMEOUT_MS
from PySide6.QtGui import QTextDocument

from focusdesk.app import FocusDesk
from focusdesk.records import ItemDetail, RankedItem
from focusdesk.settings import load_settings
from focusdesk.sources.html_safe import sanitize_html
from focusdesk.ui.main_window import INBOX_PAGE
from focusdesk.ui.reader_pane import ReaderPane
from focusdesk.ui.remote_content import (
    describe_failures,
    has_remote_content,
    is_allowed,
    item_html,
    present_images,
    remote_urls,
    sender_key,
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class ImageHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        ImageHandler.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def image_server() -> Iterator[str]:
    ImageHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def feed_detail(server: str, *, author: str | None = None, kind: str = "feed") -> ItemDetail:
    raw = (
        f'<p>Chart: <img src="{server}/chart.png" width="40" height="20" alt="chart"></p>'
        "<p>The battery soak test passed on all units.</p>"
    )
    safe = sanitize_html(raw)
    return ItemDetail(
        id=42,
        source_name="Hardware News",
        source_kind=kind,
        kind="feed" if kind == "feed" else "email",
        title="Soak test results",
        author=author,
        url="https://news.example.org/soak",
        published_at=datetime(2026, 11, 18, 9, 0, tzinfo=UTC),
        body="Chart: The battery soak test passed on all units.",
        text="Chart: The battery soak test passed on all units.",
        status="new",
        meta={"html": safe.html, "has_remote_content": safe.has_remote_content},
    )


def ranked_for(detail: ItemDetail, **extra: Any) -> RankedItem:
    return RankedItem(
        item_id=detail.id,
        source_id=1,
        source_kind=detail.source_kind,
        source_name=detail.source_name,
        external_id="e1",
        title=detail.title,
        author=detail.author,
        published_at=detail.published_at,
        status="new",
        score=0.812,
        goal_id=1,
        goal_title="Ship the v2 firmware",
        evidence="The battery soak test passed on all units.",
        evidence_span=None,
        goal_scores={1: 0.71, 2: 0.12},
        **extra,
    )


def test_remote_content_is_found_and_senders_are_matched(image_server: str) -> None:
    detail = feed_detail(image_server)
    assert has_remote_content(detail)
    assert remote_urls(detail.meta["html"]) == [f"{image_server}/chart.png"]
    html = item_html(detail) or ""
    assert "remote image not loaded: chart" in present_images(html)
    assert "<img" not in present_images(html)
    # Allowed: drawn only once fetched; until then, or when it fails, its alt text.
    url = f"{image_server}/chart.png"
    assert "loading image: chart" in present_images(html, allowed=True)
    assert "remote image not loaded" in present_images(html, allowed=True, requested=())
    assert f'src="{url}"' in present_images(html, allowed=True, loaded={url})
    failed = present_images(html, allowed=True, failed={url})
    assert "image could not be loaded: chart" in failed
    assert "<img" not in failed
    assert sender_key(detail) == "news.example.org"
    assert is_allowed(detail, ["example.org"])  # a parent domain
    assert not is_allowed(detail, ["other.org", "ample.org"])
    mail = feed_detail(image_server, author="Priya <Priya@Example.com>", kind="mbox")
    assert sender_key(mail) == "priya@example.com"
    assert is_allowed(mail, ["priya@example.com"])
    assert is_allowed(mail, ["example.com"])
    assert not is_allowed(mail, ["someone@example.com"])
    plain = replace(detail, meta={"has_remote_content": True})
    assert has_remote_content(plain)  # what meta says is enough


def test_images_the_reader_never_loads_are_their_alt_text() -> None:
    html = sanitize_html(
        '<img src="cid:logo@x" alt="Logo"><img src="data:image/png;base64,AAAA" alt="<b>x</b>">'
    ).html
    shown = present_images(html, allowed=True)
    assert "<img" not in shown
    assert "image not shown: Logo" in shown
    assert "&lt;b&gt;x&lt;/b&gt;" in shown  # an alt text is text, never markup


def test_failures_are_described_in_words() -> None:
    refused = "127.0.0.1 refused the connection (port 9)."
    unknown = "The host news.example could not be found ([Errno -2] Name or service not known)."
    assert describe_failures([refused] * 3) == (
        "Could not load 3 remote images: the server refused the connection."
    )
    assert describe_failures([unknown, unknown, refused], total=5) == (
        "Could not load 3 of 5 remote images: no network."
    )
    assert describe_failures(["x.org/a is not an image (text/html)."]) == (
        "Could not load 1 remote image: not an image."
    )
    assert describe_failures([]) == ""


def test_reader_blocks_then_loads_this_once(qtbot: Any, image_server: str) -> None:
    pane = ReaderPane()
    qtbot.addWidget(pane)
    pane.resize(700, 500)
    pane.show()
    detail = feed_detail(image_server)
    pane.show_item(detail, ranked_for(detail), {1: "Ship the v2 firmware"})
    pane.reader.grab()  # paint: a blocked page must still ask for nothing
    assert pane.remote_blocked
    assert pane.bar.isVisible()
    assert "news.example.org" in pane.bar.always_button.text()
    assert ImageHandler.requests == []
    assert "battery soak test" in pane.reader.toPlainText()
    assert pane.reader.evidence_found is True  # highlighted inside the HTML

    wanted: list[str] = []
    pane.reader.remote_resource_needed.connect(wanted.append)
    with qtbot.waitSignal(pane.remote_load_requested, timeout=SIGNAL_TIMEOUT_MS):
        pane.bar.load_button.click()
    pane.show_item(detail, ranked_for(detail), {}, allow_remote=True)
    pane.reader.grab()
    assert not pane.remote_blocked
    assert wanted == [f"{image_server}/chart.png"]
    from focusdesk.ui.remote_content import fetch_image

    data = fetch_image(wanted[0])  # what the window does in its network pool
    assert ImageHandler.requests == ["/chart.png"]
    assert pane.reader.add_remote_image(wanted[0], data)
    kind = int(QTextDocument.ResourceType.ImageResource.value)
    assert pane.reader.loadResource(kind, wanted[0]) is not None
    # Another item: blocked again.
    other = replace(detail, id=43)
    pane.show_item(other, None, {})
    assert pane.remote_blocked
    assert pane.reader.loadResource(kind, wanted[0]) is None


def test_window_always_for_this_sender_is_remembered(
    qtbot: Any, make_window: Any, profile: FocusDesk, image_server: str
) -> None:
    window = make_window(profile)
    detail = feed_detail(image_server)
    window.reader_pane.show_item(detail, None, {})
    assert window.reader_pane.remote_blocked
    window.stack.setCurrentIndex(INBOX_PAGE)  # an empty profile shows "getting started"
    # The window looks the item up again by id: give it one it can find.
    window.desk.items.get = lambda _id: detail  # type: ignore[method-assign]
    with qtbot.waitSignal(
        window.reader_controller.remote_image_did_load, timeout=SIGNAL_TIMEOUT_MS
    ):
        window.reader_pane.bar.always_button.click()
        window.reader.grab()  # images are asked for when the page is laid out
    assert ImageHandler.requests == ["/chart.png"]
    assert not window.reader_pane.remote_blocked
    qtbot.waitUntil(lambda: not window.ops.busy, timeout=SIGNAL_TIMEOUT_MS)
    assert profile.settings.remote_content_senders == ["news.example.org"]
    saved = load_settings(profile.paths.settings_file)
    assert saved.remote_content_senders == ["news.example.org"]
    # The same sender's next item loads at once, without the bar.
    with qtbot.waitSignal(window.reader_controller.item_did_show, timeout=SIGNAL_TIMEOUT_MS):
        window.reader_controller.show_item(43)  # read in the background
    assert not window.reader_pane.remote_blocked


def test_why_panel_explains_goals_priors_and_stories(qtbot: Any) -> None:
    pane = ReaderPane()
    qtbot.addWidget(pane)
    pane.why.show()
    detail = feed_detail("http://127.0.0.1:9")
    ranked = ranked_for(
        detail,
        matched_facet="battery soak test",
        relevance=0.75,
        priors={"recency": 0.031, "source": 0.0, "sender": 0.012, "redundancy": -0.02},
        story_size=3,
        story_item_ids=(7, 8),
        story_titles=("Soak test, take two",),
    )
    pane.show_item(detail, ranked, {1: "Ship the v2 firmware", 2: "Hire engineers"})
    text = pane.why.text()
    for expected in (
        "Best goal: <b>Ship the v2 firmware</b>",
        "Matched: “battery soak test”",
        "Relevance (goals weighted)",
        "0.750",
        "Recency",
        "+0.031",
        "Repeats a higher item",
        "-0.020",
        "0.812",
        "Story: 3 items",
        "Soak test, take two",
        "Hire engineers",
        "0.71",
    ):
        assert expected in text, expected
    # Before the ranker knew priors and stories, the panel still explains.
    plain = RankedItem(**{f: getattr(ranked, f) for f in ranked.__dataclass_fields__ if f in (
        "item_id", "source_id", "source_kind", "source_name", "external_id", "title",
        "author", "published_at", "status", "score", "goal_id", "goal_title", "evidence",
        "evidence_span", "goal_scores")})  # fmt: skip
    pane.show_item(detail, plain, {1: "Ship the v2 firmware"})
    assert "Story" not in pane.why.text()
    pane.show_placeholder()
    assert "Select an item" in pane.why.text()
