"""Engine, sessions and schema migration of the store.

SQLite gets WAL mode, foreign keys and a busy timeout on every connection; the
schema is brought to the newest Alembic revision when the store opens.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from focusdesk.errors import DatabaseError

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get the pragmas the store relies on."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (a no-op when already there)."""
    from focusdesk.package_data import migrations_dir

    scripts = migrations_dir()
    if not (scripts / "env.py").exists():
        raise DatabaseError(
            f"The database migrations were not found at {scripts}.",
            hint="Reinstall FocusDesk (pip install --force-reinstall focusdesk).",
        )
    if _at_heads(engine, scripts):
        return  # the usual start: no need to import Alembic (a third of a second)
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(scripts))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*["']([^"']+)["']""", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=\s*(.+)$", re.M)


def script_heads(scripts: Path) -> set[str] | None:
    """The newest revisions of the migration scripts, read from their ``revision`` and
    ``down_revision`` lines (None when a script does not say them plainly)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (scripts / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(re.findall(r"""["']([^"']+)["']""", down.group(1)))
    heads = revisions - parents
    return heads or None


def _at_heads(engine: Engine, scripts: Path) -> bool:
    """Whether the database is at the scripts' newest revisions already."""
    heads = script_heads(scripts)
    if heads is None:
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            current = {str(r[0]) for r in rows}
    except OperationalError:  # a new database: no version table yet
        return False
    return current == heads


def database_error(exc: OperationalError, where: str) -> DatabaseError:
    """An error of the database itself (disk full, locked, unwritable), in words."""
    detail = str(exc.orig) if exc.orig is not None else str(exc)
    lowered = detail.lower()
    kept = "Everything saved before is kept."
    if "full" in lowered:
        return DatabaseError(
            f"The disk holding {where} is full.", hint=f"Free some space, then try again. {kept}"
        )
    if "locked" in lowered or "busy" in lowered:
        return DatabaseError(
            f"The database {where} is busy: another program is writing to it.",
            hint="Close the other FocusDesk (or wait a moment), then try again.",
        )
    if "i/o" in lowered or "readonly" in lowered or "read-only" in lowered:
        return DatabaseError(
            f"FocusDesk could not write to {where} ({detail}).",
            hint=f"The disk may be full, read-only or failing. Free some space, then try "
            f"again. {kept}",
        )
    return DatabaseError(f"The database {where} could not be used: {detail}")


class Store:
    """Owns the engine and hands out sessions; one per profile."""

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if auto_migrate:
            try:
                migrate(self.engine)
            except OperationalError as exc:
                raise DatabaseError(
                    f"The database {url} could not be opened or upgraded: {exc.orig}",
                    hint="Another FocusDesk may be using it, or the disk may be full.",
                ) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            with contextlib.suppress(Exception):
                session.rollback()
            raise database_error(exc, self.location) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def location(self) -> str:
        """The database as named to the user: its file for SQLite, else its URL."""
        return self.url.removeprefix("sqlite:///")

    def has_fts(self) -> bool:
        """Whether the FTS5 keyword index exists (SQLite only)."""
        if self.engine.dialect.name != "sqlite":
            return False
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'items_fts'")).first()
        return row is not None

    def close(self) -> None:
        """Release the connections (and the WAL files)."""
        self.engine.dispose()
