"""``focusdesk`` as a child process for the fault tests: the real command line, plus
faults a test asks for through the environment.

- ``FOCUSDESK_TEST_FAKE_ENCODER=1``: the tiny fake encoder (tests/fakes.py) comes in
  through the composition root's seam (``cli.main(encoder=...)``) instead of the model.
- ``FOCUSDESK_TEST_KILL_AT=N``: SIGKILL itself at the N-th write point: an SQL statement
  or commit, or a file of the profile opened for writing or renamed (observed through
  SQLAlchemy's events and Python's audit hooks: nothing is patched).
- ``FOCUSDESK_TEST_KILL_SQL=TEXT:N``: SIGKILL itself at the N-th SQL statement that
  contains TEXT (e.g. ``INSERT INTO embeddings:1``, the first vectors the encode stage
  stores).
- ``FOCUSDESK_TEST_KILL_FILE=FOLDER:N``: SIGKILL itself at the N-th write point that is
  a file under FOLDER of the profile (e.g. ``cache/index:1``: the index being saved). A
  pipelined sync's count of SQL statements varies a little from run to run (how the
  reader's commits and the encode stage interleave), so a point counted from the end
  of another run may not exist; a file of the index is always written the same way.
- ``FOCUSDESK_TEST_POINTS_FILE=PATH``: write how many write points the run passed.
- ``FOCUSDESK_TEST_FSIZE=BYTES``: no file can grow beyond BYTES (RLIMIT_FSIZE): a full disk.

Usage: ``python tests/fault_runner.py --data-dir DIR VERB ...`` (``--data-dir`` first).
"""

from __future__ import annotations

import atexit
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))


class WritePoints:
    """Counts the write points of this process under ``root``; SIGKILLs itself at ``kill_at``."""

    def __init__(self, root: Path, kill_at: int | None) -> None:
        self.root = str(root)
        self.kill_at = kill_at
        self.passed = 0

    def point(self) -> None:
        self.passed += 1
        if self.passed == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        writes = event == "open" and _writes(args[1], args[2])
        if (writes or event == "os.rename") and self._ours(args[0]):
            self.point()

    def _ours(self, path: object) -> bool:
        return isinstance(path, str | Path) and os.fspath(path).startswith(self.root)

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", lambda *_: self.point())
        event.listen(Engine, "commit", lambda *_: self.point())
        sys.addaudithook(self.audit)


def kill_at_statement(text: str, nth: int) -> None:
    """SIGKILL this process at the ``nth`` SQL statement that contains ``text``."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen = 0

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal seen
        if text in statement:
            seen += 1
            if seen == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "before_cursor_execute", before)


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR))


def main(argv: list[str]) -> int:
    """Run ``focusdesk ARGV`` in this process with the faults the environment asks for."""
    from focusdesk.cli import main as focusdesk_main

    env = os.environ
    if limit := env.get("FOCUSDESK_TEST_FSIZE"):
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
    if env.get("FOCUSDESK_TEST_KILL_AT") or env.get("FOCUSDESK_TEST_POINTS_FILE"):
        assert argv[0] == "--data-dir", "put --data-dir DIR first"
        kill_at = env.get("FOCUSDESK_TEST_KILL_AT")
        points = WritePoints(Path(argv[1]).resolve(), int(kill_at) if kill_at else None)
        points.install()
        if out := env.get("FOCUSDESK_TEST_POINTS_FILE"):
            atexit.register(lambda: Path(out).write_text(str(points.passed)))
    if at_file := env.get("FOCUSDESK_TEST_KILL_FILE"):
        folder, _, nth = at_file.rpartition(":")
        assert argv[0] == "--data-dir", "put --data-dir DIR first"
        points = WritePoints(Path(argv[1]).resolve() / folder, int(nth))
        sys.addaudithook(points.audit)
    if at_sql := env.get("FOCUSDESK_TEST_KILL_SQL"):
        text, _, nth = at_sql.rpartition(":")
        kill_at_statement(text, int(nth))
    encoder = None
    if env.get("FOCUSDESK_TEST_FAKE_ENCODER") == "1":
        from fakes import FakeEncoder

        encoder = FakeEncoder()
    return focusdesk_main(argv, encoder=encoder)  # type: ignore[arg-type]


def focusdesk(
    data_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    runner: Path = Path(__file__),
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``focusdesk --data-dir DATA_DIR ARGS`` through ``runner`` in a child process;
    with ``check``, it must succeed."""
    base = {
        **os.environ,
        "FOCUSDESK_DATA_DIR": "",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, str(runner), "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=600,
    )
    if check:
        assert proc.returncode == 0, f"focusdesk {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
