"""SQLAlchemy ORM models: sources, items, chunks, embeddings, goals, feedback."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from focusdesk.store.utc import UTCDateTime


def utcnow() -> datetime:
    """Timezone-aware now, the one clock the store uses."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every FocusDesk table."""

    # A ``Mapped[datetime]`` column is an aware UTC instant unless it says otherwise.
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime}


SOURCE_KINDS = ("notes", "mbox", "maildir", "imap", "feed")
ITEM_STATUSES = ("new", "read", "done", "snoozed", "dismissed")
FEEDBACK_SIGNALS = ("up", "down", "open", "dismiss", "done", "snooze", "unsnooze", "pin", "unpin")


class Source(Base):
    """Where items come from: a notes folder, a mailbox, a feed."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    uri: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sync_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[Item]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


class Item(Base):
    """One note, message or feed entry."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_items_source_external"),
        Index("ix_items_status", "status"),
        Index("ix_items_message_id", "message_id"),
        Index("ix_items_thread_key", "thread_key"),
        Index("ix_items_pinned", "id", sqlite_where=text("pinned = 1")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")  # cleaned text that is ranked
    body: Mapped[str] = mapped_column(Text, default="")  # full text shown in the reader
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="new")
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    vanished: Mapped[bool] = mapped_column(Boolean, default=False)
    chunked_hash: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(Text)
    """Mail: the Message-ID (``<a@b>``); None for other items and mail without one."""
    thread_key: Mapped[str | None] = mapped_column(String(32))
    """Mail: the conversation it belongs to (``store.threads``); None for other items."""

    source: Mapped[Source] = relationship(back_populates="items")
    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="item",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Chunk.ordinal",
    )


class Chunk(Base):
    """A passage of an item, the unit the encoder embeds and the scorer attends over."""

    __tablename__ = "chunks"
    __table_args__ = (
        UniqueConstraint("item_id", "ordinal", name="uq_chunks_item_ordinal"),
        Index("ix_chunks_text_hash", "text_hash"),
        # Never reuse an id: the vector index is keyed by chunk id (migration 0004).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[str] = mapped_column(String(64))

    item: Mapped[Item] = relationship(back_populates="chunks")


class Embedding(Base):
    """Cached vector of one chunk text under one model: nothing is encoded twice."""

    __tablename__ = "embeddings"

    model_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float16, L2-normalised
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Goal(Base):
    """Something the user is working towards; items are ranked against active goals."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(80))
    """A short name the user chose (None: the title's first clause is shown)."""
    description: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    colour: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def text(self) -> str:
        """What the encoder embeds for this goal."""
        return f"{self.title}. {self.description}".strip(". ") if self.description else self.title


class Feedback(Base):
    """A vote or an implicit signal about an item, optionally for one goal."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    signal: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScorerVersion(Base):
    """One trained version of the ranking model, with its evaluation.

    The model lives in the folder ``path`` under the profile's ``scorer/`` folder
    (``rank/model_versions.py``: config.json + model.safetensors + manifest.json; from
    earlier releases, priors.json instead of the manifest); ``active`` marks the one the
    ranker uses (none active = the untrained model).
    """

    __tablename__ = "scorer_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    path: Mapped[str] = mapped_column(Text)
    n_votes: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=False)


# -- focus blocks, schedules and sessions (focusdesk/focus/) ------------------------------


FOCUS_SESSION_STATES = ("running", "paused", "ended", "missed")
FOCUS_ITEM_OUTCOMES = ("open", "done", "skipped", "snoozed")
SCHEDULE_KINDS = ("sync", "review")


class FocusBlock(Base):
    """A recurring deep-work block: an RRULE in the block's own time zone, at a local time.

    ``handled_until`` is the watermark: every occurrence starting at or before it was
    started, or recorded as missed; the scheduler never fires one twice.
    """

    __tablename__ = "focus_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    rrule: Mapped[str] = mapped_column(Text)  # RFC 5545 RRULE value, without "RRULE:"
    start_time: Mapped[str] = mapped_column(String(5))  # local "HH:MM"
    duration_minutes: Mapped[int] = mapped_column(Integer)
    goal_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: all active goals
    top_k: Mapped[int | None] = mapped_column(Integer)  # None: the focus_top_k setting
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name
    starts_on: Mapped[date] = mapped_column(Date)  # DTSTART's date
    handled_until: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Schedule(Base):
    """A periodic job that is not a focus block: sync of one source, or the daily review.

    ``sync`` rows have ``source_id`` and ``interval_minutes``; the one ``review`` row has
    ``time_of_day`` ("HH:MM") in ``timezone``. ``last_run_at`` is when it last ran.
    """

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("kind", "source_id", name="uq_schedules_kind_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    time_of_day: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FocusSession(Base):
    """One focus block as it happened (or was missed): plan, timing, outcome, held items.

    The block's end is ``planned_end + extended_minutes + paused_seconds`` (plus the
    current pause): a pause stops the countdown, time away (app closed, machine
    asleep) does not. ``item_clock_at`` is when the current item's timer last counted.
    """

    __tablename__ = "focus_sessions"
    __table_args__ = (Index("ix_focus_sessions_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("focus_blocks.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)
    goal_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16))
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime())
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime())
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extended_minutes: Mapped[int] = mapped_column(Integer, default=0)
    away_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    current_item_id: Mapped[int | None] = mapped_column(Integer)
    item_clock_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    held_items: Mapped[list[int]] = mapped_column(JSON, default=list)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[FocusSessionItem]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FocusSessionItem.position",
    )


class FocusSessionItem(Base):
    """One planned item of a session: minutes planned, seconds spent, outcome and note."""

    __tablename__ = "focus_session_items"
    __table_args__ = (
        UniqueConstraint("session_id", "position", name="uq_focus_session_items_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("focus_sessions.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    goal_title: Mapped[str | None] = mapped_column(Text)
    planned_minutes: Mapped[int] = mapped_column(Integer)
    actual_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[FocusSession] = relationship(back_populates="items")


class BusyTime(Base):
    """A busy period imported from an iCalendar file (a meeting), for overlap warnings."""

    __tablename__ = "busy_times"
    __table_args__ = (Index("ix_busy_times_start", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar: Mapped[str] = mapped_column(String(200))
    uid: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
