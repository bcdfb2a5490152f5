"""The window's actions (text, shortcut, tooltip, icon, accessible name) in one table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QStyle, QToolBar, QWidget

SP = QStyle.StandardPixmap
Keys = QKeySequence | QKeySequence.StandardKey | str


@dataclass(frozen=True)
class ActionSpec:
    """What an action shows and which keys trigger it."""

    name: str
    text: str
    tip: str
    keys: tuple[Keys, ...] = ()
    icon: QStyle.StandardPixmap | None = None

    @property
    def plain_text(self) -> str:
        """The text without mnemonic or ellipsis, for accessible names."""
        return self.text.replace("&", "").rstrip("…")


SYNC = ActionSpec(
    "sync",
    "&Sync",
    "Read every source again and re-rank",
    ("Ctrl+R", QKeySequence.StandardKey.Refresh),
    SP.SP_BrowserReload,
)
CANCEL = ActionSpec(
    "cancel", "&Cancel", "Stop the sync or ranking that is running", ("Esc",), SP.SP_BrowserStop
)
ADD_NOTES = ActionSpec(
    "add_notes",
    "Add &notes folder…",
    "Add a folder of Markdown or text notes",
    ("Ctrl+Shift+N",),
    SP.SP_DirIcon,
)
ADD_MBOX = ActionSpec(
    "add_mbox",
    "Add &mbox file…",
    "Add a local mailbox file (mbox)",
    ("Ctrl+Shift+M",),
    SP.SP_FileIcon,
)
NEW_GOAL = ActionSpec("new_goal", "New &goal", "Type a new goal in the Goals panel", ("Ctrl+G",))
QUIT = ActionSpec("quit", "&Quit", "Close FocusDesk", ("Ctrl+Q",))


def make_action(parent: QWidget, spec: ActionSpec, slot: Callable[[], object]) -> QAction:
    """An action for ``spec`` that calls ``slot``, added to ``parent`` so its keys work."""
    action = QAction(spec.text, parent)
    action.setObjectName(spec.name)
    shortcuts = [QKeySequence(k) for k in spec.keys]
    tip = spec.tip
    if shortcuts:
        action.setShortcuts(shortcuts)
        tip += f" ({shortcuts[0].toString(QKeySequence.SequenceFormat.NativeText)})"
    action.setToolTip(tip)
    action.setStatusTip(spec.tip)
    if spec.icon is not None:
        action.setIcon(parent.style().standardIcon(spec.icon))
    action.triggered.connect(lambda _checked=False: slot())
    parent.addAction(action)
    return action


def make_toolbar(window: QMainWindow, groups: Sequence[Sequence[QAction]]) -> QToolBar:
    """The main tool bar: text beside icons, groups split by separators."""
    bar = QToolBar("Main toolbar", window)
    bar.setObjectName("main_toolbar")
    bar.setAccessibleName("Main toolbar")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for n, group in enumerate(groups):
        if n:
            bar.addSeparator()
        bar.addActions(list(group))
        for action in group:
            button = bar.widgetForAction(action)
            if button is not None:
                button.setAccessibleName(action.text().replace("&", "").rstrip("…"))
    window.addToolBar(bar)
    return bar
