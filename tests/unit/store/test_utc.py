"""The one datetime column type of the store: aware UTC in, aware UTC out, naive refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import DateTime, func, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from focusdesk.store import Base, Item, Source, Store
from focusdesk.store.utc import UTCDateTime

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def source_id(store: Store) -> int:
    with store.session() as s:
        src = Source(kind="notes", name="n", uri="/x", config={}, sync_state={})
        s.add(src)
        s.flush()
        return src.id


def _add(store: Store, source_id: int, published: dict[str, datetime | None]) -> None:
    with store.session() as s:
        for ext, when in published.items():
            s.add(
                Item(
                    source_id=source_id,
                    external_id=ext,
                    kind="note",
                    title=ext,
                    content_hash=ext,
                    published_at=when,
                )
            )


def _published(store: Store) -> dict[str, datetime | None]:
    with store.session() as s:
        return {r[0]: r[1] for r in s.execute(select(Item.external_id, Item.published_at))}


def _raw(store: Store, column: str = "published_at") -> dict[str, str | None]:
    with store.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT external_id, {column} FROM items"))
        return {r[0]: r[1] for r in rows}


def test_every_datetime_column_of_every_table_is_the_utc_type() -> None:
    columns = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, DateTime | UTCDateTime)
    ]
    assert len(columns) >= 25  # sources, items, embeddings, goals, feedback, focus tables...
    not_utc = [
        name
        for name, column in (
            (f"{t.name}.{c.name}", c) for t in Base.metadata.sorted_tables for c in t.columns
        )
        if name in columns and not isinstance(column.type, UTCDateTime)
    ]
    assert not_utc == []


def test_a_new_datetime_column_is_the_utc_type_unless_it_says_otherwise() -> None:
    class Probe(DeclarativeBase):
        type_annotation_map = Base.type_annotation_map

    class Row(Probe):
        __tablename__ = "probe"
        id: Mapped[int] = mapped_column(primary_key=True)
        at: Mapped[datetime]

    assert isinstance(Row.__table__.c.at.type, UTCDateTime)


def test_any_zone_goes_in_and_aware_utc_comes_out(store: Store, source_id: int) -> None:
    instant = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    _add(
        store,
        source_id,
        {
            "utc": instant,
            "berlin": instant.astimezone(BERLIN),
            "offset": instant.astimezone(timezone(timedelta(hours=-8))),
            "none": None,
        },
    )
    back = _published(store)
    assert back == {"utc": instant, "berlin": instant, "offset": instant, "none": None}
    assert all(v.tzinfo is UTC for v in back.values() if v is not None)
    # One storage format: naive UTC text, fixed width, whatever zone it came in.
    raw = _raw(store)
    assert raw == {
        "utc": "2026-06-01 18:00:00.000000",
        "berlin": "2026-06-01 18:00:00.000000",
        "offset": "2026-06-01 18:00:00.000000",
        "none": None,
    }


def test_a_naive_datetime_is_refused_and_nothing_is_stored(store: Store, source_id: int) -> None:
    with pytest.raises(StatementError, match="without a time zone"):
        _add(store, source_id, {"naive": datetime(2026, 3, 1, 9, 0)})
    assert _published(store) == {}
    with pytest.raises(StatementError, match="without a time zone"), store.session() as s:
        s.execute(select(Item.id).where(Item.published_at > datetime(2026, 3, 1)))


def test_a_date_is_not_a_datetime(store: Store, source_id: int) -> None:
    with pytest.raises(StatementError, match="not a date and time"):
        _add(store, source_id, {"day": date(2026, 3, 1)})  # type: ignore[dict-item]


def test_sql_order_and_comparisons_follow_the_instant_across_dst(
    store: Store, source_id: int
) -> None:
    # Berlin leaves summer time on 2026-10-25 at 01:00 UTC: the wall clock runs
    # 02:00-03:00 twice. By wall clock "b" (02:10 CET) is before "a" (02:30 CEST);
    # in time it is an hour later.
    a = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=0)  # 00:30 UTC
    b = datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN, fold=1)  # 01:10 UTC
    c = datetime(2026, 10, 25, 1, 50, tzinfo=UTC).astimezone(NEW_YORK)  # 21:50 EDT the day before
    # Spring forward (2026-03-29 01:00 UTC): 01:59 CET and 03:00 CEST are a minute apart.
    d = datetime(2026, 3, 29, 1, 59, tzinfo=BERLIN)
    e = datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN)
    _add(store, source_id, {"a": a, "b": b, "c": c, "d": d, "e": e})
    with store.session() as s:
        ordered = s.scalars(select(Item.external_id).order_by(Item.published_at)).all()
        after = s.scalars(
            select(Item.external_id)
            .where(Item.published_at > datetime(2026, 10, 24, 20, 45, tzinfo=NEW_YORK))
            .order_by(Item.published_at)
        ).all()
        latest = s.scalar(select(func.max(Item.published_at)))
        earliest = s.scalar(select(func.min(Item.published_at)))
    assert ordered == ["d", "e", "a", "b", "c"]
    assert after == ["b", "c"]  # 00:45 UTC, given as New York's evening before
    assert latest == datetime(2026, 10, 25, 1, 50, tzinfo=UTC)
    assert latest.tzinfo is UTC
    assert earliest == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    back = _published(store)
    assert back["e"] - back["d"] == timedelta(minutes=1)  # the wall clock says 61
    assert back["b"] - back["a"] == timedelta(minutes=40)  # the wall clock says -20


def test_the_far_past_and_future_round_trip_in_order(store: Store, source_id: int) -> None:
    far = {
        "first": datetime(1, 1, 1, tzinfo=UTC),
        "medieval": datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
        "epoch": datetime(1970, 1, 1, tzinfo=UTC),
        "now-ish": datetime(2026, 12, 5, 2, 30, 15, 123456, tzinfo=UTC),
        "last": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    }
    _add(store, source_id, far)
    assert _published(store) == far
    assert _raw(store)["first"] == "0001-01-01 00:00:00.000000"
    assert _raw(store)["medieval"] == "0999-12-31 23:59:59.000000"
    with store.session() as s:
        ordered = s.scalars(select(Item.external_id).order_by(Item.published_at.desc())).all()
    assert ordered == ["last", "now-ish", "epoch", "medieval", "first"]


def test_text_written_before_the_one_format_reads_as_its_instant(
    store: Store, source_id: int
) -> None:
    _add(store, source_id, {"old": None, "iso": None, "bare": None})
    with store.engine.begin() as conn:
        for ext, raw in (
            ("old", "2026-06-01 10:00:00-08:00"),
            ("iso", "2026-06-01T18:00:00"),
            ("bare", "2026-06-01 18:00"),
        ):
            conn.execute(
                text("UPDATE items SET published_at = :raw WHERE external_id = :ext"),
                {"raw": raw, "ext": ext},
            )
    instant = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    back = _published(store)
    assert back == {"old": instant, "iso": instant, "bare": instant}
    assert all(v is not None and v.tzinfo is UTC for v in back.values())
