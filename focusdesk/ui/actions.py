"""The window's actions (text, keys, tooltip, icon, help group) in one table."""

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
    """What an action shows, which keys trigger it and where it is listed in the help."""

    name: str
    text: str
    tip: str
    keys: tuple[Keys, ...] = ()
    icon: QStyle.StandardPixmap | None = None
    group: str = "FocusDesk"
    """The heading it is listed under in the keyboard help."""
    help_keys: tuple[str, ...] = ()
    """Keys handled by a view rather than the action (Enter), shown in the help too."""
    checkable: bool = False

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
    group="FocusDesk",
)
CANCEL = ActionSpec(
    "cancel",
    "&Cancel",
    "Stop the sync or ranking that is running",
    ("Esc",),
    SP.SP_BrowserStop,
    group="FocusDesk",
)
ADD_SOURCE = ActionSpec(
    "add_source",
    "&Add source…",
    "Add a notes folder, a mailbox, a feed or an IMAP account",
    ("Ctrl+Shift+A",),
    SP.SP_FileDialogNewFolder,
    group="Sources and goals",
)
ADD_NOTES = ActionSpec(
    "add_notes",
    "Add &notes folder…",
    "Add a folder of Markdown or text notes",
    ("Ctrl+Shift+N",),
    SP.SP_DirIcon,
    group="Sources and goals",
)
ADD_MBOX = ActionSpec(
    "add_mbox",
    "Add &mbox file…",
    "Add a local mailbox file (mbox)",
    ("Ctrl+Shift+M",),
    SP.SP_FileIcon,
    group="Sources and goals",
)
MANAGE_SOURCES = ActionSpec(
    "manage_sources",
    "S&ources…",
    "See each source's status, sync it, switch it off or remove it",
    ("Ctrl+Shift+S",),
    SP.SP_FileDialogDetailedView,
    group="Sources and goals",
)
NEW_GOAL = ActionSpec(
    "new_goal",
    "New &goal",
    "Type a new goal in the Goals panel",
    ("Ctrl+G",),
    group="Sources and goals",
)
SETTINGS = ActionSpec(
    "settings",
    "Se&ttings…",
    "Model, device, sync intervals, focus blocks, retention and theme",
    ("Ctrl+,",),
    group="FocusDesk",
)
QUIT = ActionSpec("quit", "&Quit", "Close FocusDesk", ("Ctrl+Q",), group="FocusDesk")
SEARCH = ActionSpec(
    "search",
    "&Search",
    "Search every item by keywords and meaning",
    ("/", "Ctrl+F"),
    SP.SP_FileDialogContentsView,
    group="Search",
)
NEXT_ITEM = ActionSpec(
    "next_item", "&Next item", "Select the next item", ("J",), group="Inbox", help_keys=("↓",)
)
PREVIOUS_ITEM = ActionSpec(
    "previous_item",
    "&Previous item",
    "Select the previous item",
    ("K",),
    group="Inbox",
    help_keys=("↑",),
)
OPEN_ITEM = ActionSpec(
    "open_item",
    "&Open",
    "Read the selected item (move the focus to the reader)",
    group="Inbox",
    help_keys=("Enter",),
)
DONE = ActionSpec("done", "Mark &done", "Mark the item done", ("E",), group="Item")
DISMISS = ActionSpec(
    "dismiss", "&Dismiss", "Not worth your attention: hide it and learn", ("D",), group="Item"
)
SNOOZE = ActionSpec(
    "snooze",
    "S&nooze…",
    "Hide the item until later today, tomorrow, next week or a date",
    ("S",),
    group="Item",
)
VOTE_UP = ActionSpec(
    "vote_up",
    "Vote &up",
    "More like this (for the filtered goal, if any)",
    ("+", "="),
    group="Item",
)
VOTE_DOWN = ActionSpec(
    "vote_down",
    "Vote do&wn",
    "Less like this (for the filtered goal, if any)",
    ("-",),
    group="Item",
)
PIN = ActionSpec(
    "pin",
    "P&in or unpin",
    "Keep the item at hand (and learn that it matters); again to unpin it",
    ("P",),
    group="Item",
)
OPEN_ORIGINAL = ActionSpec(
    "open_original",
    "Open o&riginal",
    "Open the item where it lives: mail client, browser or editor",
    ("O",),
    group="Item",
)
UNDO = ActionSpec("undo", "&Undo", "Take back the last action", ("U", "Ctrl+Z"), group="Item")
WHY = ActionSpec(
    "why",
    "&Why?",
    "Show why the item ranks where it does: goals, relevance and priors",
    ("W",),
    group="Item",
    checkable=True,
)
TOGGLE_FORMAT = ActionSpec(
    "toggle_format",
    "Formatted or &plain text",
    "Show the item formatted (its HTML, the rendered note) or as plain text",
    ("V",),
    group="Item",
)
HELP = ActionSpec(
    "shortcuts",
    "&Keyboard shortcuts",
    "List every keyboard shortcut",
    ("?", "F1"),
    group="FocusDesk",
)

ALL_SPECS = (
    NEXT_ITEM,
    PREVIOUS_ITEM,
    OPEN_ITEM,
    DONE,
    DISMISS,
    SNOOZE,
    VOTE_UP,
    VOTE_DOWN,
    PIN,
    OPEN_ORIGINAL,
    UNDO,
    WHY,
    TOGGLE_FORMAT,
    SEARCH,
    SYNC,
    CANCEL,
    ADD_SOURCE,
    ADD_NOTES,
    ADD_MBOX,
    MANAGE_SOURCES,
    NEW_GOAL,
    SETTINGS,
    HELP,
    QUIT,
)
"""Every action, in the order the keyboard help lists them."""


def key_text(spec: ActionSpec) -> list[str]:
    """The keys of ``spec`` as a person reads them ("Ctrl+R", "?", "Enter")."""
    keys = [
        QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText)
        for k in spec.keys
        if not isinstance(k, QKeySequence.StandardKey)
    ]
    # Single letters are typed in lower case: show them so.
    return [k.lower() if len(k) == 1 else k for k in keys if k] + list(spec.help_keys)


def make_action(
    parent: QWidget,
    spec: ActionSpec,
    slot: Callable[[], object],
    *,
    scope: QWidget | None = None,
) -> QAction:
    """An action for ``spec`` that calls ``slot``.

    Its keys work anywhere in ``parent``'s window, or, with ``scope``, only while the
    focus is inside ``scope`` (the inbox's single-letter keys must not fire while the
    goals table has the focus).
    """
    action = QAction(spec.text, parent)
    action.setObjectName(spec.name)
    shortcuts = [QKeySequence(k) for k in spec.keys]
    tip = spec.tip
    if shortcuts:
        action.setShortcuts(shortcuts)
        tip += f" ({shortcuts[0].toString(QKeySequence.SequenceFormat.NativeText)})"
    action.setToolTip(tip)
    action.setStatusTip(spec.tip)
    action.setCheckable(spec.checkable)
    if spec.icon is not None:
        action.setIcon(parent.style().standardIcon(spec.icon))
    action.triggered.connect(lambda _checked=False: slot())
    if scope is not None:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        scope.addAction(action)
    else:
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
