"""HTML made safe to display: an allowlist sanitiser (nh3) plus privacy rules.

What survives: text structure (paragraphs, headings, lists, tables, quotes, code),
links and images. What never does: scripts, styles (``<style>`` and ``style=``, which
can load remote resources and draw over the page), event handlers, ``javascript:``
and other non-web URLs, forms, frames, objects, embeds, ``<base>``, ``<meta>``.
Links get ``rel="noopener noreferrer"``. Tracking pixels are removed. Remote images
are not loaded unless allowed: their address moves from ``src`` to
``data-remote-src`` and ``has_remote_content`` tells the reader to offer "load remote
content". Pure Python: no Qt here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3

from focusdesk.sources.text import valid_unicode

__all__ = ["REMOTE_SRC_ATTR", "SafeHtml", "enable_remote_content", "sanitize_html"]

REMOTE_SRC_ATTR = "data-remote-src"

_TAGS = frozenset(
    {
        "a",
        "abbr",
        "acronym",
        "address",
        "article",
        "aside",
        "b",
        "bdi",
        "bdo",
        "blockquote",
        "br",
        "caption",
        "center",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "section",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "wbr",
    }
)
# Removed together with everything inside them.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "template", "noscript", "title", "head", "iframe", "object", "textarea"}
)
_COMMON_ATTRS = {"title", "lang", "dir"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": _COMMON_ATTRS,
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height", REMOTE_SRC_ATTR},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan", "headers", "align", "valign"},
    "th": {"colspan", "rowspan", "headers", "scope", "align", "valign"},
    "col": {"span", "align"},
    "colgroup": {"span", "align"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "abbr": {"title"},
    "table": {"summary"},
}
_URL_SCHEMES = {"http", "https", "mailto", "cid", "data"}
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_IMG_SCHEMES = frozenset({"http", "https", "cid"})
_DATA_IMAGE = re.compile(r"^data:image/(?:png|gif|jpe?g|webp|bmp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_URL_ATTRS = frozenset({"href", "src", "cite", REMOTE_SRC_ATTR})

# Image addresses of well-known open/read trackers (mail and feed analytics).
_TRACKER = re.compile(
    r"(?:"
    r"feeds\.feedburner\.com/~r/|feedburner\.com/~ff/|/~r/[^/]+/~4/|"
    r"pixel\.wp\.com/|stats\.wordpress\.com/|"
    r"google-analytics\.com/|doubleclick\.net/|googleadservices\.com/|"
    r"/track(?:ing)?/open|/open\.(?:gif|png|php)|/wf/open\?|list-manage\.com/track/|"
    r"mailtrack\.io/|/beacon(?:\.gif|/)|/pixel(?:\.gif|\.png|/|\?)|/o\.gif|"
    r"analytics\.twitter\.com/|facebook\.com/tr[/?]|sli\.[a-z]+\.com/imp|"
    r"feedblitz\.com/|/emimp/|mandrillapp\.com/track|sendgrid\.net/wf/open"
    r")",
    re.I,
)
_MAX_PIXEL = 2


@dataclass(frozen=True)
class SafeHtml:
    """Sanitised HTML and what the reader needs to know about it."""

    html: str
    has_remote_content: bool = False
    """True when remote images were held back (their URLs are in ``data-remote-src``)."""
    remote_urls: tuple[str, ...] = field(default_factory=tuple)
    trackers_removed: int = 0


def _scheme(url: str) -> str:
    try:
        return urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return "invalid"


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """Per-attribute checks beyond the allowlist: URL schemes per use, sane sizes."""
    if attr in _URL_ATTRS:
        value = value.strip()
        scheme = _scheme(value)
        if attr == "src":
            if scheme == "data":
                return value if _DATA_IMAGE.match(value) else None
            return value if scheme in _IMG_SCHEMES or not scheme else None
        if attr == REMOTE_SRC_ATTR:
            return value if scheme in ("http", "https") else None
        return value if scheme in _LINK_SCHEMES or not scheme else None
    if attr in ("width", "height", "colspan", "rowspan", "span", "start", "value"):
        digits = value.strip().removesuffix("px").strip()
        return digits if digits.isdigit() and len(digits) <= 5 else None
    return value


@functools.lru_cache(maxsize=64)
def _cleaner(base_url: str | None) -> nh3.Cleaner:
    """A configured sanitiser (cached: the entries of one feed share a base URL)."""
    relative: Any = None
    if base_url and _scheme(base_url) in ("http", "https"):
        relative = ("rewrite_with_base", base_url)
    return nh3.Cleaner(
        tags=set(_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        strip_comments=True,
        link_rel="noopener noreferrer",
        url_schemes=set(_URL_SCHEMES),
        url_relative=relative,
    )


def _clean(html: str, base_url: str | None) -> str:
    return str(_cleaner(base_url).clean(_limit_nesting(html)))


MAX_DEPTH = 256
_TAG_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^<>]*?(/?)>")
# Elements a parser closes by itself (or that never hold content): they do not nest.
_NOT_NESTING = frozenset(
    {"p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody"}
    | {"tfoot", "colgroup", "caption", "rp", "rt", "br", "img", "hr", "input", "meta"}
    | {"link", "area", "base", "col", "embed", "source", "track", "wbr", "param"}
)


def _limit_nesting(html: str) -> str:
    """``html`` with start tags deeper than ``MAX_DEPTH`` left out (their text is kept).

    The HTML parser under nh3 takes time quadratic in the depth of unclosed elements
    (50,000 nested ``<div>`` took 18 s); no real document nests that deep.
    """
    if html.count("<") <= MAX_DEPTH:
        return html
    depth = 0
    out: list[str] = []
    pos = 0
    for match in _TAG_TOKEN.finditer(html):
        closing, name, self_closing = match.groups()
        if name.lower() in _NOT_NESTING or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        elif depth >= MAX_DEPTH:
            out.append(html[pos : match.start()])
            pos = match.end()
        else:
            depth += 1
    if not out:
        return html
    out.append(html[pos:])
    return "".join(out)


def _dimension(attrs: dict[str, str], name: str) -> int | None:
    value = attrs.get(name, "").strip().removesuffix("px").strip()
    return int(value) if value.isdigit() else None


class _ImageRewriter(HTMLParser):
    """Re-serialises already-sanitised HTML, deciding the fate of every ``<img>``."""

    def __init__(self, *, base_url: str | None, allow_remote: bool) -> None:
        super().__init__(convert_charrefs=False)
        self.base_url = base_url
        self.allow_remote = allow_remote
        self.out: list[str] = []
        self.remote: list[str] = []
        self.trackers = 0

    def _emit_tag(self, tag: str, attrs: list[tuple[str, str | None]], close: str) -> None:
        parts = [tag]
        for name, value in attrs:
            parts.append(name if value is None else f'{name}="{escape(value, quote=True)}"')
        self.out.append(f"<{' '.join(parts)}{close}>")

    def _img(self, attrs: list[tuple[str, str | None]], close: str) -> None:
        values = {k: v or "" for k, v in attrs}
        src = values.get("src", "") or values.get(REMOTE_SRC_ATTR, "")
        if src and self.base_url and not _scheme(src):
            src = urljoin(self.base_url, src)
        width, height = _dimension(values, "width"), _dimension(values, "height")
        tiny = (width is not None and width <= _MAX_PIXEL) or (
            height is not None and height <= _MAX_PIXEL
        )
        if tiny or (src and _TRACKER.search(src)):
            self.trackers += 1
            return
        kept = [(k, v) for k, v in attrs if k not in ("src", REMOTE_SRC_ATTR)]
        scheme = _scheme(src) if src else ""
        if scheme:  # a relative image with nothing to resolve it against is dropped
            if scheme in ("http", "https") and not self.allow_remote:
                self.remote.append(src)
                kept.append((REMOTE_SRC_ATTR, src))
            else:
                kept.append(("src", src))
        self._emit_tag("img", kept, close)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self._img(attrs, "")
        else:
            self._emit_tag(tag, attrs, "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self._img(attrs, " /")
        else:
            self._emit_tag(tag, attrs, " /")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")


def sanitize_html(
    html: str, *, base_url: str | None = None, allow_remote: bool = False
) -> SafeHtml:
    """Sanitise ``html`` for display by the allowlist; see the module docstring.

    Relative links and images are resolved against ``base_url`` when it is an
    absolute http(s) URL. With ``allow_remote`` remote images keep their ``src``
    (tracking pixels are removed either way).
    """
    if not html or not html.strip():
        return SafeHtml("")
    cleaned = _clean(valid_unicode(html), base_url)  # nh3 takes UTF-8 only
    if "<img" not in cleaned:
        return SafeHtml(cleaned)
    rewriter = _ImageRewriter(base_url=base_url, allow_remote=allow_remote)
    rewriter.feed(cleaned)
    rewriter.close()
    # The rewritten HTML goes through the sanitiser again: nothing it emits is trusted.
    final = _clean("".join(rewriter.out), None)
    return SafeHtml(
        final,
        has_remote_content=bool(rewriter.remote),
        remote_urls=tuple(dict.fromkeys(rewriter.remote)),
        trackers_removed=rewriter.trackers,
    )


def enable_remote_content(safe_html: str) -> str:
    """The same sanitised HTML with held-back remote images allowed to load.

    For the reader's "load remote content" (this message, or always for this sender).
    """
    if REMOTE_SRC_ATTR not in safe_html:
        return safe_html
    return sanitize_html(safe_html, allow_remote=True).html
