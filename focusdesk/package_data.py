"""Files FocusDesk ships besides its code: migrations, the demo profile, icons, desktop files.

They live in the top-level ``migrations/`` and ``resources/`` folders of the source tree;
the wheel (setuptools ``package-dir``) and the PyInstaller bundle put them inside the
package as ``focusdesk/migrations`` and ``focusdesk/resources``. Everything is found
through ``importlib.resources``, so a source checkout, an installed wheel and a frozen
bundle all work the same way.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from focusdesk.errors import KnownError

ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
"""The PNG sizes of the application icon in ``resources/icons``."""

APP_ID = "org.focusdesk.FocusDesk"
"""The reverse-DNS id of the .desktop file, the AppStream metainfo and the icon name."""


def _shipped(name: str) -> Path:
    """The folder ``name`` inside the installed package, else the source checkout's one."""
    package = Path(str(files("focusdesk")))
    for candidate in (package / name, package.parent / name):
        if candidate.is_dir():
            return candidate
    raise KnownError(
        f"FocusDesk's {name} folder is missing from this installation ({package / name}).",
        hint="Reinstall FocusDesk (pip install --force-reinstall focusdesk).",
    )


def migrations_dir() -> Path:
    """The Alembic script folder (``env.py`` and ``versions/``)."""
    return _shipped("migrations")


def resources_dir() -> Path:
    """The resources folder: ``demo/``, ``icons/`` and ``desktop/``."""
    return _shipped("resources")


def demo_dir() -> Path:
    """The demo profile's content: a notes vault, an mbox and ``goals.json``."""
    return resources_dir() / "demo"


def icon_svg() -> Path:
    """The scalable application icon."""
    return resources_dir() / "icons" / f"{APP_ID}.svg"


def icon_png(size: int) -> Path:
    """The application icon rendered at ``size`` × ``size`` pixels (one of ICON_SIZES)."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size} px icon; sizes: {ICON_SIZES}")
    return resources_dir() / "icons" / f"{APP_ID}-{size}.png"


def desktop_file() -> Path:
    """The .desktop entry template (its ``Exec`` is filled in on install)."""
    return resources_dir() / "desktop" / f"{APP_ID}.desktop"


def metainfo_file() -> Path:
    """The AppStream metainfo of the application."""
    return resources_dir() / "desktop" / f"{APP_ID}.metainfo.xml"
