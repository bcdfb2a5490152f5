"""The stored inbox ranking: read back exactly, current only while nothing it was computed
from changed, rows checked against today's statuses, damage and other formats never used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fakes import FakeEncoder, ManualClock

from focusdesk.app import FocusDesk
from focusdesk.paths import resolve_paths
from focusdesk.rank.stored_ranking import (
    FORMAT_VERSION,
    MAX_AGE,
    load_ranking,
    row_from_json,
    row_to_json,
)
from focusdesk.store.models import ScorerVersion

NOTES = {
    "firmware.md": "# Firmware release\n\nThe bootloader flash update for the radio firmware.",
    "radio.md": "# Radio tests\n\nFirmware of the low power radio, flash and bootloader.",
    "hiring.md": "# Hiring\n\nInterview embedded engineers for the firmware team.",
    "soup.md": "# Soup\n\nA recipe for lentil soup with cumin and lemon.",
    "garden.md": "# Garden\n\nCompost the tomatoes and water the beans.",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def desk(data_dir: Path, tmp_path: Path, clock: ManualClock) -> FocusDesk:
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, encoding="utf-8")
    fd = FocusDesk(resolve_paths(data_dir), encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]
    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    fd.goals.add("firmware bootloader flash")
    fd.goals.add("lentil soup recipe", weight=0.5)
    yield fd
    fd.close()


def reopen(fd: FocusDesk, clock: ManualClock) -> FocusDesk:
    """The same profile as another process would open it (nothing cached in memory)."""
    return FocusDesk(fd.paths, encoder=FakeEncoder(), clock=clock)  # type: ignore[arg-type]


def test_the_stored_ranking_reads_back_exactly_what_was_computed(
    desk: FocusDesk, clock: ManualClock
) -> None:
    computed = desk.ranking.rank_inbox()
    # The inbox's own ranking (the recency prior reads the wall clock: ids, not scores).
    assert [r.item_id for r in computed] == [r.item_id for r in desk.ranking.rank(None)]
    stored = reopen(desk, clock).ranking.stored_inbox()
    assert stored is not None
    assert stored.current, stored.why_not_current
    assert stored.items == computed
    assert stored.computed_at == clock.at
    assert all(row_from_json(row_to_json(r)) == r for r in computed)


def test_inbox_uses_the_stored_ranking_only_while_it_is_current(
    desk: FocusDesk, clock: ManualClock
) -> None:
    desk.ranking.rank_inbox()
    other = reopen(desk, clock)
    calls: list[object] = []
    other.ranking.rank_inbox = lambda **kw: calls.append(kw) or []  # type: ignore[method-assign]
    assert other.ranking.inbox().current
    assert calls == []
    other.ranking.inbox(fresh=True)
    assert len(calls) == 1
    other.goals.add("compost tomatoes")
    other.ranking.inbox()
    assert len(calls) == 2


def change_goal_weight(fd: FocusDesk, clock: ManualClock) -> None:
    fd.goals.update(fd.goals.all()[0].id, weight=2.0)


def add_goal(fd: FocusDesk, clock: ManualClock) -> None:
    fd.goals.add("garden beans")


def give_feedback(fd: FocusDesk, clock: ManualClock) -> None:
    fd.items.record_feedback(fd.ranking.rank(None)[0].item_id, "up")


def mark_done(fd: FocusDesk, clock: ManualClock) -> None:
    fd.triage.done(fd.ranking.rank(None)[-1].item_id)


def change_setting(fd: FocusDesk, clock: ManualClock) -> None:
    fd.settings.recency_weight = 0.2


def new_scorer_version(fd: FocusDesk, clock: ManualClock) -> None:
    with fd.store.session() as s:
        s.add(ScorerVersion(path="v0001", n_votes=3, metrics={}, accepted=True, active=True))


def add_note(fd: FocusDesk, clock: ManualClock) -> None:
    source = fd.sources.all()[0]
    (Path(source.uri) / "more.md").write_text("# More firmware\n\nflash the bootloader again")
    fd.sources.sync()


def remove_note(fd: FocusDesk, clock: ManualClock) -> None:
    source = fd.sources.all()[0]
    (Path(source.uri) / "garden.md").unlink()
    fd.sources.sync()


def time_passes(fd: FocusDesk, clock: ManualClock) -> None:
    clock.at += MAX_AGE + timedelta(minutes=1)


def edit_basis(fd: FocusDesk, key: str, value: object) -> None:
    header, *rows = fd.ranking.ranking_file.read_text().splitlines()
    data = json.loads(header)
    data["basis"][key] = value
    fd.ranking.ranking_file.write_text("\n".join([json.dumps(data), *rows]) + "\n")


def other_model(fd: FocusDesk, clock: ManualClock) -> None:
    edit_basis(fd, "model_id", "another-model:123")


def other_schema(fd: FocusDesk, clock: ManualClock) -> None:
    edit_basis(fd, "schema", "0001")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (change_goal_weight, "the goals changed"),
        (add_goal, "the goals changed"),
        (give_feedback, "your feedback changed"),
        (mark_done, "items done, dismissed or snoozed changed"),
        (change_setting, "the ranking settings changed"),
        (new_scorer_version, "the learnt ranking model changed"),
        (add_note, "changed"),
        (remove_note, "changed"),
        (time_passes, "minutes old"),
        (other_model, "the model changed"),
        (other_schema, "the database schema changed"),
    ],
)
def test_any_change_to_what_it_was_computed_from_makes_it_not_current(
    desk: FocusDesk, clock: ManualClock, change: object, words: str
) -> None:
    desk.ranking.rank_inbox()
    other = FocusDesk(desk.paths, desk.settings, FakeEncoder(), clock)  # as reopen, settings shared
    change(other, clock)  # type: ignore[operator]
    stored = other.ranking.stored_inbox()
    assert stored is not None
    assert not stored.current
    assert words in stored.why_not_current


def test_reading_an_item_keeps_it_current(desk: FocusDesk, clock: ManualClock) -> None:
    """New and read share a conversation's row: reading changes nothing of the order."""
    computed = desk.ranking.rank_inbox()
    desk.triage.open(computed[0].item_id, dwell_seconds=12.0)
    stored = reopen(desk, clock).ranking.stored_inbox()
    assert stored is not None
    assert stored.current
    assert stored.items[0].status == "read"


def test_rows_carry_todays_status_and_gone_items_are_dropped(
    desk: FocusDesk, clock: ManualClock
) -> None:
    computed = desk.ranking.rank_inbox()
    done, gone, pinned = computed[0].item_id, computed[1].item_id, computed[2].item_id
    desk.triage.done(done)
    desk.triage.pin(pinned)
    with desk.store.session() as s:
        from focusdesk.store.models import Item

        s.get(Item, gone).vanished = True
    stored = reopen(desk, clock).ranking.stored_inbox()
    assert stored is not None
    by_id = {r.item_id: r for r in stored.items}
    assert by_id[done].status == "done"
    assert gone not in by_id
    assert stored.pinned == {pinned}
    assert len(stored.items) == len(computed) - 1


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        json.dumps({"format": FORMAT_VERSION + 1, "rows": []}).encode(),
        json.dumps({"format": FORMAT_VERSION, "computed_at": "2026-03-02T09:00:00+00:00"}).encode(),
        json.dumps({"format": FORMAT_VERSION, "computed_at": "2026-03-02", "basis": {}}).encode(),
        b'{"format": 1, "computed_at": "2026-03-02T09:00:00+00:00", "basis": {}}\n{"item_id": 1}',
    ],
)
def test_a_damaged_or_foreign_file_is_never_shown_and_the_next_ranking_replaces_it(
    desk: FocusDesk, clock: ManualClock, damage: bytes
) -> None:
    desk.ranking.ranking_file.parent.mkdir(parents=True, exist_ok=True)
    desk.ranking.ranking_file.write_bytes(damage)
    assert desk.ranking.stored_inbox() is None
    assert load_ranking(desk.ranking.ranking_file) is None
    assert [r.item_id for r in desk.ranking.inbox().items] == [
        r.item_id for r in desk.ranking.rank(None)
    ]
    assert load_ranking(desk.ranking.ranking_file) is not None


def test_whether_it_is_current_is_known_without_the_ml_stack(
    desk: FocusDesk, data_dir: Path
) -> None:
    """A new process reads the stored ranking and judges it (the real encoder's model id
    from the settings, the CPU and the saved verdicts) without importing torch,
    sentence-transformers or faiss, nor even numpy."""
    desk.ranking.rank_inbox()
    code = (
        "import sys\n"
        "from focusdesk.app import FocusDesk\n"
        f"fd = FocusDesk.open({str(data_dir)!r})\n"
        "stored = fd.ranking.stored_inbox()\n"
        "assert stored is not None and stored.items\n"
        "print(stored.current, stored.why_not_current)\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'numpy') "
        "if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "HEAVY []" in out
    assert out.startswith("False the model changed")  # the fake encoder's, not the real one


def test_the_index_manifest_it_reads_is_the_one_the_index_writes() -> None:
    from focusdesk.rank.index import MANIFEST_FILE
    from focusdesk.rank.stored_ranking import INDEX_MANIFEST

    assert INDEX_MANIFEST == MANIFEST_FILE


def test_a_temporary_file_left_by_a_killed_writer_is_removed_by_the_next_save(
    desk: FocusDesk,
) -> None:
    folder = desk.ranking.ranking_file.parent
    folder.mkdir(parents=True, exist_ok=True)
    left = folder / ".inbox-killed.tmp"  # a writer killed an hour and a half ago
    left.write_text('{"format": 1', encoding="utf-8")
    os.utime(left, (left.stat().st_atime, left.stat().st_mtime - 5400))
    writing = folder / ".inbox-writing.tmp"  # another process writing right now
    writing.write_text('{"format": 1', encoding="utf-8")
    desk.ranking.inbox(fresh=True)
    assert not left.exists()
    assert writing.exists()
    assert load_ranking(desk.ranking.ranking_file) is not None
