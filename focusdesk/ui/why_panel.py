"""The "Why?" panel: why an item ranks where it does.

The best goal and the facet of it that matched, how the score adds up (relevance
plus each prior: recency, source, sender, repetition), the story it stands for, the
relevance to every goal as bars, its calibrated standing for the goal it is shown
for in words ("top 2 % for this goal"), and the evidence: the three passages the goal
attended to most, with their weights (a click scrolls the reader there), and the
sentence that matches the goal best. Fields the ranker does not provide are left out.
Last, what ranks at all: the learning status in words
(``LearningStatus.lines()``, the same text as the status bar's tooltip and
``scorer status``).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from focusdesk.rank.standing import item_standing
from focusdesk.records import RankedItem

from .inbox_model import story_size
from .style import MutedLabel, heading

if TYPE_CHECKING:
    from focusdesk.rank.learning_status import LearningStatus
    from focusdesk.rank.passage_weights import ItemEvidence

FACET_CHARS = 120
TOP_PASSAGES = 3
EXCERPT_CHARS = 140
PRIOR_NAMES = {
    "recency": "Recency",
    "source": "Source",
    "sender": "Sender",
    "redundancy": "Repeats a higher item",
    "duplicate": "Duplicate",
    "feedback": "Your votes",
    "learned": "Learned from you",
}


def prior_label(name: str) -> str:
    """A prior's name as a person reads it ("recency" → "Recency")."""
    return PRIOR_NAMES.get(name, name.replace("_", " ").capitalize())


def item_priors(item: RankedItem) -> dict[str, float]:
    """The item's prior contributions (name → signed score), when the ranker gives them."""
    priors = getattr(item, "priors", None)
    if not isinstance(priors, dict):
        return {}
    return {str(k): float(v) for k, v in priors.items() if isinstance(v, int | float)}


class ValueBar(QWidget):
    """A thin horizontal bar for a value in 0..1, drawn in the palette's colours."""

    def __init__(self, value: float, accessible: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = max(0.0, min(1.0, value))
        self.setAccessibleName(accessible)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(80, max(8, self.fontMetrics().height() // 2))

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        rect = self.rect()
        h = min(rect.height(), 8)
        y = rect.center().y() - h / 2
        track = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        track.setAlphaF(0.15)
        painter.setBrush(track)
        painter.drawRoundedRect(rect.x(), int(y), rect.width(), h, h / 2, h / 2)
        if self.value > 0:
            painter.setBrush(self.palette().color(QPalette.ColorRole.Highlight))
            width = max(h, int(rect.width() * self.value))
            painter.drawRoundedRect(rect.x(), int(y), width, h, h / 2, h / 2)
        painter.end()


class WhyPanel(QScrollArea):
    """Explains the selected item's rank; rebuilt for every item (a few rows)."""

    passage_activated = Signal(int)
    """A passage of the list was clicked: its index in ``ItemEvidence.passages``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Why this item")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(220)
        self.item: RankedItem | None = None
        self.vote_label: QLabel | None = None
        """ "You voted + for goal X" under the best goal, while the item has a vote."""
        self.learning: LearningStatus | None = None
        """Which scorer ranks and what it learnt; shown under every item."""
        self.learning_label: QLabel | None = None
        self.weights: ItemEvidence | None = None
        """The passage weights shown (None: still being weighed, or no goal)."""
        self.passage_labels: list[QLabel] = []
        self._evidence_box: QVBoxLayout | None = None
        self._weights_error: str | None = None
        self._content = QWidget()
        self._layout = QVBoxLayout(self._content)
        self._layout.setContentsMargins(10, 10, 10, 10)
        self.setWidget(self._content)
        self.show_item(None, {})

    def text(self) -> str:
        """Everything the panel says, one line per label (for tests and screen readers)."""
        return "\n".join(
            label.text() for label in self._content.findChildren(QLabel) if label.text()
        )

    def show_item(
        self,
        item: RankedItem | None,
        goal_titles: dict[int, str],
    ) -> None:
        """Explain ``item``; ``goal_titles`` names its goals."""
        w = self.weights
        if w is not None and (
            item is None or (w.item_id, w.goal_id) != (item.item_id, item.goal_id)
        ):
            self.weights = None
        self._weights_error = None
        self.item = item
        self._clear()
        layout = self._layout
        layout.addWidget(heading(QLabel("Why this item?"), 1.1))
        if item is None:
            hint = MutedLabel("Select an item to see why it ranks where it does.")
            hint.setWordWrap(True)
            layout.addWidget(hint)
            self._add_learning()
            layout.addStretch(1)
            return
        best = QLabel(f"Best goal: <b>{_esc(item.goal_title or 'none')}</b>")
        best.setTextFormat(Qt.TextFormat.RichText)
        best.setWordWrap(True)
        layout.addWidget(best)
        standing = item_standing(item)
        if standing:
            label = QLabel(standing[0].upper() + standing[1:])
            label.setObjectName("why_standing")
            label.setWordWrap(True)
            layout.addWidget(label)
        self.vote_label = QLabel("")
        self.vote_label.setObjectName("why_vote")
        self.vote_label.setWordWrap(True)
        self.vote_label.hide()
        layout.addWidget(self.vote_label)
        facet = getattr(item, "matched_facet", None)
        if isinstance(facet, str) and facet and facet != item.goal_title:
            matched = MutedLabel(f"Matched: “{_short(facet, FACET_CHARS)}”")
            matched.setWordWrap(True)
            matched.setToolTip(facet)
            layout.addWidget(matched)

        if item.evidence.strip() or item.goal_id is not None:
            layout.addSpacing(4)
            layout.addWidget(heading(QLabel("Evidence")))
            self._evidence_box = QVBoxLayout()
            self._evidence_box.setSpacing(2)
            layout.addLayout(self._evidence_box)
            self._fill_evidence()

        # How the score adds up: relevance plus each prior.
        layout.addSpacing(4)
        layout.addWidget(heading(QLabel("Score")))
        grid = QGridLayout()
        grid.setVerticalSpacing(2)
        priors = item_priors(item)
        relevance = getattr(item, "relevance", None)
        rows: list[tuple[str, str]] = []
        if isinstance(relevance, int | float) and priors:
            rows.append(("Relevance (goals weighted)", f"{relevance:.3f}"))
        for prior, amount in sorted(priors.items(), key=lambda kv: -abs(kv[1])):
            amount = amount if abs(amount) >= 0.0005 else 0.0  # no "-0.000"
            rows.append((prior_label(prior), f"{amount:+.3f}"))
        rows.append(("Score", f"{item.score:.3f}"))
        for row, (what, text) in enumerate(rows):
            left, right = QLabel(what), QLabel(text)
            left.setWordWrap(True)
            right.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if row == len(rows) - 1:
                heading(left)
                heading(right)
            grid.addWidget(left, row, 0)
            grid.addWidget(right, row, 1)
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)

        story = story_size(item)
        if story > 1:
            layout.addSpacing(4)
            others = getattr(item, "story_titles", ())
            text = f"Story: {story} items say much the same; shown as one."
            if others:
                text += " Also: " + "; ".join(f"“{_short(t, 60)}”" for t in others[:3])
            label = QLabel(text)
            label.setWordWrap(True)
            layout.addWidget(label)

        if item.goal_scores:
            layout.addSpacing(4)
            layout.addWidget(heading(QLabel("Relevance to each goal")))
            grid = QGridLayout()
            grid.setHorizontalSpacing(8)
            grid.setVerticalSpacing(1)
            top = max(max(item.goal_scores.values()), 1e-9)
            ranked = sorted(item.goal_scores.items(), key=lambda kv: -kv[1])
            for row, (goal_id, value) in enumerate(ranked):
                title = goal_titles.get(goal_id, f"Goal {goal_id}")
                goal_label = QLabel(title)
                goal_label.setWordWrap(True)
                goal_label.setToolTip(title)
                number = QLabel(f"{value:.2f}")
                number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                bar = ValueBar(max(0.0, value) / top, f"Relevance to {title}: {value:.2f}")
                grid.addWidget(goal_label, 2 * row, 0, 1, 2)
                grid.addWidget(bar, 2 * row + 1, 0)
                grid.addWidget(number, 2 * row + 1, 1)
            grid.setColumnStretch(0, 1)
            layout.addLayout(grid)

        self._add_learning()
        layout.addStretch(1)

    def set_weights(self, weights: ItemEvidence) -> bool:
        """Show the passages the goal attended to most; False when not for the item shown."""
        item = self.item
        if item is None or weights.item_id != item.item_id or weights.goal_id != item.goal_id:
            return False
        if weights == self.weights and self.passage_labels:
            return True  # already listed
        self.weights = weights
        self._fill_evidence()
        return True

    def set_weights_error(self, item_id: int, message: str) -> None:
        """The passages of ``item_id`` could not be weighed: say so instead of "Weighing…"."""
        item = self.item
        if item is None or item.item_id != item_id or self._evidence_box is None:
            return
        self._weights_error = message
        self._fill_evidence()

    def _fill_evidence(self) -> None:
        box, item = self._evidence_box, self.item
        if box is None or item is None:
            return
        _clear_layout(box)
        self.passage_labels = []
        weights = self.weights
        if weights is None or not weights.passages:
            if item.evidence.strip():
                quote = MutedLabel(f"“{_short(' '.join(item.evidence.split()), 280)}”")
                quote.setWordWrap(True)
                quote.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                box.addWidget(quote)
            if weights is None and item.goal_id is not None:
                error = self._weights_error
                note = MutedLabel(
                    f"The passages could not be weighed: {error}"
                    if error
                    else "Weighing each passage…"
                )
                note.setWordWrap(True)
                box.addWidget(note)
            return
        n = len(weights.passages)
        box.addWidget(
            MutedLabel(
                f"Top passages of {n}, by this goal's attention:"
                if n > 1
                else "One passage: the goal's attention is all on it."
            )
        )
        for p in weights.top(TOP_PASSAGES) if n > 1 else []:
            index = weights.passages.index(p)
            share = f"{100 * p.weight:.0f} %"
            excerpt = _short(p.text, EXCERPT_CHARS) or "(the title)"
            label = QLabel(f"<a href='passage:{index}'>{share}</a> · “{_esc(excerpt)}”")
            label.setObjectName(f"why_passage_{index}")
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setToolTip("Show this passage in the reader")
            label.setAccessibleName(f"Passage {index + 1}: {share} of the goal's attention")
            label.linkActivated.connect(lambda _href, i=index: self.passage_activated.emit(i))
            box.addWidget(label)
            box.addWidget(ValueBar(p.weight, f"Weight of passage {index + 1}: {share}"))
            self.passage_labels.append(label)
        if weights.sentence is not None:
            sentence = QLabel(
                f"Best sentence: <b>“{_esc(_short(weights.sentence.text, 2 * EXCERPT_CHARS))}”</b>"
            )
            sentence.setObjectName("why_sentence")
            sentence.setTextFormat(Qt.TextFormat.RichText)
            sentence.setWordWrap(True)
            box.addWidget(sentence)

    def set_learning(self, status: LearningStatus | None) -> None:
        """Say which scorer ranks, on how many signals, and what learning changed."""
        self.learning = status
        if self.learning_label is not None:
            self._fill_learning(self.learning_label)

    def _add_learning(self) -> None:
        self._layout.addSpacing(4)
        self._layout.addWidget(heading(QLabel("Learning")))
        label = MutedLabel("")
        label.setObjectName("why_learning")
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        self.learning_label = label
        self._fill_learning(label)
        self._layout.addWidget(label)

    def _fill_learning(self, label: QLabel) -> None:
        status = self.learning
        label.setText(
            "\n".join(line.strip() for line in status.lines())
            if status is not None
            else "Reading what was learnt…"
        )

    def set_vote(self, text: str | None) -> None:
        """Say how the user voted on the item shown (None: no vote stands)."""
        label = self.vote_label
        if label is None:
            return
        label.setText(f"<b>{_esc(text)}</b> (U undoes it)" if text else "")
        label.setVisible(bool(text))

    def _clear(self) -> None:
        self.vote_label = None
        self.learning_label = None
        self._evidence_box = None
        self.passage_labels = []
        _clear_layout(self._layout)


def _clear_layout(layout: object) -> None:
    while True:
        child = layout.takeAt(0)  # type: ignore[attr-defined]
        if child is None:
            return
        widget = child.widget()
        if widget is not None:
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()
        elif child.layout() is not None:
            _clear_layout(child.layout())
            child.layout().deleteLater()


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
