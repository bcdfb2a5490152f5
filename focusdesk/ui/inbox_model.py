"""The ranked inbox as a Qt table model, and the delegate that draws its score bars.

Rows are prepared off the UI thread (``prepare_inbox``: display strings, sort keys,
tooltips), so that showing a new ranking and ``data()`` are both cheap: ``data()``
is O(1). The model filters (status, source, best goal) and sorts by itself, over
plain lists: a QSortFilterProxyModel would call back into Python for every
comparison, which is far too slow for 100,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from focusdesk.records import GoalInfo, RankedItem
from focusdesk.triage import Vote

from .inbox_groups import NO_GOAL, GroupHeader, group_by_goal, group_seat, served_goals
from .marks import MARK_SIZE, GoalMarks, vote_icon, vote_text
from .row_flags import read_only_row_flags
from .style import muted_colour, source_icon

ScoreRole = Qt.ItemDataRole.UserRole + 1
"""The item's score as a float."""
ItemRole = Qt.ItemDataRole.UserRole + 2
"""The ``RankedItem`` itself."""
ItemIdRole = Qt.ItemDataRole.UserRole + 3
SortRole = Qt.ItemDataRole.UserRole + 4
"""A value that sorts the column naturally (scores and ages as numbers)."""
BarRole = Qt.ItemDataRole.UserRole + 5
"""Score as a fraction of the best score in the list (0..1), for the score bar."""
StatusRole = Qt.ItemDataRole.UserRole + 6

AnyIndex = QModelIndex | QPersistentModelIndex

STATUS_LABELS = {
    "new": "New",
    "read": "Read",
    "done": "Done",
    "snoozed": "Snoozed",
    "dismissed": "Dismissed",
}
INBOX_STATUSES = frozenset({"new", "read"})
"""What the inbox shows by default: what is still to be dealt with."""


class Column(IntEnum):
    TITLE = 0
    STORY = 1
    SOURCE = 2
    SCORE = 3
    GOAL = 4
    AGE = 5


HEADERS = {
    Column.TITLE: "Title",
    Column.STORY: "Story",
    Column.SOURCE: "Source",
    Column.SCORE: "Score",
    Column.GOAL: "Goal",
    Column.AGE: "Age",
}
HEADER_TIPS = {
    Column.SCORE: (
        "How much this item deserves your attention, given your goals. Sorted on it (the "
        "default), the list is the ranking: the top shared among your goals in proportion"
    ),
    Column.STORY: "How many items tell the same story (near duplicates shown as one)",
    Column.GOAL: "The goal this item matters to most",
}


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One prepared row: the item and everything the view asks for, computed once."""

    item: RankedItem
    display: tuple[str, ...]
    tooltip: tuple[str, ...]
    sort: tuple[Any, ...]
    bar: float
    status: str
    story: int
    served: tuple[int, ...] = ()
    """The goals whose relevance bar the item clears (a grouped header counts them)."""
    seat: int | None = None
    """The goal group its row goes under when the inbox is grouped (``group_seat``)."""


@dataclass
class PreparedInbox:
    """A ranking turned into rows (built in a worker thread, shown in O(n) list work)."""

    rows: list[InboxRow] = field(default_factory=list)
    position: dict[int, int] = field(default_factory=dict)
    """Item id → index in ``rows``."""
    high: list[RankedItem] | None = None
    """Its new high-attention items, when the worker worked them out (for the tray)."""
    votes: dict[int, Vote] | None = None
    """The votes that stand, when the worker read them (a mark on their rows)."""
    pinned: set[int] | None = None
    """The pinned items, when the worker read them (a mark on their rows)."""


@dataclass(frozen=True)
class InboxFilter:
    """Which rows the inbox shows: by status, source and best goal (None: any)."""

    statuses: frozenset[str] | None = INBOX_STATUSES
    source_id: int | None = None
    goal_id: int | None = None

    def accepts(self, row: InboxRow) -> bool:
        item = row.item
        return (
            (self.statuses is None or row.status in self.statuses)
            and (self.source_id is None or item.source_id == self.source_id)
            and (self.goal_id is None or item.goal_id == self.goal_id)
        )


def format_age(when: datetime | None, now: datetime) -> str:
    """A short age such as "5 min", "3 h", "2 d", "4 wk" or "Mar 2024"."""
    if when is None:
        return "—"
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "now"
    minutes = seconds / 60
    if minutes < 60:
        return f"{int(minutes)} min"
    hours = minutes / 60
    if hours < 24:
        return f"{int(hours)} h"
    days = hours / 24
    if days < 14:
        return f"{int(days)} d"
    if days < 60:
        return f"{int(days / 7)} wk"
    return when.astimezone().strftime("%b %Y")


def story_size(item: RankedItem) -> int:
    """How many items this row stands for (1 unless near duplicates were collapsed)."""
    size = getattr(item, "story_size", 1)
    return int(size) if isinstance(size, int) and size > 1 else 1


def thread_size(item: RankedItem) -> int:
    """How many messages of one conversation this row stands for (1: a single item)."""
    size = getattr(item, "thread_size", 1)
    return int(size) if isinstance(size, int) and size > 1 else 1


def thread_text(size: int) -> str:
    """What a conversation row says of itself ("" for a single item)."""
    return f"A conversation of {size} messages (its best match shown)" if size > 1 else ""


def _tooltip(item: RankedItem, story: int) -> str:
    lines = [item.title or "(untitled)"]
    if item.author:
        lines.append(f"From {item.author}")
    if thread_size(item) > 1:
        lines.append(thread_text(thread_size(item)))
    lines.append(f"Status: {STATUS_LABELS.get(item.status, item.status)}")
    if item.goal_title:
        lines.append(f"Best goal: {item.goal_title} (score {item.score:.2f})")
    if story > 1:
        lines.append(f"{story} items tell this story")
    if item.evidence:
        snippet = " ".join(item.evidence.split())
        lines.append(f"“{snippet[:200]}{'…' if len(snippet) > 200 else ''}”")
    return "\n".join(lines)


def make_row(item: RankedItem, now: datetime, best: float) -> InboxRow:
    """The prepared row of one item (pure Python: safe in a worker thread)."""
    title = item.title or "(untitled)"
    thread = thread_size(item)
    shown_title = f"{title}  ({thread})" if thread > 1 else title
    age = format_age(item.published_at, now)
    published = item.published_at.timestamp() if item.published_at else float("-inf")
    story = story_size(item)
    tip = _tooltip(item, story)
    source_tip = f"{item.source_name} ({item.source_kind})"
    story_text = str(story) if story > 1 else ""
    story_tip = f"{story} items tell this story" if story > 1 else "A story of its own"
    return InboxRow(
        item=item,
        display=(
            shown_title,
            story_text,
            item.source_name,
            f"{item.score:.2f}",
            item.goal_title or "—",
            age,
        ),
        tooltip=(tip, story_tip, source_tip, tip, item.goal_title or "No goal", age),
        sort=(
            title.casefold(),
            story,
            item.source_name.casefold(),
            item.score,
            (item.goal_title or "").casefold(),
            published,
        ),
        bar=max(0.0, min(1.0, item.score / best)) if best > 0 else 0.0,
        status=item.status,
        story=story,
        served=served_goals(item),
        seat=group_seat(item),
    )


def prepare_inbox(items: Iterable[RankedItem], now: datetime) -> PreparedInbox:
    """Rows for a ranking, best first, their ages as of ``now`` (call it in the worker that
    ranked)."""
    items = list(items)
    best = max((i.score for i in items), default=0.0)
    rows = [make_row(item, now, best) for item in items]
    return PreparedInbox(rows, {r.item.item_id: n for n, r in enumerate(rows)})


PIN_MARK = "📌 "
"""Before the title of a pinned item."""


AFTER_LEARNING = "after learning"
"""Why rows moved: a new learnt version re-ranked them."""
SINCE_STORED = "since the ranking shown at start"
"""Why rows moved: the fresh ranking replaced the stored one shown at start."""


def moved_mark(places: int) -> str:
    """The mark before a title that moved: '▲3 ' up three places, '▼1 ' down one, ''."""
    return f"▲{places} " if places > 0 else (f"▼{-places} " if places < 0 else "")


def moved_text(places: int, why: str = AFTER_LEARNING) -> str:
    where = "up" if places > 0 else "down"
    return f"Moved {where} {abs(places)} place{'s' if abs(places) != 1 else ''} {why}"


def moved_rows(before: dict[int, int], items: Iterable[RankedItem]) -> dict[int, int]:
    """Item id → places each item moved up (negative: down) from its row in ``before``
    (item id → row) to its row in ``items``; items new to the list or in place are left out."""
    return {
        item.item_id: before[item.item_id] - n
        for n, item in enumerate(items)
        if item.item_id in before and before[item.item_id] != n
    }


class InboxModel(QAbstractTableModel):
    """Ranked items, one per row, filtered and sorted in the model itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[InboxRow] = []
        self._position: dict[int, int] = {}
        self._visible: list[int] = []
        """Indices into ``_rows`` of the shown rows, in display order (grouped by goal:
        ``-(h + 1)`` is the header row of ``_headers[h]``)."""
        self._grouped = False
        self._headers: list[GroupHeader] = []
        self._seats: list[int | None] = []
        """Each row's goal (its seat), for grouping."""
        self._served: list[tuple[int, ...]] = []
        self._header_icons: dict[int | None, QIcon] = {}
        self._filter = InboxFilter()
        self._sort_column = Column.SCORE
        self._sort_order = Qt.SortOrder.DescendingOrder
        self._icons: dict[str, QIcon] = {}
        self._bold: QFont | None = None
        self._muted: QColor | None = None
        self.goals = GoalMarks()
        """Short names and colours of the goals, for the Goal column."""
        self._votes: dict[int, Vote] = {}
        self._vote_icons: dict[str, QIcon] = {}
        self._pinned: set[int] = set()
        """Pinned item ids (📌 before the title)."""
        self._moved: dict[int, int] = {}
        """Item id → places it moved up (negative: down) at the last re-rank that marks
        moves (learning, or the fresh ranking after the stored one); read: unmarked."""
        self._moved_why = AFTER_LEARNING

    # -- content ----------------------------------------------------------------------
    def set_items(self, items: list[RankedItem], now: datetime) -> None:
        """Replace every row (the list arrives already ranked)."""
        self.set_prepared(prepare_inbox(items, now))

    def set_prepared(self, prepared: PreparedInbox) -> None:
        """Show a prepared ranking (rows made by ``prepare_inbox``)."""
        self.beginResetModel()
        self._rows = prepared.rows
        self._position = prepared.position
        self._seats = [r.seat for r in self._rows]  # worked out in the worker
        self._served = [r.served for r in self._rows]
        self._visible = self._compute_visible()
        self.endResetModel()

    def clear(self) -> None:
        self.set_prepared(PreparedInbox())

    def set_moved(self, moved: dict[int, int], why: str = AFTER_LEARNING) -> None:
        """Mark rows that moved at a re-rank ({} clears); ``why`` ends their tooltip."""
        self._moved_why = why
        if moved == self._moved:
            return
        self._moved = dict(moved)
        if self._visible:
            self.dataChanged.emit(
                self.index(0, Column.TITLE), self.index(len(self._visible) - 1, Column.TITLE)
            )

    def moved(self, item_id: int) -> int:
        """Places the item moved at the last learnt re-rank (0: it did not, or none)."""
        return self._moved.get(item_id, 0)

    def items(self) -> list[RankedItem]:
        """The shown items, in display order."""
        return [self._rows[i].item for i in self._visible if i >= 0]

    def top_item_id(self) -> int | None:
        """The id of the first shown item (None: nothing shown)."""
        first = next((i for i in self._visible if i >= 0), None)
        return self._rows[first].item.item_id if first is not None else None

    def shown_count(self) -> int:
        """How many items are shown (group headers are not items)."""
        return len(self._visible) - len(self._headers)

    # -- grouped by goal ---------------------------------------------------------------
    @property
    def grouped(self) -> bool:
        """Whether rows are grouped by the goal they are shown for, under headers."""
        return self._grouped

    def set_grouped(self, grouped: bool) -> None:
        """Group the shown rows by goal (True) or show the ranking's mix (False)."""
        if grouped != self._grouped:
            self._grouped = grouped
            self._relayout()

    def header_at(self, row: int) -> GroupHeader | None:
        """The group header shown at ``row`` (None: an item's row, or no row)."""
        if 0 <= row < len(self._visible) and self._visible[row] < 0:
            return self._headers[-self._visible[row] - 1]
        return None

    def header_rows(self) -> list[int]:
        """The rows that are group headers, top to bottom."""
        return [n for n, i in enumerate(self._visible) if i < 0]

    def item_row(self, row: int, step: int = 1) -> int | None:
        """The nearest row at or after ``row`` (``step`` < 0: at or before) that shows an
        item, else the nearest one the other way (None: no item is shown)."""
        count = len(self._visible)
        if count == 0:
            return None
        row = max(0, min(count - 1, row))
        way = 1 if step >= 0 else -1
        for direction in (way, -way):
            n = row
            while 0 <= n < count:
                if self._visible[n] >= 0:
                    return n
                n += direction
        return None

    def all_items(self) -> list[RankedItem]:
        """Every ranked item, shown or filtered out, best first."""
        return [r.item for r in self._rows]

    def total_count(self) -> int:
        return len(self._rows)

    def item_at(self, row: int) -> RankedItem | None:
        if 0 <= row < len(self._visible) and self._visible[row] >= 0:
            return self._rows[self._visible[row]].item
        return None

    def find_item(self, item_id: int) -> RankedItem | None:
        """The ranked item with ``item_id``, shown or not."""
        pos = self._position.get(item_id)
        return self._rows[pos].item if pos is not None else None

    def row_of(self, item_id: int) -> int | None:
        """The shown row of ``item_id``, or None."""
        pos = self._position.get(item_id)
        if pos is None:
            return None
        try:
            return self._visible.index(pos)
        except ValueError:
            return None

    # -- goals and votes ---------------------------------------------------------------
    def set_goals(self, goals: list[GoalInfo]) -> None:
        """The goals' short names and colours (the Goal column shows them)."""
        self.goals.set_goals(goals)
        self._header_icons = {}
        self._column_changed(Column.GOAL)
        if self._grouped:
            self._column_changed(Column.TITLE)  # the headers' names and colours

    def set_votes(self, votes: dict[int, Vote]) -> None:
        """The votes that stand, by item id (a mark on their rows)."""
        self._votes = dict(votes)
        self._column_changed(Column.TITLE)

    def set_vote(self, item_id: int, vote: Vote | None) -> None:
        """One item's vote changed (None: it has none now)."""
        if vote is None:
            self._votes.pop(item_id, None)
        else:
            self._votes[item_id] = vote
        row = self.row_of(item_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def set_pinned_items(self, item_ids: set[int]) -> None:
        """The pinned items (a mark on their rows)."""
        self._pinned = set(item_ids)
        self._column_changed(Column.TITLE)

    def set_pinned(self, item_id: int, pinned: bool) -> None:
        """One item was pinned or unpinned."""
        if pinned:
            self._pinned.add(item_id)
        else:
            self._pinned.discard(item_id)
        row = self.row_of(item_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, Column.TITLE), self.index(row, Column.TITLE))

    def is_pinned(self, item_id: int) -> bool:
        return item_id in self._pinned

    def vote_of(self, item_id: int) -> Vote | None:
        return self._votes.get(item_id)

    def vote_text(self, item_id: int) -> str | None:
        """ "You voted + for goal X" for a voted item, else None."""
        vote = self._votes.get(item_id)
        return vote_text(vote, self.goals.names) if vote is not None else None

    def _column_changed(self, column: int) -> None:
        if self._visible:
            self.dataChanged.emit(self.index(0, column), self.index(len(self._visible) - 1, column))

    def status_of(self, item_id: int) -> str | None:
        pos = self._position.get(item_id)
        return self._rows[pos].status if pos is not None else None

    def set_status(self, item_id: int, status: str) -> None:
        """Change one item's status; it leaves (or joins) the shown rows as the filter says."""
        pos = self._position.get(item_id)
        if pos is None or self._rows[pos].status == status:
            return
        self._moved.pop(item_id, None)  # read (or dealt with): its move is no news any more
        old = self._rows[pos]
        item = replace(old.item, status=status)
        self._rows[pos] = replace(
            old,
            item=item,
            status=status,
            tooltip=(_tooltip(item, old.story), *old.tooltip[1:3], _tooltip(item, old.story))
            + old.tooltip[4:],
        )
        shown = self.row_of(item_id)
        accepted = self._filter.accepts(self._rows[pos])
        if self._grouped and (shown is None) == accepted:
            self._relayout()  # the group's header counts it, or no longer does
        elif shown is not None and not accepted:
            self.beginRemoveRows(QModelIndex(), shown, shown)
            del self._visible[shown]
            self.endRemoveRows()
        elif shown is None and accepted:
            self._relayout()
        elif shown is not None:
            self.dataChanged.emit(self.index(shown, 0), self.index(shown, len(Column) - 1))

    # -- filter and sort --------------------------------------------------------------
    @property
    def filter(self) -> InboxFilter:
        return self._filter

    def set_filter(self, flt: InboxFilter) -> None:
        """Show only the rows ``flt`` accepts (the selection stays where it still can)."""
        if flt == self._filter:
            return
        self._filter = flt
        self._relayout()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the shown rows by ``column`` (stable; score descending is the ranking)."""
        if not 0 <= column < len(Column):
            return
        self._sort_column = Column(column)
        self._sort_order = order
        self._relayout()

    def _compute_visible(self) -> list[int]:
        flt = self._filter
        rows = self._rows
        if flt == InboxFilter(statuses=None):
            visible = list(range(len(rows)))
        else:
            visible = [n for n, r in enumerate(rows) if flt.accepts(r)]
        col = int(self._sort_column)
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        if not (col == Column.SCORE and descending):  # else: the rows arrive in rank order
            visible.sort(key=lambda n: rows[n].sort[col], reverse=descending)
        self._headers = []
        if self._grouped:
            visible, self._headers = group_by_goal(visible, self._seats, self._served)
        return visible

    def _relayout(self) -> None:
        """Recompute the shown rows, keeping persistent indexes (the selection) on their items."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [
            self._rows[self._visible[p.row()]].item.item_id
            if 0 <= p.row() < len(self._visible) and self._visible[p.row()] >= 0
            else None
            for p in persistent
        ]
        self._visible = self._compute_visible()
        if persistent:
            where = {pos: n for n, pos in enumerate(self._visible)}
            new: list[QModelIndex] = []
            for p, item_id in zip(persistent, ids, strict=True):
                pos = self._position.get(item_id) if item_id is not None else None
                row = where.get(pos) if pos is not None else None
                new.append(self.index(row, p.column()) if row is not None else QModelIndex())
            self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()

    # -- QAbstractTableModel ----------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(Column)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        at = self._visible[index.row()]
        if at < 0:
            return self._header_data(self._headers[-at - 1], index.column(), role)
        row = self._rows[at]
        col = index.column()
        if col == Column.GOAL and row.item.goal_id in self.goals.names:
            goal_id = row.item.goal_id
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return self.goals.names[goal_id]
            if role == Qt.ItemDataRole.DecorationRole:
                return self.goals.icon(goal_id)
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.goals.titles.get(goal_id, row.tooltip[col])
        if col == Column.TITLE and row.item.item_id in self._votes:
            vote = self._votes[row.item.item_id]
            if role == Qt.ItemDataRole.DecorationRole:
                return self._vote_icon(vote.signal)
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{row.tooltip[col]}\n{vote_text(vote, self.goals.names)}"
            if role == Qt.ItemDataRole.AccessibleTextRole:
                status = STATUS_LABELS.get(row.status, row.status)
                return f"{row.display[0]}, {status}, {vote_text(vote, self.goals.names)}"
        if role == Qt.ItemDataRole.DisplayRole:
            if col == Column.TITLE and (self._moved or self._pinned):
                item_id = row.item.item_id
                pin = PIN_MARK if item_id in self._pinned else ""
                return pin + moved_mark(self._moved.get(item_id, 0)) + row.display[col]
            return row.display[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == Column.TITLE and row.item.item_id in self._pinned:
                return f"{row.tooltip[col]}\nPinned (P unpins it)"
            if col == Column.TITLE and self._moved.get(row.item.item_id):
                moved = moved_text(self._moved[row.item.item_id], self._moved_why)
                return f"{row.tooltip[col]}\n{moved}"
            return row.tooltip[col]
        if role == SortRole:
            return row.sort[col]
        if role == ScoreRole:
            return row.item.score
        if role == ItemRole:
            return row.item
        if role == ItemIdRole:
            return row.item.item_id
        if role == BarRole:
            return row.bar
        if role == StatusRole:
            return row.status
        if role == Qt.ItemDataRole.DecorationRole and col == Column.SOURCE:
            return self._icon(row.item.source_kind)
        if role == Qt.ItemDataRole.FontRole and col == Column.TITLE and row.status == "new":
            return self._bold_font()
        if role == Qt.ItemDataRole.ForegroundRole and row.status not in INBOX_STATUSES:
            return self._muted_colour()
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            Column.SCORE,
            Column.AGE,
            Column.STORY,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if col == Column.TITLE:
                return f"{row.display[0]}, {STATUS_LABELS.get(row.status, row.status)}"
            return row.display[col] or row.tooltip[col]
        return None

    def _header_data(self, header: GroupHeader, col: int, role: int) -> Any:
        """A group header: the goal's colour dot, short name and counts, on its tint."""
        goal_id = header.goal_id
        name = self.goals.names.get(goal_id, NO_GOAL) if goal_id is not None else NO_GOAL
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return header.text(name) if col == Column.TITLE else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return header.tooltip(self.goals.titles.get(goal_id, name) if goal_id else name)
        if role == Qt.ItemDataRole.DecorationRole and col == Column.TITLE:
            return self._header_icon(goal_id)
        if role == Qt.ItemDataRole.FontRole:
            return self._bold_font()
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = self.goals.colour(goal_id) if goal_id is not None else None
            tint = QColor(colour if colour is not None else self._muted_colour())
            tint.setAlphaF(0.3)
            return tint
        if role == Qt.ItemDataRole.ForegroundRole:
            return QApplication.palette().color(QPalette.ColorRole.Text)
        return None

    def _header_icon(self, goal_id: int | None) -> QIcon | None:
        """The goal's dot, in its colour although a header row is not enabled (a disabled
        icon would be drawn grey)."""
        dot = self.goals.icon(goal_id)
        if dot is None:
            return None
        icon = self._header_icons.get(goal_id)
        if icon is None:
            pixmap = dot.pixmap(MARK_SIZE, MARK_SIZE)
            icon = QIcon(pixmap)
            icon.addPixmap(pixmap, QIcon.Mode.Disabled)
            self._header_icons[goal_id] = icon
        return icon

    def _vote_icon(self, signal: str) -> QIcon:
        icon = self._vote_icons.get(signal)
        if icon is None:
            icon = self._vote_icons[signal] = vote_icon(signal)
        return icon

    def _icon(self, kind: str) -> QIcon:
        icon = self._icons.get(kind)
        if icon is None:
            icon = self._icons[kind] = source_icon(kind)
        return icon

    def _bold_font(self) -> QFont:
        if self._bold is None:
            self._bold = QFont(QApplication.font())
            self._bold.setBold(True)
        return self._bold

    def _muted_colour(self) -> QColor:
        if self._muted is None:
            self._muted = muted_colour(QApplication.palette())
        return self._muted

    def palette_did_change(self) -> None:
        """Forget the cached font and colour (the theme changed)."""
        self._bold = None
        self._muted = None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[Column(section)]
            if role == Qt.ItemDataRole.ToolTipRole:
                return HEADER_TIPS.get(Column(section))
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if index.isValid() and self._visible[index.row()] < 0:
            return Qt.ItemFlag.NoItemFlags  # a group header: the keys and clicks pass it by
        return read_only_row_flags(index)


class ScoreBarDelegate(QStyledItemDelegate):
    """Paints the score as a small bar plus its number, legible in light and dark themes."""

    BAR_WIDTH = 56
    MARGIN = 6

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        fraction = index.data(BarRole) or 0.0
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text_colour = palette.color(text_role)
        fill = QColor(palette.color(QPalette.ColorRole.Highlight))
        if selected:
            fill = QColor(text_colour)
        track = QColor(text_colour)
        track.setAlphaF(0.15)

        rect = opt.rect.adjusted(self.MARGIN, 0, -self.MARGIN, 0)
        bar_h = max(4.0, min(8.0, rect.height() / 3))
        bar_w = float(min(self.BAR_WIDTH, max(0, rect.width() - 40)))
        y = rect.center().y() - bar_h / 2 + 1
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        if bar_w > 0:
            painter.setBrush(track)
            painter.drawRoundedRect(QRectF(rect.left(), y, bar_w, bar_h), bar_h / 2, bar_h / 2)
            if fraction > 0:
                painter.setBrush(fill)
                painter.drawRoundedRect(
                    QRectF(rect.left(), y, max(bar_h, bar_w * fraction), bar_h),
                    bar_h / 2,
                    bar_h / 2,
                )
        painter.setPen(text_colour)
        painter.setFont(opt.font)
        text_rect = rect.adjusted(int(bar_w) + self.MARGIN, 0, 0, 0)
        painter.drawText(
            text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:  # noqa: N802
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), self.BAR_WIDTH + 3 * self.MARGIN + 36), hint.height())
