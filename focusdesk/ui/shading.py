"""Colours of the reader's evidence marks, and laying them on a rendered document.

Passages are shaded with a lavender blended into the page (not the palette's highlight,
which would read as a selection), more for a heavier passage; the tint is capped so
that the palette's own text stays readable on it (WCAG contrast of at least 4.5:1),
in light and dark themes alike.
The best sentence is marked amber with dark text, which reads on either.

On a rendered note or HTML mail only the text's background is set, fragment by
fragment: text with a background of its own (inline code) keeps it, colours of
links and headings stay, and table cells (a note's callouts) keep their fill.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QBrush, QColor, QPalette, QTextCharFormat, QTextCursor, QTextDocument

from .style import blend

SENTENCE_BACKGROUND, SENTENCE_FOREGROUND = "#ffe27a", "#1b1b1b"
"""Amber with dark text: the best sentence, readable on light and dark palettes alike."""
SHADE_ACCENT = "#8a6fd6"
"""The colour passages are shaded toward: neither the selection's blue nor the amber."""
MAX_TINT = 0.42
"""How far the heaviest passage's shade goes from the page colour toward the highlight."""
LIGHTEST_TINT = 0.3
"""The faintest shaded passage gets this share of the heaviest one's tint."""
MIN_CONTRAST = 4.5


def _luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def passage_shade(palette: QPalette, strength: float) -> QColor:
    """The background of a passage whose weight is ``strength`` (0..1) of the heaviest's."""
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    accent = QColor(SHADE_ACCENT)
    strength = max(0.0, min(1.0, strength))
    t = MAX_TINT * (LIGHTEST_TINT + (1 - LIGHTEST_TINT) * strength)
    colour = blend(base, accent, t)
    while t > 0.02 and contrast(colour, text) < MIN_CONTRAST:
        t *= 0.85
        colour = blend(base, accent, t)
    return colour


def mark_range(
    document: QTextDocument,
    start: int,
    end: int,
    background: QColor | None,
    *,
    foreground: QColor | None = None,
    anchors: Sequence[str] = (),
) -> None:
    """Set the background of the text in ``start:end`` (document positions); None: only
    name the anchors.

    Fragment by fragment, within blocks only, so that table cells keep their own fill;
    a fragment with a background of its own keeps it. ``foreground`` recolours the
    text too; ``anchors`` name the first character (for ``scrollToAnchor``).
    """
    pieces: list[tuple[int, int, bool]] = []  # collected first: merging splits fragments
    block = document.findBlock(start)
    while block.isValid() and block.position() < end:
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            a = max(start, fragment.position())
            b = min(end, fragment.position() + fragment.length())
            if a < b:
                own = fragment.charFormat().background().style() != _NO_BRUSH
                pieces.append((a, b, own))
            it += 1
        block = block.next()
    fmt = QTextCharFormat()
    if background is not None:
        fmt.setBackground(QBrush(background))
    if foreground is not None:
        fmt.setForeground(QBrush(foreground))
    cursor = QTextCursor(document)
    for a, b, own in pieces:
        if not own and background is not None:
            cursor.setPosition(a)
            cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
    if anchors and pieces:
        name = QTextCharFormat()
        name.setAnchor(True)
        name.setAnchorNames(list(anchors))
        cursor.setPosition(pieces[0][0])
        cursor.setPosition(pieces[0][0] + 1, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(name)


_NO_BRUSH = QBrush().style()
