"""Plain records that the core hands to the CLI and the UI (no ORM objects leak out)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SourceInfo:
    """A source as shown in `sources list` and the sources panel."""

    id: int
    kind: str
    name: str
    uri: str
    enabled: bool
    item_count: int
    last_sync_at: datetime | None
    last_error: str | None
    failed: int = 0
    """Items the syncs could not read or save (each skipped; the others are kept)."""
    failures: tuple[tuple[str, str], ...] = ()
    """``(item, reason)`` of the failed items (the last 100)."""


SHORT_NAME_CHARS = 24
"""A goal's short name is at most this long (cut at a word, with an ellipsis)."""
_CLAUSE_END = re.compile(r"\s*(?:[,;:.!?(\[]|\s[-–—]\s)")


def goal_short_name(title: str, name: str | None = None, limit: int = SHORT_NAME_CHARS) -> str:
    """A goal's short name: ``name`` when set, else the first clause of ``title``.

    "Ship the v2 firmware, with the low power mode" gives "Ship the v2 firmware"; a
    clause longer than ``limit`` is cut at a word boundary with an ellipsis.
    """
    if name and name.strip():
        return " ".join(name.split())
    text = " ".join(title.split())
    first = _CLAUSE_END.split(text, maxsplit=1)[0].strip() or text
    if len(first) <= limit:
        return first
    cut = first[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–—") + "…"


@dataclass(frozen=True)
class GoalInfo:
    """A goal as shown in `goals list` and the goals panel."""

    id: int
    title: str
    description: str
    weight: float
    active: bool
    name: str | None = None
    """The short name the user set (None: ``short_name`` is the title's first clause)."""
    colour: str | None = None

    @property
    def short_name(self) -> str:
        """What a narrow column shows: the user's name for it, or the first clause."""
        return goal_short_name(self.title, self.name)

    learning_restarted: bool = False
    """Set by an edit that changed the goal so much that its own learning starts afresh."""


@dataclass
class SyncReport:
    """What one source's sync did."""

    source_id: int
    source_name: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    failed: int = 0
    unchanged: int = 0
    error: str | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SyncSummary:
    """What a whole sync did: per source, then encoding."""

    reports: list[SyncReport] = field(default_factory=list)
    chunks_encoded: int = 0
    chunks_cached: int = 0
    items_chunked: int = 0
    seconds: float = 0.0

    def total(self, name: str) -> int:
        return sum(int(getattr(r, name)) for r in self.reports)

    @property
    def changed(self) -> bool:
        return any(r.added or r.updated or r.removed for r in self.reports)


RELEVANCE_BAR = 0.5
"""The calibrated probability at which an item counts as serving a goal."""


@dataclass(frozen=True)
class RankedItem:
    """One item of the ranked inbox with the reason it ranks where it does."""

    item_id: int
    source_id: int
    source_kind: str
    source_name: str
    external_id: str
    title: str
    author: str | None
    published_at: datetime | None
    status: str
    score: float
    goal_id: int | None
    goal_title: str | None
    evidence: str
    evidence_span: tuple[int, int] | None
    goal_scores: dict[int, float] = field(default_factory=dict)
    matched_facet: str | None = None
    """The goal facet (query) that matched best: the goal itself or one listed thing."""
    relevance: float = 0.0
    """R, the attention layer's relevance; ``score`` is R plus the priors."""
    priors: dict[str, float] = field(default_factory=dict)
    """How much each prior added (or, negative, took away): recency, source, sender,
    redundancy."""
    story_size: int = 1
    """How many items (this one included) tell the same story."""
    story_item_ids: tuple[int, ...] = ()
    """The other items of this story, collapsed under this one."""
    story_titles: tuple[str, ...] = ()
    """Titles of the first few other items of the story (for the Why panel), read with the
    ranking so that the UI thread never goes to the store for them."""
    calibrated: dict[int, float] = field(default_factory=dict)
    """Goal id -> probability that this item serves that goal, calibrated against the
    profile's own score distribution for the goal, so that it means the same across goals
    and source kinds. ``goal_id`` is the goal the row is shown for (its seat)."""
    percentile: dict[int, float] = field(default_factory=dict)
    """Goal id -> share of the profile's items this one outscores for that goal (0.98:
    "top 2 % for this goal")."""
    thread_size: int = 1
    """How many messages of one conversation (this one included) this row stands for."""
    thread_item_ids: tuple[int, ...] = ()
    """The other messages of the conversation, collapsed under this one."""

    def serves(self, goal_id: int) -> bool:
        """Whether the item clears ``goal_id``'s relevance bar."""
        return self.calibrated.get(goal_id, 0.0) >= RELEVANCE_BAR

    def to_json(self) -> dict[str, Any]:
        """The `rank --json` line for this item."""
        return {
            "id": self.item_id,
            "source_kind": self.source_kind,
            "source": self.source_name,
            "external_id": self.external_id,
            "title": self.title,
            "author": self.author,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "score": round(self.score, 6),
            "goal": self.goal_title,
            "goal_id": self.goal_id,
            "evidence": self.evidence,
            "evidence_span": list(self.evidence_span) if self.evidence_span else None,
            "goal_scores": {str(k): round(v, 6) for k, v in self.goal_scores.items()},
            "matched_facet": self.matched_facet,
            "relevance": round(self.relevance, 6),
            "priors": {k: round(v, 6) for k, v in self.priors.items()},
            "story_size": self.story_size,
            "story_item_ids": list(self.story_item_ids),
            "calibrated": {str(k): round(v, 6) for k, v in self.calibrated.items()},
            "percentile": {str(k): round(v, 6) for k, v in self.percentile.items()},
            "thread_size": self.thread_size,
            "thread_item_ids": list(self.thread_item_ids),
        }


@dataclass(frozen=True)
class ThreadMessage:
    """One message of a conversation, as the reader lists it under the one shown."""

    id: int
    title: str
    author: str | None
    published_at: datetime | None
    status: str
    body: str


@dataclass(frozen=True)
class ItemDetail:
    """Everything the reader pane shows about one item."""

    id: int
    source_name: str
    source_kind: str
    kind: str
    title: str
    author: str | None
    url: str | None
    published_at: datetime | None
    body: str
    text: str
    status: str
    meta: dict[str, Any]
    thread: tuple[ThreadMessage, ...] = ()
    """The messages of its conversation in date order, this one included (empty: not
    mail, or a conversation of one message)."""


@dataclass(frozen=True)
class PlanEntry:
    """One item of a focus plan: what to look at and for how long."""

    item: RankedItem
    minutes: int
    share: float

    def to_json(self) -> dict[str, Any]:
        """The `focus plan --json` line for this entry."""
        return {**self.item.to_json(), "minutes": self.minutes, "share": round(self.share, 6)}
