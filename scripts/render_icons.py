"""Render the application icon's PNG sizes from its SVG (Qt's QSvgRenderer, no other tool).

Run from the repository root after editing ``resources/icons/org.focusdesk.FocusDesk.svg``:
``QT_QPA_PLATFORM=offscreen python scripts/render_icons.py``; the PNGs are committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from focusdesk.package_data import ICON_SIZES, icon_png, icon_svg  # noqa: E402


def render(svg: Path, size: int, out: Path) -> None:
    """Paint ``svg`` into a transparent ``size`` × ``size`` PNG at ``out``."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def main() -> int:
    QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for size in ICON_SIZES:
        render(icon_svg(), size, icon_png(size))
        print(icon_png(size).relative_to(REPO))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
