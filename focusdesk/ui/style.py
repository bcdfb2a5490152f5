"""Small look-and-feel helpers shared by the widgets (palette-aware, light and dark)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QWidget


def blend(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


def muted_colour(palette: QPalette, *, on_window: bool = False) -> QColor:
    """Secondary text: the text colour blended towards the background, in any theme."""
    if on_window:
        text, back = QPalette.ColorRole.WindowText, QPalette.ColorRole.Window
    else:
        text, back = QPalette.ColorRole.Text, QPalette.ColorRole.Base
    return blend(palette.color(text), palette.color(back), 0.42)


class MutedLabel(QLabel):
    """A label in the secondary text colour, kept right when the theme changes."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._apply()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._applying:
            self._apply()

    _applying = False

    def _apply(self) -> None:
        self._applying = True
        try:
            parent = self.parentWidget()
            base = parent.palette() if parent is not None else self.palette()
            palette = QPalette(self.palette())
            palette.setColor(QPalette.ColorRole.WindowText, muted_colour(base, on_window=True))
            self.setPalette(palette)
        finally:
            self._applying = False


def heading(label: QLabel, scale: float = 1.0, *, bold: bool = True) -> QLabel:
    """Make a label a heading: bold, and ``scale`` times the default point size."""
    font = QFont(label.font())
    font.setBold(bold)
    if scale != 1.0 and font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def paint_empty_text(view: QAbstractItemView, text: str) -> None:
    """Write ``text`` in the secondary colour across an empty view (call from paintEvent)."""
    painter = QPainter(view.viewport())
    painter.setPen(muted_colour(view.palette()))
    painter.drawText(
        view.viewport().rect().adjusted(12, 12, -12, -12),
        int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
        text,
    )
    painter.end()


# -- themes -----------------------------------------------------------------------------
THEMES = ("system", "light", "dark")
DARK_COLOURS = {
    "Window": "#2b2b2e",
    "WindowText": "#e8e8ea",
    "Base": "#1f1f22",
    "AlternateBase": "#27272b",
    "Text": "#e8e8ea",
    "Button": "#36363a",
    "ButtonText": "#e8e8ea",
    "BrightText": "#ffffff",
    "Highlight": "#3d6fb6",
    "HighlightedText": "#ffffff",
    "PlaceholderText": "#9a9aa2",
    "ToolTipBase": "#36363a",
    "ToolTipText": "#e8e8ea",
    "Link": "#7fb0ff",
    "LinkVisited": "#c3a6ff",
    "Mid": "#4a4a50",
    "Dark": "#18181a",
    "Light": "#4a4a50",
    "Midlight": "#3e3e44",
    "Shadow": "#000000",
}


def dark_palette() -> QPalette:
    """A plain dark palette in which every text colour keeps a legible contrast."""
    palette = QPalette()
    for role, colour in DARK_COLOURS.items():
        palette.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in ("WindowText", "Text", "ButtonText"):
        palette.setColor(disabled, getattr(QPalette.ColorRole, role), QColor("#6c6c73"))
    return palette


class ThemeKeeper:
    """Applies the theme setting to the application and can go back to the system's."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self._system_style = app.style().name()
        self._system_palette = QPalette(app.palette())
        self.theme = "system"

    def apply(self, theme: str) -> None:
        """``system`` keeps the desktop's look; ``light`` and ``dark`` use Fusion."""
        if theme not in THEMES:
            theme = "system"
        if theme == self.theme:
            return
        self.theme = theme
        if theme == "system":
            self.app.setStyle(self._system_style)
            self.app.setPalette(self._system_palette)
            return
        self.app.setStyle("Fusion")
        style = self.app.style()
        self.app.setPalette(dark_palette() if theme == "dark" else style.standardPalette())


# -- icons ------------------------------------------------------------------------------
KIND_BADGES = {
    "notes": ("N", "#5b8c5a"),
    "mbox": ("M", "#3d6fb6"),
    "maildir": ("M", "#3d6fb6"),
    "imap": ("@", "#3d6fb6"),
    "feed": ("F", "#c26d1a"),
}


def _badge_pixmap(letter: str, colour: str, size: int, ratio: float) -> QPixmap:
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), size / 4, size / 4)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(7, int(size * 0.62)))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(QRectF(0, 0, size, size), int(Qt.AlignmentFlag.AlignCenter), letter)
    painter.end()
    return pixmap


def source_icon(kind: str) -> QIcon:
    """A small coloured badge for a source kind (N notes, M mail, @ IMAP, F feed).

    Sharp at any scale: each size is drawn at 1x and 2x. Callers keep the icons they use.
    """
    letter, colour = KIND_BADGES.get(kind, ("?", "#707070"))
    icon = QIcon()
    for size in (16, 24, 32):
        for ratio in (1.0, 2.0):
            icon.addPixmap(_badge_pixmap(letter, colour, size, ratio))
    return icon


def app_icon() -> QIcon:
    """FocusDesk's icon (resources/icons: the PNG sizes, for the window, tray and task bar)."""
    from focusdesk.package_data import ICON_SIZES, icon_png

    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(icon_png(size)), QSize(size, size))
    return icon
