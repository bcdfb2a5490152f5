"""Keeping Python's garbage collector from stalling the UI thread.

A full (generation 2) collection walks every tracked object and holds the GIL while
it does; with torch, faiss, Qt and SQLAlchemy loaded that is a few hundred thousand
objects and 0.2–0.5 s, during which the UI thread cannot run a single slot — even
though the allocations that triggered it happened in a worker. ``gc.freeze()`` moves
everything alive at that point (modules, the model, the window) into a permanent
generation that collections skip, so later collections only walk what was made since
and take milliseconds. The window freezes after it first shows and again once the
model is loaded, and unfreezes when it closes.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


class HeapFreezer:
    """Freezes the heap at quiet moments; undoes it when its window goes."""

    def __init__(self) -> None:
        self.frozen = False

    def freeze(self) -> None:
        """Move every object alive now out of the collector's way (cheap: no collection)."""
        gc.freeze()
        self.frozen = True
        log.debug("Froze %d objects out of the garbage collector", gc.get_freeze_count())

    def release(self) -> None:
        """Give the frozen objects back to the collector (the window is closing)."""
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
