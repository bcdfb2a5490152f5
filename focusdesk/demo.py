"""The bundled demo profile: a notes vault, a mailbox and goals (package data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk


def default_demo_dir() -> Path:
    """Where `focusdesk demo` keeps its profile when no --data-dir is given."""
    from focusdesk.paths import resolve_paths

    return resolve_paths().data_dir.parent / "FocusDesk-demo"


def seed_demo(fd: FocusDesk, demo_dir: Path | None = None) -> bool:
    """Add the demo sources and goals to an empty profile; False if it was not empty."""
    from focusdesk.package_data import demo_dir as shipped_demo_dir

    demo_dir = demo_dir or shipped_demo_dir()
    if fd.sources.all() or fd.goals.all():
        return False
    fd.sources.add("notes", str(demo_dir / "notes"), name="Demo notes")
    fd.sources.add("mbox", str(demo_dir / "inbox.mbox"), name="Demo inbox")
    for goal in json.loads((demo_dir / "goals.json").read_text(encoding="utf-8")):
        fd.goals.add(
            goal["title"],
            weight=float(goal.get("weight", 1.0)),
            description=goal.get("description", ""),
        )
    return True
