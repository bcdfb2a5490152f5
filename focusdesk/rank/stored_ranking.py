"""The last inbox ranking, stored with what it was computed from, and read without torch.

The inbox's ranking (every active goal, every live item, a conversation one row) is
written after each computation to one file in the profile's cache folder, whole
or not at all (a temporary file, then a rename: a process killed while it writes
leaves the previous ranking in place). Beside the rows it keeps their *basis*, a
cheap fingerprint of everything the ranking was computed from: the items and chunks
(counts and highest ids; chunk ids are never reused and a vanished item loses its
chunks), the statuses that split conversations (done, dismissed, snoozed), the vector
index's manifest, the goals, the feedback, the scorer version in use, the settings
that rank, the encoder's model id, the app's version, the database schema and this
file's format. Working it out takes a few aggregate queries over indexes, two small
JSON files and the CPU's flags: torch, sentence-transformers and faiss stay unloaded.

A stored ranking is *current* when its basis equals today's and it is younger than
``MAX_AGE``. Either way its rows can be shown at once; one that is not current is
recomputed (in the background by the app, first by ``focusdesk rank``). Rows are
checked against the items' statuses as they are read: a row whose item is gone or
vanished is dropped, one whose status changed carries the new status.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, text

from focusdesk import __version__
from focusdesk.records import RankedItem
from focusdesk.settings import Settings
from focusdesk.store.db import Store
from focusdesk.store.models import Item

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""The stored file's layout; a file of another version is never read as a ranking."""
RANKING_FILE = "inbox.json"
MAX_AGE = timedelta(hours=1)
"""A stored ranking older than this counts as changed (shown, then recomputed): the
recency prior moves every score with the clock, and in an hour a feed item (half-life
3 days) loses about 1 % of its recency boost, too little to reorder the top rows
noticeably, while a day-old ranking would be visibly stale."""
UNRANKED_SETTINGS = frozenset(
    {
        "encode_batch_size",
        "top_k",
        "focus_top_k",
        "focus_floor_minutes",
        "allocation_temperature",
        "sync_interval_minutes",
        "feed_sync_interval_minutes",
        "dismissed_retention_days",
        "theme",
        "high_attention_score",
        "notify_high_attention",
        "learning_enabled",
        "learn_after_signals",
        "learn_quiet_seconds",
        "remote_content_senders",
        "start_in_tray_at_login",
    }
)
"""Settings that cannot change the inbox's ranking; every other one is part of the basis
(so a setting added later counts as one that ranks until it is listed here)."""
UNRANKED_SIGNALS = ("open",)
"""Feedback that is part of the basis is every signal but these: reading an item records
an ``open``, and reading must not make the ranking stale (the ranking learns from
feedback only through a new scorer version, which is part of the basis too)."""
INDEX_MANIFEST = "chunks.json"
"""``focusdesk.rank.index.MANIFEST_FILE``, named here so that reading it needs no numpy
(a test pins the two together)."""
STALE_TEMP_SECONDS = 3600.0
"""A temporary ranking file this much older than its last write was left by a process
killed while writing; the next save removes it (a younger one may be another process's
write in progress: the app and the CLI can both rank)."""
CONVERSATION_STATUSES = ("done", "dismissed", "snoozed")
"""Statuses that split a conversation's row (``store.threads.status_group``); new and
read share one, so reading an item does not change the ranking."""


@dataclass(frozen=True)
class InboxRanking:
    """A ranking of the inbox, stored or just computed."""

    items: list[RankedItem]
    computed_at: datetime
    """When its computation started (aware UTC)."""
    current: bool
    """Whether nothing it was computed from changed since (and it is not too old)."""
    why_not_current: str = ""
    """What changed, in words (empty when current)."""
    pinned: frozenset[int] | None = None
    """Which of its items are pinned, when read with it (None: not read)."""


def ranking_file(cache_dir: Path) -> Path:
    """Where a profile's stored inbox ranking lives."""
    return cache_dir / "ranking" / RANKING_FILE


# -- what a ranking is computed from -----------------------------------------------------------
_COUNTS = text(
    "SELECT (SELECT count(*) FROM items), (SELECT max(id) FROM items),"
    " (SELECT count(*) FROM chunks), (SELECT max(id) FROM chunks),"
    " (SELECT max(id) FROM feedback WHERE signal NOT IN :unranked),"
    " (SELECT max(id) FROM scorer_versions WHERE active),"
    " (SELECT max(version_num) FROM alembic_version)"
).bindparams(bindparam("unranked", expanding=True))
_STATUSES = text(
    "SELECT status, count(*), total(id) FROM items WHERE status IN :statuses"
    " GROUP BY status ORDER BY status"
).bindparams(bindparam("statuses", expanding=True))
_GOALS = text("SELECT id, title, description, weight, active FROM goals ORDER BY id")


def store_basis(store: Store, settings: Settings) -> dict[str, Any]:
    """The part of the basis read from the store and the settings (no model, no index):
    three plain statements over indexes (a few ms on 100,000 items)."""
    with store.session() as s:
        items, last_item, chunks, last_chunk, feedback, scorer, schema = s.execute(
            _COUNTS, {"unranked": list(UNRANKED_SIGNALS)}
        ).one()
        statuses = s.execute(_STATUSES, {"statuses": list(CONVERSATION_STATUSES)}).all()
        goals = s.execute(_GOALS).all()
    ranked_settings = {
        f.name: getattr(settings, f.name)
        for f in fields(settings)
        if f.name not in UNRANKED_SETTINGS
    }
    return {
        "format": FORMAT_VERSION,
        "app": __version__,
        "schema": schema,
        "items": [int(items), int(last_item or 0)],
        "statuses": [[str(st), int(n), float(total)] for st, n, total in statuses],
        "chunks": [int(chunks), int(last_chunk or 0)],
        "goals": [[int(i), t, d or "", float(w), bool(a)] for i, t, d, w, a in goals],
        "feedback": int(feedback or 0),
        "scorer_version": int(scorer) if scorer is not None else None,
        "settings": json.loads(json.dumps(ranked_settings, sort_keys=True)),
    }


def index_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The saved vector index's manifest (model id, count, ids digest), or None."""
    try:
        manifest = json.loads((index_dir / INDEX_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    return {k: manifest.get(k) for k in ("version", "model_id", "count", "ids_sha256")}


def full_basis(
    db_part: Mapping[str, Any], model_id: str | None, manifest: dict[str, Any] | None
) -> dict[str, Any]:
    """The whole basis: the store's part, the encoder's model id and the index manifest."""
    return {**db_part, "model_id": model_id, "index": manifest}


def differences(stored: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The names of the basis entries that differ (a model id nobody knows yet differs)."""
    changed = [k for k in sorted(set(stored) | set(now)) if stored.get(k) != now.get(k)]
    if now.get("model_id") is None and "model_id" not in changed:
        changed.append("model_id")
    return changed


_WORDS = {
    "format": "the stored ranking's format",
    "app": "the FocusDesk version",
    "schema": "the database schema",
    "model_id": "the model",
    "index": "the vector index",
    "items": "the items",
    "statuses": "items done, dismissed or snoozed",
    "chunks": "the items' passages",
    "goals": "the goals",
    "feedback": "your feedback",
    "scorer_version": "the learnt ranking model",
    "settings": "the ranking settings",
}


def describe_changes(changed: Sequence[str]) -> str:
    """What changed, in words ("the goals and your feedback changed")."""
    words = [_WORDS.get(k, k) for k in changed]
    if not words:
        return ""
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"{listed} changed"


# -- rows <-> JSON ----------------------------------------------------------------------------
def row_to_json(item: RankedItem) -> dict[str, Any]:
    """Every field of a ranked row, exactly (``row_from_json`` reads it back equal)."""
    return {
        "item_id": item.item_id,
        "source_id": item.source_id,
        "source_kind": item.source_kind,
        "source_name": item.source_name,
        "external_id": item.external_id,
        "title": item.title,
        "author": item.author,
        "published_at": item.published_at.isoformat() if item.published_at else None,
        "status": item.status,
        "score": item.score,
        "goal_id": item.goal_id,
        "goal_title": item.goal_title,
        "evidence": item.evidence,
        "evidence_span": list(item.evidence_span) if item.evidence_span else None,
        "goal_scores": _by_goal(item.goal_scores),
        "matched_facet": item.matched_facet,
        "relevance": item.relevance,
        "priors": dict(item.priors),
        "story_size": item.story_size,
        "story_item_ids": list(item.story_item_ids),
        "story_titles": list(item.story_titles),
        "calibrated": _by_goal(item.calibrated),
        "percentile": _by_goal(item.percentile),
        "thread_size": item.thread_size,
        "thread_item_ids": list(item.thread_item_ids),
    }


def row_from_json(row: Mapping[str, Any]) -> RankedItem:
    """The ranked row ``row_to_json`` wrote."""
    published = row["published_at"]
    span = row["evidence_span"]
    return RankedItem(
        item_id=int(row["item_id"]),
        source_id=int(row["source_id"]),
        source_kind=str(row["source_kind"]),
        source_name=str(row["source_name"]),
        external_id=str(row["external_id"]),
        title=str(row["title"]),
        author=row["author"],
        published_at=datetime.fromisoformat(published) if published else None,
        status=str(row["status"]),
        score=float(row["score"]),
        goal_id=row["goal_id"],
        goal_title=row["goal_title"],
        evidence=str(row["evidence"]),
        evidence_span=(int(span[0]), int(span[1])) if span else None,
        goal_scores=_goal_keys(row["goal_scores"]),
        matched_facet=row["matched_facet"],
        relevance=float(row["relevance"]),
        priors={str(k): float(v) for k, v in row["priors"].items()},
        story_size=int(row["story_size"]),
        story_item_ids=tuple(int(i) for i in row["story_item_ids"]),
        story_titles=tuple(str(t) for t in row["story_titles"]),
        calibrated=_goal_keys(row["calibrated"]),
        percentile=_goal_keys(row["percentile"]),
        thread_size=int(row["thread_size"]),
        thread_item_ids=tuple(int(i) for i in row["thread_item_ids"]),
    )


def _by_goal(values: Mapping[int, float]) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items()}


def _goal_keys(values: Mapping[str, Any]) -> dict[int, float]:
    return {int(k): float(v) for k, v in values.items()}


# -- the file -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredRanking:
    """A ranking with its basis, when it was computed and its rows: as read from its file,
    or just computed and not stored yet (``RankingService.compute_inbox``)."""

    basis: dict[str, Any]
    computed_at: datetime
    items: list[RankedItem]


YIELD_EVERY = 50
"""Rows written between two explicit yields of the GIL (see ``save_ranking``)."""


def save_ranking(
    path: Path, basis: Mapping[str, Any], computed_at: datetime, items: Iterable[RankedItem]
) -> None:
    """Write a ranking whole or not at all (a temporary file beside it, then a rename).

    JSON Lines: a header (format, time, basis), then one row per line. Each line is encoded
    on its own, and the writer yields the GIL every ``YIELD_EVERY`` rows, so a worker
    writing 10,000 rows never keeps the UI thread waiting (it keeps painting)."""
    header = {"format": FORMAT_VERSION, "computed_at": computed_at.isoformat(), "basis": basis}
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".inbox-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_line(header))
            for n, item in enumerate(items, 1):
                fh.write(_line(row_to_json(item)))
                if n % YIELD_EVERY == 0:
                    time.sleep(0)  # let a waiting thread (the UI's) take the GIL now
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_stale_temps(folder: Path) -> None:
    """Remove temporary files that killed writers left behind (file times are wall time)."""
    now = time.time()
    for temp in folder.glob(".inbox-*.tmp"):
        try:
            if now - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                temp.unlink()
        except OSError:  # gone meanwhile, or not ours to remove: harmless either way
            continue


def _line(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def load_ranking(path: Path) -> StoredRanking | None:
    """The ranking stored at ``path``; None when there is none, or it is damaged or of
    another format (it is then never shown: the next ranking replaces it)."""
    try:
        fh = path.open(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("The stored ranking %s could not be read (%s)", path, exc)
        return None
    try:
        with fh:
            header = json.loads(fh.readline())
            if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
                log.info("The stored ranking %s is of another format; it is not used", path)
                return None
            computed_at = datetime.fromisoformat(header["computed_at"])
            basis = header["basis"]
            if not isinstance(basis, dict) or computed_at.tzinfo is None:
                raise ValueError("no basis or no time zone")
            items = [row_from_json(json.loads(line)) for line in fh]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        log.warning("The stored ranking %s is damaged (%s); it is not used", path, exc)
        return None
    return StoredRanking(basis, computed_at, items)


def with_current_statuses(
    store: Store, items: list[RankedItem]
) -> tuple[list[RankedItem], frozenset[int]]:
    """``items`` without the rows whose item is gone or vanished, each with its status now;
    and which of them are pinned (read in the same pass, by primary key)."""
    ids = [r.item_id for r in items]
    now: dict[int, str] = {}
    pinned: set[int] = set()
    with store.session() as s:
        for a in range(0, len(ids), 500):
            for i, status, pin in s.execute(
                select(Item.id, Item.status, Item.pinned).where(
                    Item.id.in_(ids[a : a + 500]), Item.vanished.is_(False)
                )
            ):
                now[int(i)] = str(status)
                if pin:
                    pinned.add(int(i))
    rows = [
        r if now[r.item_id] == r.status else replace(r, status=now[r.item_id])
        for r in items
        if r.item_id in now
    ]
    return rows, frozenset(pinned)


def judge(
    stored: StoredRanking, basis_now: Mapping[str, Any], now: datetime, max_age: timedelta = MAX_AGE
) -> tuple[bool, str]:
    """(current, what changed in words) of a stored ranking against today's basis."""
    changed = differences(stored.basis, basis_now)
    if changed:
        return False, describe_changes(changed)
    age = now - stored.computed_at
    if age > max_age or age < -max_age:  # a clock set back counts as changed too
        return False, f"it is more than {max_age.total_seconds() / 60:.0f} minutes old"
    return True, ""
