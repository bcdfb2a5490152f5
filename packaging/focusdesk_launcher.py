"""Entry point of the PyInstaller bundle: the same ``focusdesk`` command as the wheel's."""

from __future__ import annotations

import sys

from focusdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
