"""Text cleaning shared by the sources: HTML to text, quoted replies, signatures.

Everything here is pure string work: no I/O, never raises on odd input, and the
cleaned text is what gets ranked (the reader shows the full text instead).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import (
    Comment,
    Declaration,
    Doctype,
    ProcessingInstruction,
)

__all__ = [
    "clean_for_ranking",
    "html_to_text",
    "normalise_whitespace",
    "strip_quoted_reply",
    "strip_signature",
    "valid_unicode",
]

# --- HTML -------------------------------------------------------------------

_DROP_TAGS = frozenset(
    {"script", "style", "head", "title", "noscript", "template", "iframe", "object", "svg"}
)
# Elements that stand apart from their neighbours by a blank line.
_PARAGRAPH_TAGS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
        "dl",
        "hr",
        "figure",
        "address",
        "section",
        "article",
        "aside",
        "header",
        "footer",
        "nav",
        "main",
    }
)
# Elements that start on a line of their own.
_LINE_TAGS = frozenset(
    {"div", "li", "tr", "dt", "dd", "caption", "figcaption", "form", "fieldset", "details"}
)
_CELL_TAGS = frozenset({"td", "th"})
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)


def _without_comments(html: str) -> str:
    """``html`` without its comments, in one pass; an unclosed one runs to the end, as in
    browsers (html.parser searches again for the end of each unclosed ``<!--``, which
    is quadratic)."""
    if "<!--" not in html:
        return html
    out: list[str] = []
    pos = 0
    while True:
        start = html.find("<!--", pos)
        if start < 0:
            out.append(html[pos:])
            break
        out.append(html[pos:start])
        end = html.find("-->", start + 2)  # "<!-->" is an empty comment
        if end < 0:
            break
        pos = end + 3
    return "".join(out)


def html_to_text(html: str) -> str:
    """Reduce an HTML document or fragment to readable plain text.

    Scripts, styles and the head are dropped; paragraphs, line breaks and list items
    keep their line structure; entities are unescaped and whitespace is collapsed.
    """
    if not html or not html.strip():
        return ""
    html = _without_comments(html)
    if html.count("<", 0, len(html)) > MAX_TREE_TAGS:
        return _flat_html_to_text(html)
    soup = BeautifulSoup(html, "html.parser")
    out: list[str | int] = []
    # An explicit stack instead of recursion: deeply nested HTML must not overflow.
    stack: list[Any] = [(soup, False)]
    while stack:
        entry = stack.pop()
        if isinstance(entry, str | int):
            out.append(entry)
            continue
        node, in_pre = entry
        if isinstance(node, NavigableString):
            if isinstance(node, _SKIPPED_STRINGS):
                continue
            text = str(node)
            out.append(text if in_pre else re.sub(r"\s+", " ", text))
            continue
        if not isinstance(node, Tag):
            continue
        name = (node.name or "").lower()
        if name in _DROP_TAGS:
            continue
        if name == "br":
            out.append("\n")
            continue
        if name == "img":
            alt = node.get("alt")
            if isinstance(alt, str) and alt.strip():
                out.append(f" {alt.strip()} ")
            continue
        child_pre = in_pre or name in ("pre", "textarea")
        brk = 0
        if name in _PARAGRAPH_TAGS:
            brk = _PARA
        elif name in _LINE_TAGS:
            brk = _LINE
        # Pushed in reverse so that they pop in document order.
        if brk:
            stack.append(brk)
        elif name in _CELL_TAGS:
            stack.append(" ")
        stack.extend((child, child_pre) for child in reversed(list(node.children)))
        if name == "li":
            stack.append("- ")
        if brk:
            stack.append(brk)
    return normalise_whitespace(_join_blocks(out))


_LINE = 1
_PARA = 2

MAX_TREE_TAGS = 20_000
"""Past this many tags an HTML text is read in one flat pass, not as a tree: building the
tree of a megabyte of bare tags takes seconds (real mail and feed entries stay far below)."""
_ANY_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)?[^<>]*>")  # [^<>]: linear on "<a<a<a"
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


def _flat_html_to_text(html: str) -> str:
    """``html_to_text`` in one linear pass over the tags: block tags still break lines,
    cells are spaced, and scripts, styles and the head are dropped up to their end tag."""
    out: list[str | int] = []
    pos = 0
    skipping: str | None = None
    for match in _ANY_TAG.finditer(html):
        if skipping is None and match.start() > pos:
            out.append(re.sub(r"\s+", " ", unescape(html[pos : match.start()])))
        pos = match.end()
        closing, name = match.group(1), (match.group(2) or "").lower()
        if skipping is not None:
            if closing and name == skipping:
                skipping = None
            continue
        if not closing and name in _DROP_TAGS:
            skipping = name
        elif name == "br":
            out.append("\n")
        elif name == "img":
            alt = _ALT.search(match.group(0))
            text = next((g for g in alt.groups() if g), "") if alt else ""
            if text.strip():
                out.append(f" {unescape(text).strip()} ")
        elif name == "li" and not closing:
            out.extend((_LINE, "- "))
        elif name in _PARAGRAPH_TAGS:
            out.append(_PARA)
        elif name in _LINE_TAGS:
            out.append(_LINE)
        elif name in _CELL_TAGS:
            out.append(" ")
    if skipping is None and pos < len(html):
        out.append(re.sub(r"\s+", " ", unescape(html[pos:])))
    return normalise_whitespace(_join_blocks(out))


def _join_blocks(parts: list[str | int]) -> str:
    """Join text pieces, turning each run of block markers into one line or paragraph break."""
    pieces: list[str] = []
    pending = 0
    for part in parts:
        if isinstance(part, int):
            pending = max(pending, part)
            continue
        if pending and part.strip(" \t"):
            if pieces:
                pieces.append("\n\n" if pending == _PARA else "\n")
            pending = 0
            part = part.lstrip(" \t")
        elif pending:
            continue  # whitespace between blocks
        pieces.append(part)
    return "".join(pieces)


# --- whitespace -------------------------------------------------------------

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with every lone surrogate (from a bad character reference, a JSON
    ``\\ud800`` escape or a file name that is not UTF-8) replaced by U+FFFD, so that it
    can be encoded as UTF-8 and stored."""
    return _LONE_SURROGATE.sub("\ufffd", text)


_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HSPACE = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def normalise_whitespace(text: str) -> str:
    """Unify line endings, collapse runs of spaces, trim lines and allow one blank line.

    Zero-width and control characters are removed; paragraph breaks survive as a
    single blank line.
    """
    if not text:
        return ""
    text = valid_unicode(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _ZERO_WIDTH.sub("", text)
    text = _CONTROL.sub("", text)
    text = _HSPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


# --- quoted replies -----------------------------------------------------------

# ">" quoting, Usenet "|>" quoting and supercite-style initials ("CB> ", "CB>>").
_QUOTE_LINE = re.compile(r"^[ \t]*(?:>|\|[ \t]?>|[A-Z]{1,3}>[> \t])")
_ATTRIBUTION_END = re.compile(
    r"\b(?:writes|wrote|says|said|writ|schrieb|a écrit|escribió|scrisse|kirjoitti)"
    r"[ \t]*:[ \t]*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^[ \t]*(?:In article\b|In <|On\b|Am\b|Le\b|El\b)", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^[ \t]*-{2,}[ \t]*(?:Original Message|Urspr\u00fcngliche Nachricht|Message d'origine)"
    r"[ \t]*-{2,}[ \t]*$",
    re.IGNORECASE,
)
_OUTLOOK_RULE = re.compile(r"^[ \t]*_{10,}[ \t]*$")
_OUTLOOK_HEADER = re.compile(r"^[ \t]*\*?(?:From|De|Von|Van)\*?[ \t]*:", re.IGNORECASE)
_MAX_ATTRIBUTION_CHARS = 250


# Marks some newsreaders quote with; trusted only in a message where one follows an attribution.
_OTHER_QUOTE_MARK = re.compile(r"^[ \t]*(=>|[:|}])")
_FROM_ARTICLE = re.compile(r"^From article <[^<>]+>.*:$", re.IGNORECASE)
# "In article <id>, X writes:" names a message id: it is an attribution whatever follows.
_USENET_ATTRIBUTION = re.compile(
    r"^(?:In article|In) <[^<>\s]+>.*\b(?:writes|wrote|says)[ \t]*:$", re.IGNORECASE
)


def _is_attribution(line: str) -> bool:
    stripped = line.strip()
    return (
        0 < len(stripped) <= _MAX_ATTRIBUTION_CHARS
        and (_ATTRIBUTION_END.search(stripped) or _FROM_ARTICLE.match(stripped)) is not None
    )


def _next_content_line(lines: list[str], start: int) -> int | None:
    for j in range(start, len(lines)):
        if lines[j].strip():
            return j
    return None


def quote_line_test(lines: list[str]) -> Callable[[str], bool]:
    """Which lines of a message quote another: '>', '|>' and initials ("CB>") always;
    ':', '|', '}' or '=>' where the message uses them after an attribution."""
    marks: set[str] = set()
    for i, line in enumerate(lines):
        if _is_attribution(line):
            nxt = _next_content_line(lines, i + 1)
            mark = _OTHER_QUOTE_MARK.match(lines[nxt]) if nxt is not None else None
            if mark:
                marks.add(mark.group(1))

    def is_quote(line: str) -> bool:
        if _QUOTE_LINE.match(line):
            return True
        mark = _OTHER_QUOTE_MARK.match(line)
        return mark is not None and mark.group(1) in marks

    return is_quote


def strip_quoted_reply(text: str) -> str:
    """Remove quoted lines, the attribution lines that introduce them, and Outlook tails.

    Handles '>' and '|>' quoting (and ':', '|', '}' or '=>' where an attribution
    introduces them), "On ... wrote:", "X writes:" and "In article <...>, X writes:"
    attributions (also wrapped over two lines), and cuts at "-----Original Message-----"
    or an Outlook rule followed by a From: header.
    """
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    # Outlook-style tails: everything after the marker is the quoted original.
    for i, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line):
            lines = lines[:i]
            break
        if _OUTLOOK_RULE.match(line):
            nxt = _next_content_line(lines, i + 1)
            if nxt is not None and nxt <= i + 2 and _OUTLOOK_HEADER.match(lines[nxt]):
                lines = lines[:i]
                break

    is_quote = quote_line_test(lines)
    drop = [False] * len(lines)
    for i, line in enumerate(lines):
        if is_quote(line):
            drop[i] = True
            continue
        if not _is_attribution(line):
            continue
        nxt = _next_content_line(lines, i + 1)
        unambiguous = _USENET_ATTRIBUTION.match(line.strip()) or _FROM_ARTICLE.match(line.strip())
        if nxt is not None and not is_quote(lines[nxt]) and not unambiguous:
            continue  # "He wrote:" followed by prose is the author's own text.
        drop[i] = True
        # An attribution wrapped over two lines: "On Mon, ... John <" / "j@x> wrote:".
        prev = i - 1
        if (
            prev >= 0
            and not drop[prev]
            and lines[prev].strip()
            and len(lines[prev]) <= _MAX_ATTRIBUTION_CHARS
            and _ATTRIBUTION_START.match(lines[prev])
            and not _ATTRIBUTION_START.match(line)
        ):
            drop[prev] = True
    kept = [line for line, gone in zip(lines, drop, strict=True) if not gone]
    return "\n".join(kept).strip("\n")


# --- signatures -----------------------------------------------------------------

_MAX_SIGNATURE_LINES = 15
_SIG_DELIMITER = frozenset({"-- ", "--"})
_MOBILE_FOOTER = re.compile(
    r"^[ \t]*(?:Sent from my\b.*|Sent from (?:Mail|Outlook|Yahoo Mail)\b.*|"
    r"Get Outlook for\b.*|Enviado desde mi\b.*|Von meinem\b.*gesendet\.?|"
    r"Envoy\u00e9 de mon\b.*)$",
    re.IGNORECASE,
)
_VALEDICTION = re.compile(
    r"^[ \t]*(?:best|best regards|best wishes|kind regards|warm regards|warmest regards|"
    r"regards|cheers|thanks|many thanks|thanks again|thanks in advance|thank you|"
    r"sincerely|yours|yours truly|yours sincerely|all the best|take care|"
    r"mit freundlichen gr\u00fc\u00dfen|viele gr\u00fc\u00dfe|cordialement)[ \t]*[,.!]?[ \t]*$",
    re.IGNORECASE,
)
_MAX_CLOSING_LINES = 4
_MAX_CLOSING_LINE_CHARS = 60


def strip_signature(text: str) -> str:
    """Cut a trailing signature: at a "-- " delimiter, a mobile footer or a sign-off block.

    Only the last ~15 lines are ever considered and the text is never emptied: a
    cut that would leave nothing is not made.
    """
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    n = len(lines)
    window_start = max(0, n - _MAX_SIGNATURE_LINES)

    def has_content_before(idx: int) -> bool:
        return any(line.strip() for line in lines[:idx])

    # 1. The conventional delimiter: a line that is exactly "-- " (or "--").
    for i in range(window_start, n):
        if lines[i] in _SIG_DELIMITER and has_content_before(i):
            lines = lines[:i]
            break

    # 2. "Sent from my iPhone" and friends, as the last content line.
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and _MOBILE_FOOTER.match(lines[-1]) and has_content_before(len(lines) - 1):
        lines.pop()

    # 3. A sign-off ("Best,", "Thanks,") followed only by a few short lines.
    while lines and not lines[-1].strip():
        lines.pop()
    n = len(lines)
    for i in range(max(0, n - _MAX_CLOSING_LINES - 1), n):
        if not _VALEDICTION.match(lines[i]):
            continue
        tail = [line for line in lines[i + 1 :] if line.strip()]
        if (
            len(tail) <= _MAX_CLOSING_LINES
            and all(len(line.strip()) <= _MAX_CLOSING_LINE_CHARS for line in tail)
            and has_content_before(i)
        ):
            lines = lines[:i]
            break
    return "\n".join(lines).strip("\n")


def clean_for_ranking(text: str) -> str:
    """Text as ranked: quotes and signature removed, whitespace normalised.

    A message that is nothing but quotes keeps its quoted text rather than becoming
    empty, so that it can still be ranked.
    """
    cleaned = normalise_whitespace(strip_signature(strip_quoted_reply(text)))
    if cleaned:
        return cleaned
    return normalise_whitespace(strip_signature(text))
