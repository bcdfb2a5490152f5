"""A guard for the GUI tests: no SQL on the UI thread from UI code (issue 11, "a UI that
only paints").

``UiThreadSql`` listens to every SQLAlchemy engine (``before_cursor_execute``) and records a
statement when it runs on the main thread and the nearest code on the stack that is either
UI code (``focusdesk/ui/``) or test code (``tests/``) is UI code. So:

- SQL in a worker thread (``window.ops.read`` / ``ops.write``, the search's threads) is
  never recorded: that is where the store is meant to be used;
- SQL the test runs itself (a fixture adding a goal, an assertion counting rows, a test
  slot connected to a UI signal) is not recorded: the nearest owner is the test;
- SQL inside a task of ``window.ops`` (its runnable's ``run`` on the stack) is not recorded
  either: on the main thread that only happens when a test swaps in an inline pool on
  purpose (the heartbeat's own check that it sees a stalled UI thread);
- everything else on the main thread (a slot, a model's ``data``, ``__init__``, a close
  handler, a callback of an operation that reads once more) is recorded and names its site:
  the chain of UI frames, outermost first, ``file:line function``, and the SQL.

What is allowed (``ALLOWED``, keyed by the innermost UI frame's file and function):

- ``ui/main.py`` ``run``: opening the profile (``FocusDesk.open``: the schema check and the
  settings) before the window exists and before the event loop runs, and closing it after
  the loop has ended. Nothing is on screen to freeze and nothing could be painted without
  the profile; a failure is shown as a message box instead of a window. It stays short on
  any profile size (no item is read), so moving it to a thread would only add a splash
  screen. Everything the window itself reads goes through ``window.ops``.

The autouse fixture in ``tests/gui/conftest.py`` fails the test at teardown (after its
windows were closed, so the close handlers are covered too) with ``report()``.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

import focusdesk.ui.operations

UI_ROOT = Path(focusdesk.ui.__file__).resolve().parent
TESTS_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = UI_ROOT.parents[1]
OPERATIONS_FILE = focusdesk.ui.operations.__file__

ALLOWED: dict[tuple[str, str], str] = {
    ("focusdesk/ui/main.py", "run"): "opens the profile before the window and the event loop",
}
"""(file, function) of the innermost UI frame -> why SQL there is allowed for now."""

ALLOWED_FIRED: Counter[tuple[str, str]] = Counter()
"""Statements per allowed site over the session (the fixture adds them; the summary shows
which allowed sites still fire)."""

SQL_SHOWN = 160
"""Characters of a statement shown in the report."""


@dataclass(frozen=True)
class Frame:
    """One UI frame of a site: the file relative to the repository, the line, the function."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.function}"


@dataclass(frozen=True)
class Hit:
    """One statement run on the UI thread by UI code."""

    chain: tuple[Frame, ...]
    """The UI frames on the stack, outermost first; the last one is the site."""
    sql: str

    @property
    def site(self) -> Frame:
        return self.chain[-1]

    @property
    def key(self) -> tuple[str, str]:
        return self.site.file, self.site.function


def _one_line(sql: str) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= SQL_SHOWN else text[: SQL_SHOWN - 1] + "…"


class UiThreadSql:
    """Records SQL run on the main thread by UI code while it is started."""

    def __init__(
        self,
        *,
        ui_code: tuple[Path, ...] = (UI_ROOT,),
        test_code: tuple[Path, ...] = (TESTS_ROOT,),
        allowed: dict[tuple[str, str], str] | None = None,
    ) -> None:
        """``ui_code`` and ``test_code`` are folders or files; UI code wins where both
        match (the guard's own tests name a test file as UI code)."""
        self._ui = tuple(str(p.resolve()) for p in ui_code)
        self._tests = tuple(str(p.resolve()) for p in test_code)
        self.allowed = ALLOWED if allowed is None else allowed
        self.hits: list[Hit] = []
        """Statements at sites that are not allowed."""
        self.allowed_hits: list[Hit] = []
        """Statements at allowed sites (kept to show which allowed sites still fire)."""
        self._owner_of: dict[str, str | None] = {}

    # -- listening ------------------------------------------------------------------
    @contextmanager
    def watching(self) -> Iterator[UiThreadSql]:
        event.listen(Engine, "before_cursor_execute", self._record)
        try:
            yield self
        finally:
            event.remove(Engine, "before_cursor_execute", self._record)

    def _owner(self, filename: str) -> str | None:
        """The owner of a code file: "ui", "test" or None (library, core, stdlib)."""
        try:
            return self._owner_of[filename]
        except KeyError:
            pass
        path = str(Path(filename).resolve()) if filename and filename[0] != "<" else ""
        owner: str | None = None
        if path and any(path == root or path.startswith(root + "/") for root in self._ui):
            owner = "ui"
        elif path and any(path == root or path.startswith(root + "/") for root in self._tests):
            owner = "test"
        self._owner_of[filename] = owner
        return owner

    def _record(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        chain = self._ui_chain(sys._getframe(1))
        if chain:
            hit = Hit(chain, statement)
            (self.allowed_hits if hit.key in self.allowed else self.hits).append(hit)

    def _ui_chain(self, frame: FrameType | None) -> tuple[Frame, ...]:
        """The UI frames of the stack, outermost first; empty when the nearest owner of the
        statement is the test (or nothing: a library on its own)."""
        nearest: str | None = None
        frames: list[Frame] = []
        while frame is not None:
            code = frame.f_code
            if code.co_name == "run" and code.co_filename == OPERATIONS_FILE:
                return ()  # an operation's task, run inline by a test
            owner = self._owner(code.co_filename)
            if owner is not None and nearest is None:
                nearest = owner
            if owner == "ui":
                frames.append(Frame(self._relative(code.co_filename), frame.f_lineno, code.co_name))
            frame = frame.f_back
        if nearest != "ui":
            return ()
        return tuple(reversed(frames))

    @staticmethod
    def _relative(filename: str) -> str:
        path = Path(filename).resolve()
        try:
            return path.relative_to(REPO_ROOT).as_posix()
        except ValueError:
            return path.as_posix()

    # -- reporting ------------------------------------------------------------------
    def report(self) -> str:
        """Each site with its chain and statements; empty when there is nothing to report."""
        if not self.hits:
            return ""
        by_chain: dict[tuple[Frame, ...], Counter[str]] = {}
        for hit in self.hits:
            by_chain.setdefault(hit.chain, Counter())[_one_line(hit.sql)] += 1
        sites = {hit.key for hit in self.hits}
        lines = [
            f"{len(self.hits)} SQL statement(s) ran on the UI thread at {len(sites)} site(s); "
            "read in window.ops.read, write in window.ops.write:"
        ]
        for chain, statements in by_chain.items():
            lines.append(f"- {chain[-1]}")
            if len(chain) > 1:
                lines.append("    via " + " > ".join(str(f) for f in chain[:-1]))
            for sql, count in statements.items():
                lines.append(f"    {sql}" + (f"  (x{count})" if count > 1 else ""))
        return "\n".join(lines)
