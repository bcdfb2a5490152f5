"""One training run at a time per profile, across processes (the app, `run --headless`
and the CLI may all be open): an advisory ``flock`` on a file in the profile."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from focusdesk.errors import KnownError


class TrainingBusy(KnownError):
    """Another process (or window) of this profile is training the scorer right now."""

    def __init__(self) -> None:
        super().__init__(
            "The scorer is already learning in another FocusDesk window or command; "
            "your feedback is kept and will be learnt from in the next run."
        )


@contextmanager
def training_lock(path: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the profile's training lock; raises ``TrainingBusy`` when another holds it
    (unless ``wait``). The OS drops the lock when its process dies, even when killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise TrainingBusy() from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
