from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from focusdesk.store import Item, Source, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    yield s
    s.close()


def _source(store: Store) -> int:
    with store.session() as s:
        src = Source(kind="notes", name="n", uri="/x", config={}, sync_state={})
        s.add(src)
        s.flush()
        return src.id


def test_wal_foreign_keys_and_fts(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert store.has_fts()


def test_migration_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    Store(url).close()
    again = Store(url)
    with again.engine.connect() as conn:
        versions = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    again.close()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from focusdesk.package_data import migrations_dir

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    assert versions == set(ScriptDirectory.from_config(cfg).get_heads())


def test_fts_follows_inserts_updates_and_deletes(store: Store) -> None:
    sid = _source(store)
    with store.session() as s:
        s.add(
            Item(
                source_id=sid,
                external_id="a",
                kind="note",
                title="Quadra upgrade",
                content_hash="h",
                text="a SIMM for the Centris",
            )
        )
    query = text("SELECT rowid FROM items_fts WHERE items_fts MATCH :q")
    with store.engine.connect() as conn:
        assert len(conn.execute(query, {"q": "centris"}).all()) == 1
    with store.session() as s:
        item = s.query(Item).one()
        item.text = "a monitor for the PowerBook"
    with store.engine.connect() as conn:
        assert conn.execute(query, {"q": "centris"}).all() == []
        assert len(conn.execute(query, {"q": "powerbook"}).all()) == 1
    with store.session() as s:
        s.delete(s.query(Item).one())
    with store.engine.connect() as conn:
        assert conn.execute(query, {"q": "powerbook"}).all() == []


def test_external_id_is_unique_per_source(store: Store) -> None:
    sid = _source(store)
    with store.session() as s:
        s.add(Item(source_id=sid, external_id="a", kind="note", content_hash="h"))
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(Item(source_id=sid, external_id="a", kind="note", content_hash="h2"))


def test_removing_a_source_removes_its_items(store: Store) -> None:
    sid = _source(store)
    with store.session() as s:
        s.add(Item(source_id=sid, external_id="a", kind="note", content_hash="h"))
    with store.session() as s:
        s.delete(s.get(Source, sid))
    with store.session() as s:
        assert s.query(Item).count() == 0


def test_upgrading_keeps_chunks_and_never_reuses_their_ids(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from focusdesk.package_data import migrations_dir
    from focusdesk.store.db import make_engine, migrate

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.execute(
            text(
                "INSERT INTO sources (id, kind, name, uri, config, sync_state, enabled, created_at)"
                " VALUES (1, 'notes', 'n', '/x', '{}', '{}', 1, '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO items (id, source_id, external_id, kind, title, received_at,"
                " content_hash, text, body, meta, status, pinned, vanished) VALUES (1, 1, 'a',"
                " 'note', 't', '2026-01-01 00:00:00', 'h', 'b', 'b', '{}', 'new', 0, 0)"
            )
        )
        for cid in (1, 2, 3):
            conn.execute(
                text(
                    "INSERT INTO chunks (id, item_id, ordinal, char_start, char_end, text_hash) "
                    "VALUES (:i, 1, :i, 0, 1, 'x')"
                ),
                {"i": cid},
            )
    migrate(engine)
    with engine.begin() as conn:
        assert [r[0] for r in conn.execute(text("SELECT id FROM chunks ORDER BY id"))] == [1, 2, 3]
        conn.execute(text("DELETE FROM chunks WHERE id = 3"))
        conn.execute(
            text(
                "INSERT INTO chunks (item_id, ordinal, char_start, char_end, text_hash) "
                "VALUES (1, 9, 0, 1, 'y')"
            )
        )
        assert conn.execute(text("SELECT max(id) FROM chunks")).scalar() == 4
    engine.dispose()


@pytest.mark.parametrize(
    ("sqlite_says", "message", "hint"),
    [
        (
            "database or disk is full",
            "The disk holding /p/db.sqlite3 is full.",
            "Free some space, then try again. Everything saved before is kept.",
        ),
        (
            "database is locked",
            "The database /p/db.sqlite3 is busy: another program is writing to it.",
            "Close the other FocusDesk (or wait a moment), then try again.",
        ),
        (
            "disk I/O error",
            "FocusDesk could not write to /p/db.sqlite3 (disk I/O error).",
            "The disk may be full, read-only or failing. Free some space, then try again. "
            "Everything saved before is kept.",
        ),
    ],
)
def test_database_errors_are_told_in_words(sqlite_says: str, message: str, hint: str) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from focusdesk.store.db import database_error

    error = database_error(
        OperationalError("INSERT ...", {}, sqlite3.OperationalError(sqlite_says)), "/p/db.sqlite3"
    )
    assert (error.message, error.hint) == (message, hint)


def test_a_profile_of_the_previous_release_opens_and_keeps_its_data(tmp_path: Path) -> None:
    import shutil

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from focusdesk.package_data import migrations_dir

    release = Path(__file__).resolve().parents[2] / "data" / "profiles" / "release-0004.db"
    shutil.copy2(release, tmp_path / "db.sqlite3")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with store.engine.connect() as conn:
        (version,) = conn.execute(text("SELECT version_num FROM alembic_version")).one()
        counts = [
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("sources", "items", "chunks", "goals", "feedback")
        ]
    store.close()
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    assert [version] == ScriptDirectory.from_config(cfg).get_heads()
    assert counts == [1, 3, 6, 2, 1]


def test_the_heads_read_from_the_scripts_are_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from focusdesk.package_data import migrations_dir
    from focusdesk.store.db import script_heads

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    assert script_heads(migrations_dir()) == set(ScriptDirectory.from_config(cfg).get_heads())


def test_a_profile_at_the_newest_schema_opens_without_importing_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    Store(url).close()  # created and migrated
    code = (
        "import sys\n"
        "from focusdesk.store.db import Store\n"
        f"Store({url!r}).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False"
