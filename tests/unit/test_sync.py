"""The sync pipeline on a real SQLite profile, with the fake encoder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from focusdesk.app import FocusDesk
from focusdesk.errors import KnownError


def _vault(root: Path) -> Path:
    root.mkdir()
    (root / "firmware.md").write_text(
        "---\ntitle: Firmware release\ntags: [firmware]\n---\n# Plan\n\n"
        "Ship the low power firmware with BLE and OTA updates.\n"
    )
    (root / "recipes.md").write_text("# Soup\n\nOnions, leeks and potatoes simmered slowly.\n")
    (root / "hiring.txt").write_text("Interview embedded engineers for the firmware team.\n")
    return root


def test_first_sync_adds_chunks_and_encodes(fd: FocusDesk, tmp_path: Path) -> None:
    src = fd.sources.add("notes", str(_vault(tmp_path / "vault")))
    summary = fd.sources.sync()
    report = summary.reports[0]
    assert (report.added, report.updated, report.removed, report.failed) == (3, 0, 0, 0)
    assert summary.chunks_encoded >= 3
    assert fd.sources.get(src.id).item_count == 3
    assert fd.sources.get(src.id).last_sync_at is not None
    assert len(fd.index) == fd.counts()["chunks"]


def test_second_sync_adds_updates_and_encodes_nothing(
    fd: FocusDesk, tmp_path: Path, fake_encoder: object
) -> None:
    fd.sources.add("notes", str(_vault(tmp_path / "vault")))
    fd.sources.sync()
    encoded_before = fake_encoder.encoded  # type: ignore[attr-defined]
    summary = fd.sources.sync()
    r = summary.reports[0]
    assert (r.added, r.updated, r.removed) == (0, 0, 0)
    assert r.unchanged == 3
    assert summary.chunks_encoded == 0
    assert summary.items_chunked == 0
    assert fake_encoder.encoded == encoded_before  # type: ignore[attr-defined]


def test_changed_and_deleted_files_propagate(fd: FocusDesk, tmp_path: Path) -> None:
    vault = _vault(tmp_path / "vault")
    fd.sources.add("notes", str(vault))
    fd.goals.add("soup recipes with leeks")
    fd.sources.sync()
    (vault / "recipes.md").write_text("# Soup\n\nTomato soup with basil.\n")
    (vault / "hiring.txt").unlink()
    summary = fd.sources.sync()
    r = summary.reports[0]
    assert (r.added, r.updated, r.removed) == (0, 1, 1)
    titles = [x.title for x in fd.ranking.rank()]
    assert len(titles) == 2
    assert "hiring" not in " ".join(titles).lower()
    assert len(fd.index) == fd.counts()["chunks"]
    # The deleted note comes back when the file does.
    (vault / "hiring.txt").write_text("Interview embedded engineers for the firmware team.\n")
    assert fd.sources.sync().reports[0].added == 1
    assert len(fd.ranking.rank()) == 3


def test_the_notes_folder_is_never_written(fd: FocusDesk, tmp_path: Path) -> None:
    vault = _vault(tmp_path / "vault")
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in vault.rglob("*")}
    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    fd.sources.sync()
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in vault.rglob("*")}
    assert before == after


def test_a_broken_source_does_not_stop_the_others(fd: FocusDesk, tmp_path: Path) -> None:
    mbox = tmp_path / "gone.mbox"
    mbox.write_text("")
    broken = fd.sources.add("mbox", str(mbox))
    fd.sources.add("notes", str(_vault(tmp_path / "vault")))
    mbox.unlink()
    summary = fd.sources.sync()
    errors = {r.source_id: r.error for r in summary.reports}
    assert errors[broken.id]
    assert "gone.mbox" in errors[broken.id]
    assert summary.total("added") == 3
    assert fd.sources.get(broken.id).last_error == errors[broken.id]


def test_ranking_puts_the_relevant_note_first(fd: FocusDesk, tmp_path: Path) -> None:
    fd.sources.add("notes", str(_vault(tmp_path / "vault")))
    fd.sources.sync()
    fd.goals.add("firmware release with low power BLE and OTA updates")
    ranked = fd.ranking.rank()
    assert ranked[0].title == "Firmware release"
    assert ranked[0].goal_title.startswith("firmware release")
    assert "BLE" in ranked[0].evidence
    assert ranked[0].score > ranked[-1].score


def test_rank_without_goals_is_a_clear_error(fd: FocusDesk) -> None:
    with pytest.raises(KnownError, match="no active goals"):
        fd.ranking.rank()


def test_index_on_disk_is_rebuilt_when_it_disagrees(fd: FocusDesk, tmp_path: Path) -> None:
    fd.sources.add("notes", str(_vault(tmp_path / "vault")))
    fd.sources.sync()
    ids = np.sort(fd.index.ids)
    for f in fd.paths.index_dir.iterdir():
        os.remove(f)
    reopened = FocusDesk(fd.paths, encoder=fd.encoder)
    np.testing.assert_array_equal(np.sort(reopened.index.ids), ids)
    assert any(fd.paths.index_dir.iterdir())
    reopened.close()


def test_removing_a_source_removes_items_and_vectors(fd: FocusDesk, tmp_path: Path) -> None:
    src = fd.sources.add("notes", str(_vault(tmp_path / "vault")))
    fd.sources.sync()
    assert len(fd.index) > 0
    fd.sources.remove(src.id)
    assert fd.counts()["items"] == 0
    assert len(fd.index) == 0


def test_adding_the_same_source_twice_is_refused(fd: FocusDesk, tmp_path: Path) -> None:
    vault = _vault(tmp_path / "vault")
    fd.sources.add("notes", str(vault))
    with pytest.raises(KnownError, match="already added"):
        fd.sources.add("notes", str(vault))
    with pytest.raises(KnownError, match="does not exist"):
        fd.sources.add("notes", str(tmp_path / "nope"))


def test_an_edited_note_is_ranked_on_its_new_text(fd: FocusDesk, tmp_path: Path) -> None:
    # The note synced last holds the highest chunk ids; re-chunking it must not hand the
    # same ids to its new passages, or the index would keep the old vectors under them.
    from focusdesk.rank.passages import load_vectors

    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "a.md").write_text("# Garden\n\nTomatoes need staking in June.\n")
    fd.sources.add("notes", str(vault))
    fd.sources.sync()
    (vault / "z.md").write_text("# Soup\n\nOnions, leeks and potatoes simmered slowly.\n")
    fd.sources.sync()
    fd.goals.add("bicycle gears and derailleur repair")
    old_ids = set(fd.index.ids.tolist())
    (vault / "z.md").write_text("# Bicycle\n\nAdjust the derailleur gears before the ride.\n")
    assert fd.sources.sync().reports[0].updated == 1

    ids, vectors = load_vectors(fd.store, fd.index.model_id)
    assert set(ids.tolist()) - old_ids, "the edited note's passages got fresh ids"
    np.testing.assert_allclose(fd.index.vectors[fd.index.positions(ids)], vectors, atol=1e-3)
    top = fd.ranking.rank()[0]
    assert top.title == "Bicycle"
    assert "derailleur" in (top.evidence or "")


def test_failed_items_are_kept_on_the_source_until_they_are_read(
    fd: FocusDesk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from focusdesk.cli import main

    vault = _vault(tmp_path / "vault")
    with (vault / "huge.md").open("wb") as fh:  # sparse: 17 MiB on paper, nothing on disk
        fh.truncate(17 * 1024 * 1024)
    src = fd.sources.add("notes", str(vault))
    assert fd.sources.sync().reports[0].failed == 1
    reason = "the note could not be read: the note is larger than 16 MiB"
    info = fd.sources.get(src.id)
    assert (info.item_count, info.failed, info.failures) == (3, 1, (("huge.md", reason),))
    assert main(["sources", "list"]) == 0
    assert f"1 item(s) could not be read or saved:\n       huge.md: {reason}\n" in (
        capsys.readouterr().out
    )

    (vault / "huge.md").unlink()
    assert fd.sources.sync().reports[0].failed == 0
    info = fd.sources.get(src.id)
    assert (info.item_count, info.failed, info.failures) == (3, 0, ())
    assert main(["sources", "list"]) == 0
    assert "could not be read" not in capsys.readouterr().out


def test_a_note_whose_name_is_not_utf8_does_not_cost_its_siblings(
    fd: FocusDesk, tmp_path: Path
) -> None:
    vault = _vault(tmp_path / "vault")
    with open(os.path.join(os.fsencode(vault), b"caf\xe9 menu.md"), "wb") as fh:
        fh.write(b"# Menu\n\nSoup of the day.\n")
    src = fd.sources.add("notes", str(vault))
    for _ in range(2):  # and again on the next sync
        report = fd.sources.sync().reports[0]
        assert report.error is None
        info = fd.sources.get(src.id)
        # Every sibling is stored; the odd one is stored too, or listed with its reason.
        assert info.item_count + info.failed == 4
        assert info.item_count >= 3
        assert len(info.failures) == info.failed
        assert all("caf" in ref and reason for ref, reason in info.failures)


def test_a_database_error_while_reading_stops_the_sync(
    fd: FocusDesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk or a locked database is about every source, not the one being read:
    # the sync stops with its message instead of going on to the next source (the
    # encode stage writes meanwhile, and may find room the reader did not).
    import focusdesk.sync as sync
    from focusdesk.errors import DatabaseError

    first = fd.sources.add("notes", str(_vault(tmp_path / "a")))
    second = fd.sources.add("notes", str(_vault(tmp_path / "b")))

    def full(*_: object, **__: object) -> set[str]:
        raise DatabaseError("FocusDesk could not write to the database (disk I/O error).")

    monkeypatch.setattr(sync, "ingest", full)
    with pytest.raises(DatabaseError, match="disk I/O error"):
        fd.sources.sync()
    assert fd.sources.get(second.id).last_sync_at is None
    assert fd.sources.get(first.id).last_error is None


def test_a_sync_is_dated_by_the_desks_clock(
    fd: FocusDesk, tmp_path: Path, fake_encoder: object
) -> None:
    from datetime import UTC, datetime

    at = datetime(2020, 1, 1, 12, tzinfo=UTC)

    class Stopped:
        def now(self) -> datetime:
            return at

        def monotonic(self) -> float:
            return 0.0

    desk = FocusDesk(fd.paths, encoder=fake_encoder, clock=Stopped())  # type: ignore[arg-type]
    try:
        src = desk.sources.add("notes", str(_vault(tmp_path / "vault")))
        desk.sources.sync()
        synced_at = desk.sources.get(src.id).last_sync_at
        assert synced_at is not None
        assert synced_at.replace(tzinfo=UTC) == at
    finally:
        desk.close()
