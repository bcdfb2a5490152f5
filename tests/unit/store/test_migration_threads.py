"""Migration 0006: mail items get their Message-ID and conversation, old mail backfilled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import text

from focusdesk.store import Store

RELEASE = Path(__file__).resolve().parents[2] / "data" / "profiles" / "release-0004.db"


def _upgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from focusdesk.package_data import migrations_dir
    from focusdesk.store.db import make_engine

    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def _mail(conn: object, n: int, subject: str, meta: dict[str, object], day: int) -> None:
    conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO items (id, source_id, external_id, kind, title, published_at,"
            " received_at, content_hash, text, body, meta, status, pinned, vanished)"
            " VALUES (:id, 2, :ext, 'email', :title, :when, :when, 'h', 'b', 'b', :meta,"
            " 'new', 0, 0)"
        ),
        {
            "id": 100 + n,
            "ext": f"m{n}",
            "title": subject,
            "when": f"2026-03-{day:02d} 09:00:00.000000",
            "meta": json.dumps(meta),
        },
    )


def test_the_release_profile_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    shutil.copy2(RELEASE, tmp_path / "db.sqlite3")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with store.engine.connect() as conn:
        counts = [
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("sources", "items", "chunks", "goals", "feedback")
        ]
        keys = conn.execute(text("SELECT kind, message_id, thread_key FROM items")).all()
    store.close()
    assert counts == [1, 3, 6, 2, 1]
    assert keys == [("note", None, None)] * 3  # notes have no conversation


def test_old_mail_is_backfilled_from_its_stored_headers(tmp_path: Path) -> None:
    shutil.copy2(RELEASE, tmp_path / "db.sqlite3")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    _upgrade(url, "0005")
    store = Store(url, auto_migrate=False)
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sources (id, kind, name, uri, config, sync_state, enabled, created_at)"
                " VALUES (2, 'mbox', 'm', '/m', '{}', '{}', 1, '2026-01-01 00:00:00')"
            )
        )
        _mail(conn, 1, "Launch", {"message_id": "<root@x>"}, 1)
        _mail(conn, 2, "Re: Launch", {"message_id": "<r1@x>", "in_reply_to": "<root@x>"}, 2)
        _mail(conn, 3, "Other", {"message_id": "<r2@x>", "references": ["<root@x>", "<r1@x>"]}, 3)
        _mail(conn, 4, "Re: Launch", {}, 5)  # purged long ago: its subject is all that is left
        _mail(conn, 5, "Launch", {"message_id": "<alone@x>"}, 6)  # not a reply: its own
        _mail(conn, 6, "Odd", {"message_id": 42, "references": "not a list"}, 7)
    store.close()
    store = Store(url)  # upgrades to the head
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT external_id, message_id, thread_key FROM items WHERE kind = 'email'")
        ).all()
        notes = conn.execute(text("SELECT count(*) FROM items WHERE kind = 'note'")).scalar_one()
    store.close()
    ids = {ext: mid for ext, mid, _key in rows}
    keys = {ext: key for ext, _mid, key in rows}
    assert notes == 3
    assert ids == {
        "m1": "<root@x>",
        "m2": "<r1@x>",
        "m3": "<r2@x>",
        "m4": None,
        "m5": "<alone@x>",
        "m6": None,
    }
    assert all(keys.values())
    assert keys["m1"] == keys["m2"] == keys["m3"] == keys["m4"]
    assert len({keys["m1"], keys["m5"], keys["m6"]}) == 3
