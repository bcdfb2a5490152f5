"""Migration 0007: every stored date and time in one format, UTC, whatever wrote it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text

from focusdesk.store import Feedback, Item, Source, Store
from focusdesk.store.models import BusyTime, FocusSession, Goal, Schedule

RELEASE = Path(__file__).resolve().parents[2] / "data" / "profiles" / "release-0004.db"
CANONICAL = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9]*"
NOT_A_DATE = "next Tuesday"


def _alembic(url: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from focusdesk.package_data import migrations_dir
    from focusdesk.store.db import make_engine

    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)
    engine.dispose()


def _insert(conn: Connection, table: str, row: dict[str, Any]) -> None:
    names = ", ".join(f'"{k}"' for k in row)
    conn.execute(
        text(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(f":{k}" for k in row)})'), row
    )


def _fill_0006(conn: Connection) -> None:
    """Rows as earlier releases (and a hand or a tool) left them, in every datetime column."""
    # The ORM wrote naive UTC with microseconds; CURRENT_TIMESTAMP-like text has none;
    # Python's sqlite3 adapter and hand edits keep an offset, or use "T" or "Z".
    _insert(
        conn,
        "sources",
        {
            "id": 2,
            "kind": "mbox",
            "name": "m",
            "uri": "/m",
            "config": "{}",
            "sync_state": "{}",
            "enabled": 1,
            "created_at": "2026-01-01 00:00:00",
            "last_sync_at": "2026-06-01 10:00:00-08:00",
        },
    )
    published = {
        10: "2026-10-25 02:30:00+02:00",  # Berlin summer time: 00:30 UTC
        11: "2026-10-25T01:10:00Z",
        12: "2026-10-25 00:59:59",
        13: "2026-10-25",
        14: "2026-10-25 00:45:00.250000",  # as the ORM wrote it
        15: None,
    }
    snoozed = {14: "2026-12-01T08:00:00+01:00", 15: NOT_A_DATE}
    for n, when in published.items():
        _insert(
            conn,
            "items",
            {
                "id": n,
                "source_id": 2,
                "external_id": f"m{n}",
                "kind": "email",
                "title": f"Mail {n}",
                "published_at": when,
                "received_at": "2026-10-26 09:00:00.000000" if n != 12 else "2026-10-26 09:00",
                "content_hash": "h",
                "text": "t",
                "body": "t",
                "meta": "{}",
                "status": "snoozed" if n in snoozed else "new",
                "snoozed_until": snoozed.get(n),
                "pinned": 0,
                "vanished": 0,
            },
        )
    conn.execute(text("UPDATE embeddings SET created_at = '2026-12-04 21:01:12.242778+00:00'"))
    conn.execute(text("UPDATE goals SET created_at = '2026-12-04T21:00:54.250039' WHERE id = 1"))
    conn.execute(text("UPDATE feedback SET created_at = '2026-12-04 22:01:34.731912+01:00'"))
    _insert(
        conn,
        "scorer_versions",
        {
            "id": 1,
            "created_at": "2026-12-04 21:30:00",
            "path": "scorer/v1",
            "n_votes": 1,
            "metrics": "{}",
            "accepted": 1,
            "active": 0,
        },
    )
    _insert(
        conn,
        "focus_blocks",
        {
            "id": 1,
            "title": "Deep work",
            "rrule": "FREQ=DAILY",
            "start_time": "09:00",
            "duration_minutes": 60,
            "goal_ids": "[]",
            "enabled": 1,
            "timezone": "Europe/Berlin",
            "starts_on": "2026-12-01",
            "handled_until": "2026-12-04 08:00:00+00:00",
            "created_at": "2026-12-01 08:00:00+00:00",
            "updated_at": "2026-12-01 09:15",
        },
    )
    _insert(
        conn,
        "schedules",
        {
            "id": 1,
            "kind": "review",
            "time_of_day": "18:00",
            "timezone": "America/New_York",
            "enabled": 1,
            "last_run_at": "2026-12-04 18:00:00-05:00",
            "created_at": "2026-12-01T08:00:00",
        },
    )
    _insert(
        conn,
        "focus_sessions",
        {
            "id": 1,
            "block_id": 1,
            "title": "Deep work",
            "goal_ids": "[]",
            "state": "ended",
            "planned_start": "2026-12-04 09:00:00+01:00",
            "planned_end": "2026-12-04T09:00:00+00:00",
            "actual_start": "2026-12-04 08:01:00",
            "actual_end": "2026-12-04 09:00:30",
            "paused_seconds": 0.0,
            "paused_at": "2026-12-04 09:30:00+01:00",
            "extended_minutes": 0,
            "away_seconds": 0.0,
            "item_clock_at": "2026-12-04 08:20:00Z",
            "last_seen_at": "2026-12-04 08:25",
            "plan": "[]",
            "notes": "",
            "held_items": "[]",
            "notified": 0,
            "created_at": "2026-12-04 07:59:00",
        },
    )
    _insert(
        conn,
        "busy_times",
        {
            "id": 1,
            "calendar": "work.ics",
            "uid": "u1",
            "summary": "Stand-up",
            "start": "2026-12-04 14:00:00+01:00",
            "end": "2026-12-04 14:30:00+01:00",
            "imported_at": "2026-12-04 12:00:00.000000+00:00",
        },
    )


def _datetime_columns(conn: Connection) -> list[tuple[str, str]]:
    tables = conn.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL")
    ).scalars()
    return [
        (table, column)
        for table in list(tables)
        for column, kind in conn.execute(
            text("SELECT name, type FROM pragma_table_info(:t)"), {"t": table}
        ).all()
        if kind == "DATETIME"
    ]


def _off_format(conn: Connection, table: str, column: str) -> list[str]:
    return list(
        conn.execute(
            text(
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
                f' AND NOT ("{column}" GLOB :p AND length("{column}") = 26)'
            ),
            {"p": CANONICAL},
        ).scalars()
    )


def _profile_at_0006(tmp_path: Path) -> str:
    shutil.copy2(RELEASE, tmp_path / "db.sqlite3")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    _alembic(url, "upgrade", "0006")
    store = Store(url, auto_migrate=False)
    with store.engine.begin() as conn:
        _fill_0006(conn)
    store.close()
    return url


def test_every_datetime_column_is_rewritten_in_the_one_format(tmp_path: Path) -> None:
    url = _profile_at_0006(tmp_path)
    store = Store(url, auto_migrate=False)
    with store.engine.connect() as conn:
        columns = _datetime_columns(conn)
        before = {c: _off_format(conn, *c) for c in columns}
        items_by_text = conn.execute(
            text("SELECT id FROM items WHERE id BETWEEN 10 AND 14 ORDER BY published_at")
        ).scalars()
        assert list(items_by_text) == [13, 14, 12, 10, 11]  # text order is not time order
    store.close()
    assert len(columns) == 25
    assert [c for c, values in before.items() if not values] == []  # each one has work to do

    store = Store(url)  # upgrades to the head
    with store.engine.connect() as conn:
        after = {c: _off_format(conn, *c) for c in _datetime_columns(conn)}
        raw = {r[0]: r[1] for r in conn.execute(text("SELECT id, published_at FROM items"))}
        snoozed = {r[0]: r[1] for r in conn.execute(text("SELECT id, snoozed_until FROM items"))}
        by_time = conn.execute(
            text("SELECT id FROM items WHERE id BETWEEN 10 AND 14 ORDER BY published_at")
        ).scalars()
        assert list(by_time) == [13, 10, 14, 12, 11]
    assert {c: v for c, v in after.items() if v} == {("items", "snoozed_until"): [NOT_A_DATE]}
    assert raw == {
        1: "2026-12-04 21:00:50.861671",  # already in the format: untouched
        2: "2026-12-04 21:00:50.861671",
        3: "2026-12-04 21:00:50.861671",
        10: "2026-10-25 00:30:00.000000",
        11: "2026-10-25 01:10:00.000000",
        12: "2026-10-25 00:59:59.000000",
        13: "2026-10-25 00:00:00.000000",
        14: "2026-10-25 00:45:00.250000",
        15: None,
    }
    assert snoozed == {
        1: None,
        2: None,
        3: None,
        10: None,
        11: None,
        12: None,
        13: None,
        14: "2026-12-01 07:00:00.000000",
        15: NOT_A_DATE,
    }

    def utc(*args: int) -> datetime:
        return datetime(*args, tzinfo=UTC)  # type: ignore[misc]

    with store.session() as s:
        source = s.get(Source, 2)
        assert source is not None
        assert (source.created_at, source.last_sync_at) == (utc(2026, 1, 1), utc(2026, 6, 1, 18))
        assert s.get(Item, 14).snoozed_until == utc(2026, 12, 1, 7)  # type: ignore[union-attr]
        assert s.get(Item, 12).received_at == utc(2026, 10, 26, 9)  # type: ignore[union-attr]
        goal = s.get(Goal, 1)
        assert goal is not None
        assert goal.created_at == datetime(2026, 12, 4, 21, 0, 54, 250039, tzinfo=UTC)
        vote = s.scalars(select(Feedback)).one()
        assert vote.created_at == datetime(2026, 12, 4, 21, 1, 34, 731912, tzinfo=UTC)
        run = s.get(Schedule, 1)
        assert run is not None
        assert run.last_run_at == utc(2026, 12, 4, 23)
        session = s.get(FocusSession, 1)
        assert session is not None
        assert (session.planned_start, session.planned_end, session.paused_at) == (
            utc(2026, 12, 4, 8),
            utc(2026, 12, 4, 9),
            utc(2026, 12, 4, 8, 30),
        )
        busy = s.get(BusyTime, 1)
        assert busy is not None
        assert (busy.start, busy.end) == (utc(2026, 12, 4, 13), utc(2026, 12, 4, 13, 30))
        assert busy.start.tzinfo is UTC
    store.close()


def test_downgrade_keeps_the_same_instants(tmp_path: Path) -> None:
    url = _profile_at_0006(tmp_path)
    Store(url).close()
    store = Store(url, auto_migrate=False)
    with store.engine.connect() as conn:
        upgraded = conn.execute(text("SELECT id, published_at FROM items ORDER BY id")).all()
    store.close()
    _alembic(url, "downgrade", "0006")
    store = Store(url, auto_migrate=False)
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        downgraded = conn.execute(text("SELECT id, published_at FROM items ORDER BY id")).all()
    store.close()
    assert version == "0006"
    assert downgraded == upgraded
