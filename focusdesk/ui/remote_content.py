"""Remote content in items: finding it, the per-sender allowlist, the bar, the fetch.

An item's HTML may point at remote images (trackers, most of the time). Nothing is
loaded unless the user says so for this message, or always for its sender (an
address, or a domain for feeds), which is kept in the settings. When allowed, images
are fetched in the background with a time limit, a size cap, http(s) only, and
handed to the reader; nothing else is ever fetched.
"""

from __future__ import annotations

import logging
import re
from email.utils import parseaddr
from html.parser import HTMLParser
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from focusdesk.errors import KnownError
from focusdesk.records import ItemDetail

log = logging.getLogger(__name__)

REMOTE_SCHEMES = ("http", "https")
MAX_IMAGE_BYTES = 5 * 1024 * 1024
FETCH_DEADLINE_S = 20.0
MAX_IMAGES = 64
"""At most this many remote images are fetched for one item."""
_HELD_IMG = re.compile(r"<img\b[^>]*\bdata-remote-src=\"[^\"]*\"[^>]*>", re.IGNORECASE)
_ALT = re.compile(r"\balt=\"([^\"]*)\"", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")\s]+)", re.IGNORECASE)
_URL_ATTRS = ("src", "data-remote-src", "background", "poster", "data")


class _RemoteFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not value:
                continue
            if name in _URL_ATTRS:
                self._add(value)
            elif name == "srcset":
                for part in value.split(","):
                    self._add(part.strip().split(" ")[0])
            elif name == "style":
                for url in _CSS_URL.findall(value):
                    self._add(url)

    def _add(self, url: str) -> None:
        url = url.strip()
        if urlsplit(url).scheme.lower() in REMOTE_SCHEMES and url not in self.urls:
            self.urls.append(url)


def remote_urls(html: str) -> list[str]:
    """The http(s) resources an HTML fragment would load (images, backgrounds, media)."""
    finder = _RemoteFinder()
    try:
        finder.feed(html)
        finder.close()
    except Exception:  # a broken fragment: whatever was found so far
        log.debug("Could not parse an item's HTML for remote content", exc_info=True)
    return finder.urls


def item_html(detail: ItemDetail, *, allow_remote: bool = False) -> str | None:
    """The item's sanitised HTML (``meta["html"]``), when it has some.

    Remote images are held back by the sanitiser (``data-remote-src``); with
    ``allow_remote`` they get their address back, so that the reader asks for them.
    """
    html = detail.meta.get("html")
    if not isinstance(html, str) or not html.strip():
        return None
    if allow_remote:
        try:
            from focusdesk.sources.html_safe import enable_remote_content
        except ImportError:  # pragma: no cover - the sanitiser ships with FocusDesk
            return html
        return enable_remote_content(html)
    return _HELD_IMG.sub(_placeholder, html)


def _placeholder(match: re.Match[str]) -> str:
    """A held-back image as a short grey note (not a large broken-image box)."""
    alt = _ALT.search(match.group(0))
    what = f": {alt.group(1)}" if alt and alt.group(1).strip() else ""
    return f"<span style='color:#808080'>[remote image not loaded{what}]</span>"


def has_remote_content(detail: ItemDetail) -> bool:
    """Whether the item would load something remote (its meta may say so on its own)."""
    flag = detail.meta.get("has_remote_content")
    if isinstance(flag, bool) and flag:
        return True
    html = item_html(detail)
    return bool(html and remote_urls(html))


def sender_address(detail: ItemDetail) -> str | None:
    """The sender's e-mail address (lower case), for mail."""
    address = parseaddr(detail.author or "")[1].strip().lower()
    return address if "@" in address else None


def sender_key(detail: ItemDetail) -> str | None:
    """What "always for this sender" remembers: the address for mail, the domain for feeds."""
    address = sender_address(detail)
    if address is not None and detail.source_kind != "feed":
        return address
    for url in (detail.meta.get("feed_url"), detail.url):
        if isinstance(url, str) and urlsplit(url).scheme.lower() in REMOTE_SCHEMES:
            host = urlsplit(url).hostname
            if host:
                return host.lower().removeprefix("www.")
    return address


def is_allowed(detail: ItemDetail, allowlist: list[str]) -> bool:
    """Whether the user allowed remote content for this item's sender (address or domain)."""
    entries = {e.strip().lower() for e in allowlist if e.strip()}
    if not entries:
        return False
    keys: list[str] = []
    address = sender_address(detail)
    if address is not None:
        keys += [address, address.split("@", 1)[1]]
    for url in (detail.meta.get("feed_url"), detail.url):
        if isinstance(url, str) and urlsplit(url).scheme.lower() in REMOTE_SCHEMES:
            host = (urlsplit(url).hostname or "").lower()
            if host:
                keys.append(host)
    for key in keys:
        if key in entries:
            return True
        if "@" not in key and any(key.endswith("." + e) for e in entries if "@" not in e):
            return True
    return False


def fetch_image(url: str) -> bytes:
    """Fetch one remote image with the safe fetcher (http(s), time-limited, size-capped).

    Runs in a worker thread. Raises a ``KnownError`` with a user message on failure.
    """
    from focusdesk.sources.fetch import Fetcher, FetchLimits

    if urlsplit(url).scheme.lower() not in REMOTE_SCHEMES:
        raise KnownError(f"Only web images are loaded, not {url[:80]}.")
    fetcher = Fetcher(FetchLimits(deadline=FETCH_DEADLINE_S, max_bytes=MAX_IMAGE_BYTES))
    result = fetcher.get(url, accept="image/*")
    if not result.content_type.startswith("image/"):
        raise KnownError(f"{url[:80]} is not an image ({result.content_type or 'unknown'}).")
    return result.body


class RemoteContentBar(QFrame):
    """ "Remote content was blocked" with the two ways to allow it."""

    load_requested = Signal()
    always_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("remote_content_bar")
        self.setAccessibleName("Remote content blocked")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Fixed colours on purpose: amber with dark text reads well in light and dark themes.
        self.setStyleSheet(
            "#remote_content_bar { background: #fff1c2; border: 1px solid #d9b44a; "
            "border-radius: 4px; } #remote_content_bar QLabel { color: #3a2f00; }"
        )
        self.message = QLabel(
            "Remote content in this item was blocked to protect your privacy.", self
        )
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.load_button = QPushButton("&Load remote content", self)
        self.load_button.setAccessibleName("Load remote content for this item")
        self.load_button.setToolTip("Load the images of this item this once")
        self.always_button = QPushButton("Al&ways for this sender", self)
        self.always_button.setAccessibleName("Always load remote content from this sender")
        self.load_button.clicked.connect(self.load_requested)
        self.always_button.clicked.connect(self.always_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.load_button)
        layout.addWidget(self.always_button)
        self.hide()

    def offer(self, sender: str | None) -> None:
        """Show the bar; "always" names the sender (hidden when there is none)."""
        if sender:
            self.always_button.setText(f"Al&ways for {sender}")
            self.always_button.setToolTip(
                f"Always load remote content from {sender} (kept in the settings)"
            )
        self.always_button.setVisible(bool(sender))
        self.show()
