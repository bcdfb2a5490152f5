"""The one column type of every date and time in the store: an instant, in UTC.

Every datetime column of every table is a ``UTCDateTime``, so code that reads the store
always gets aware UTC datetimes and never patches a time zone on.

- Written: an aware datetime in any zone, converted to UTC. A naive datetime is refused
  (``ValueError``, wrapped by SQLAlchemy in a ``StatementError``): nobody can tell which
  zone it was in, and guessing here is how a -0800 mail ends up eight hours early. The
  sources' parsers decide what a date without a zone means (each reads it as UTC) and
  hand over aware datetimes.
- Read: an aware datetime in UTC (``tzinfo is UTC``).
- Stored: on SQLite, which keeps no offset, as text in one format, naive UTC with
  microseconds (``2026-06-01 18:00:00.000000``), so that text order is time order and
  SQL comparisons and ``ORDER BY`` are right; other databases get a timestamp with time
  zone holding the UTC value. Migration 0007 brought older values into that format.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

STORAGE_FORMAT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
"""The one text format on SQLite (naive UTC, SQLAlchemy's own): text order is time order."""

_parse = datetime.fromisoformat


class _SQLiteText(sqlite.DATETIME):
    """SQLite's DATETIME column, its text handed over as it is (``UTCDateTime`` makes it)."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database; naive datetimes are refused on write."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteText())
        return super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"{value!r} is not a date and time, so it cannot be stored as one")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{value} is a date and time without a time zone, so it cannot be stored: "
                "give it one (the store keeps instants in UTC)"
            )
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return STORAGE_FORMAT % (
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
            )
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return _parse(value + "+00:00")  # the one format: naive UTC
            except ValueError:
                value = _parse(value)  # written before migration 0007 (an offset, a "T"...)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
