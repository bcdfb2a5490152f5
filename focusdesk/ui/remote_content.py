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
from collections.abc import Container, Sequence
from email.utils import parseaddr
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from focusdesk.errors import KnownError
from focusdesk.records import ItemDetail
from focusdesk.sources.html_safe import REMOTE_SRC_ATTR as REMOTE_SRC

log = logging.getLogger(__name__)

REMOTE_SCHEMES = ("http", "https")
MAX_IMAGE_BYTES = 5 * 1024 * 1024
FETCH_DEADLINE_S = 20.0
MAX_IMAGES = 64
"""At most this many remote images are fetched for one item."""
_IMG = re.compile(r"<img\b(?:[^>\"]|\"[^\"]*\")*>", re.IGNORECASE)
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


def item_html(detail: ItemDetail) -> str | None:
    """The item's sanitised HTML (``meta["html"]``), when it has some.

    Remote images are held back in it by the sanitiser (``data-remote-src``); the reader
    shows them only once allowed and fetched (``present_images``).
    """
    html = detail.meta.get("html")
    if not isinstance(html, str) or not html.strip():
        return None
    return html


def _attr(tag: str, name: str) -> str | None:
    match = re.search(rf'\s{re.escape(name)}="([^"]*)"', tag, re.IGNORECASE)
    return unescape(match.group(1)) if match else None


def _note(text: str, alt: str | None) -> str:
    alt = " ".join((alt or "").split())
    what = f": {alt}" if alt else ""
    return f"<span style='color:#808080'>[{escape(text + what, quote=False)}]</span>"


def present_images(
    html: str,
    *,
    allowed: bool = False,
    loaded: Container[str] = (),
    failed: Container[str] = (),
    requested: Container[str] | None = None,
) -> str:
    """``html`` with only the images the reader can draw; every other one becomes its alt text.

    A remote image keeps its address only when it is ``allowed`` and already ``loaded``;
    one waiting for the network, one that ``failed`` (or was never ``requested``, when
    that is given) and any image the reader never
    loads (``cid:`` parts, ``data:``) is shown as a short grey note with its alt text,
    never as Qt's broken-image icon scaled to the image's size.
    """

    def replace(match: re.Match[str]) -> str:
        tag = match.group(0)
        remote = _attr(tag, REMOTE_SRC)
        alt = _attr(tag, "alt")
        if remote is None:
            return _note("image not shown", alt)
        if not allowed:
            return _note("remote image not loaded", alt)
        if remote in loaded:
            return re.sub(rf"\s{REMOTE_SRC}=", " src=", tag, count=1, flags=re.IGNORECASE)
        if remote in failed:
            return _note("image could not be loaded", alt)
        if requested is not None and remote not in requested:
            return _note("remote image not loaded", alt)  # beyond the per-item cap
        return _note("loading image", alt)

    return _IMG.sub(replace, html)


_REASONS = (
    (
        r"could not be found|name resolution|not known|network is unreachable|no route to host",
        "no network",
    ),
    (r"refused the connection", "the server refused the connection"),
    (
        r"did not answer in time|took too long|timed out|deadline",
        "the server did not answer in time",
    ),
    (r"is not an image", "not an image"),
    (r"too large|bigger than", "too large"),
    (r"private|local network|blocked", "blocked for your safety"),
)


def describe_failures(messages: Sequence[str], total: int | None = None) -> str:
    """ "Could not load 3 remote images: no network." from the fetch errors, in words."""
    n = len(messages)
    if n == 0:
        return ""
    reasons: list[str] = []
    for message in messages:
        for pattern, reason in _REASONS:
            if re.search(pattern, message, re.IGNORECASE):
                reasons.append(reason)
                break
        else:
            reasons.append(message.strip().rstrip("."))
    reason = max(set(reasons), key=lambda r: (reasons.count(r), -reasons.index(r)))
    of = f" of {total}" if total is not None and total > n else ""
    images = "image" if n == 1 and not of else "images"
    return f"Could not load {n}{of} remote {images}: {reason}."


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
