"""Fixtures for the pytest-qt tests of the desktop UI (offscreen, fake encoder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gui_helpers import NOTES, OFFSCREEN_NOISE, BlockingEncoder, activate  # noqa: E402
from ui_thread_sql import ALLOWED_FIRED, UiThreadSql  # noqa: E402

from focusdesk.app import FocusDesk  # noqa: E402
from focusdesk.paths import resolve_paths  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Qt warnings fail the GUI tests (the offscreen platform's size-hint note aside)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            if item.get_closest_marker("qt_log_level_fail") is None:
                item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def no_sql_on_the_ui_thread() -> Iterator[UiThreadSql]:
    """Fails the test when UI code ran SQL on the UI thread (see ``ui_thread_sql``); set up
    before and torn down after the windows, so their close handlers are covered too."""
    guard = UiThreadSql()
    with guard.watching():
        yield guard
    ALLOWED_FIRED.update(hit.key for hit in guard.allowed_hits)
    report = guard.report()
    if report:
        pytest.fail(report, pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The allowed UI-thread SQL sites that fired (each entry goes when its branch lands)."""
    if ALLOWED_FIRED:
        terminalreporter.section("SQL on the UI thread at allowed sites")
        for (file, function), count in sorted(ALLOWED_FIRED.items()):
            terminalreporter.write_line(f"{file} {function}: {count} statement(s)")


@pytest.fixture
def profile(fd: FocusDesk) -> FocusDesk:
    """An empty, freshly migrated profile in tmp_path/profile with the fake encoder."""
    return fd


@pytest.fixture
def blocking_encoder() -> Iterator[BlockingEncoder]:
    encoder = BlockingEncoder()
    yield encoder
    encoder.release.set()


@pytest.fixture
def blocking_profile(data_dir: Path, blocking_encoder: BlockingEncoder) -> Iterator[FocusDesk]:
    desk = FocusDesk(resolve_paths(data_dir), encoder=blocking_encoder)  # type: ignore[arg-type]
    yield desk
    blocking_encoder.release.set()
    desk.close()


@pytest.fixture
def notes_dir(tmp_path: Path) -> Path:
    """Three small Markdown notes: firmware, hiring and a soup recipe."""
    root = tmp_path / "notes"
    root.mkdir()
    for name, text in NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def bug_reports(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Bugs the UI would have shown in its error dialog (the dialog itself is not shown)."""
    seen: list[BaseException] = []

    def record(_parent: Any, exc: BaseException, tb: str | None = None) -> None:
        seen.append(exc)

    monkeypatch.setattr("focusdesk.ui.errors.show_error", record)
    return seen


@pytest.fixture
def make_window(qtbot: Any, bug_reports: list[BaseException]) -> Iterator[Any]:
    """Builds MainWindows; each is closed (workers stopped) before its profile closes."""
    from focusdesk.ui.main_window import MainWindow

    windows: list[MainWindow] = []

    def make(desk: FocusDesk, *, show: bool = True) -> MainWindow:
        window = MainWindow(desk)
        qtbot.addWidget(window)
        windows.append(window)
        if show:
            window.show()
            qtbot.waitExposed(window)
            activate(qtbot, window)
        return window

    yield make
    for window in windows:
        window.close()
    assert not bug_reports, f"the UI reported bugs: {bug_reports!r}"
