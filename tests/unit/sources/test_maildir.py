from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from focusdesk.errors import SourceError
from focusdesk.sources.base import Ingester, IngestFailure, RawItem
from focusdesk.sources.maildir import MaildirIngester, parse_flags

if TYPE_CHECKING:
    from focusdesk.app import FocusDesk

CORPORA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "corpora" / "mail"


def mail(mid: str | None, subject: str, body: str = "Hello.") -> bytes:
    headers = f"From: Ann <ann@example.com>\nSubject: {subject}\n"
    if mid is not None:
        headers += f"Message-ID: {mid}\n"
    return f"{headers}\n{body}\n".encode()


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def put(folder: Path, sub: str, name: str, data: bytes) -> Path:
    path = folder / sub / name
    path.write_bytes(data)
    return path


def scan(ingester: MaildirIngester, state: dict[str, object] | None = None) -> list[object]:
    return list(ingester.scan(state or {}))


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every path under ``root`` with its mtime and content (files) — to prove no writes."""
    out: dict[str, tuple[int, bytes]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        out[str(path.relative_to(root))] = (
            info.st_mtime_ns,
            path.read_bytes() if path.is_file() else b"",
        )
    return out


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    root = make_maildir(tmp_path / "Mail")
    put(root, "cur", "1700000001.M1P1.host,S=100:2,RS", mail("<a@x>", "Replied and seen"))
    put(root, "new", "1700000002.M2P2.host", mail("<b@x>", "Brand new"))
    put(root, "tmp", "1700000003.M3P3.host", mail("<c@x>", "Still being delivered"))
    put(root, "cur", ".hidden", mail("<d@x>", "A dot file"))
    work = make_maildir(root / ".Work.Projects")
    put(work, "cur", "1700000004.M4P4.host:2,F", mail(None, "Flagged without an id", "Plan."))
    drafts = make_maildir(root / ".Entw&APw-rfe")
    put(drafts, "cur", "1700000005.M5P5.host:2,D", mail("<e@x>", "A draft"))
    (root / ".not-a-folder").write_text("ignored")
    backdate(root)
    return root


def backdate(root: Path, seconds: int = 60) -> None:
    """Make every folder look last changed a while ago (delivered mail, then quiet)."""
    old = time.time_ns() - seconds * 1_000_000_000
    for path in [root, *root.rglob("*")]:
        if path.is_dir():
            os.utime(path, ns=(old, old))


def test_reads_cur_new_and_subfolders_but_never_tmp(maildir: Path) -> None:
    ingester = MaildirIngester(maildir)
    as_protocol: Ingester = ingester
    assert as_protocol.kind == "maildir"
    items = [r for r in scan(ingester) if isinstance(r, RawItem)]
    by_title = {i.title: i for i in items}
    assert sorted(by_title) == [
        "A draft",
        "Brand new",
        "Flagged without an id",
        "Replied and seen",
    ]
    seen = by_title["Replied and seen"]
    assert seen.external_id == "<a@x>"
    assert seen.meta["folder"] == "INBOX"
    assert seen.meta["maildir_flags"] == "RS"
    assert seen.meta["flags"] == ["\\Answered", "\\Seen"]
    assert by_title["Brand new"].meta["flags"] == []
    assert by_title["Brand new"].meta["maildir_subdir"] == "new"
    flagged = by_title["Flagged without an id"]
    assert flagged.external_id.startswith("sha256:")
    assert flagged.meta["folder"] == "Work/Projects"
    assert flagged.meta["flags"] == ["\\Flagged"]
    assert by_title["A draft"].meta["folder"] == "Entwürfe"  # modified UTF-7 decoded
    assert ingester.result.complete is True
    assert ingester.result.state["count"] == 4


def test_scanning_never_writes_to_the_maildir(maildir: Path) -> None:
    before = snapshot(maildir)
    ingester = MaildirIngester(maildir)
    scan(ingester)
    scan(ingester, ingester.result.state)
    assert snapshot(maildir) == before  # nothing moved from new/ to cur/, no flag changed


def test_an_unchanged_maildir_is_not_read_again_and_a_change_is_seen(maildir: Path) -> None:
    ingester = MaildirIngester(maildir)
    scan(ingester)
    state = ingester.result.state
    assert scan(ingester, state) == []
    assert ingester.result.unchanged is True
    assert ingester.result.complete is False
    put(maildir, "new", "1700000009.M9P9.host", mail("<z@x>", "Later"))
    items = [r for r in scan(ingester, state) if isinstance(r, RawItem)]
    assert "<z@x>" in {i.external_id for i in items}
    assert ingester.result.unchanged is False
    # new/ changed a moment ago and may change again within its mtime tick: not trusted.
    assert ingester.result.state["dirs"] == {}
    scan(ingester, ingester.result.state)
    assert ingester.result.unchanged is False


def test_flag_suffixes() -> None:
    assert parse_flags("123.M1P1.host,S=10:2,FRS") == "FRS"
    assert parse_flags("123.M1P1.host,S=10;2,RDF,") == "RDF"  # ';' where ':' is not allowed
    assert parse_flags("123.M1P1.host!2,Sa") == "Sa"
    assert parse_flags("123.M1P1.host") == ""
    assert parse_flags("123.M1P1.host:2,") == ""


def test_bad_files_are_counted_failures_not_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_maildir(tmp_path / "Mail")
    put(root, "cur", "1.empty:2,", b"")
    put(root, "cur", "2.binary:2,", bytes(range(256)) * 8)
    put(root, "cur", "3.good:2,S", mail("<ok@x>", "Fine"))
    locked = put(root, "cur", "4.locked:2,S", mail("<locked@x>", "Unreadable"))
    real_open = Path.open

    def guarded_open(self: Path, *args: object, **kwargs: object) -> object:
        if self == locked:  # root reads any file, so pretend the permission is missing
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", guarded_open)
    results = scan(MaildirIngester(root))
    failures = {f.ref: f.reason for f in results if isinstance(f, IngestFailure)}
    assert [i.external_id for i in results if isinstance(i, RawItem)] == ["<ok@x>"]
    assert failures == {
        "cur/1.empty:2,": "the message is empty",
        "cur/2.binary:2,": "the data is not an email message (no headers, binary content)",
        "cur/4.locked:2,S": "the file could not be read: Permission denied",
    }


def test_two_different_messages_with_one_message_id_are_both_kept(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Mail")
    put(root, "cur", "1.a:2,S", mail("<same@x>", "First"))
    put(root, "cur", "2.b:2,S", mail("<same@x>", "Second, different"))
    put(root, "cur", "3.c:2,S", mail("<same@x>", "First"))  # an identical copy
    items = [r for r in scan(MaildirIngester(root)) if isinstance(r, RawItem)]
    ids = [i.external_id for i in items]
    assert ids[0] == ids[2] == "<same@x>"  # the copy is the same item (stored once)
    assert ids[1].startswith("<same@x>#dup-")
    assert items[1].meta["duplicate_of"] == "<same@x>"


def test_not_a_maildir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        scan(MaildirIngester(tmp_path / "missing"))
    (tmp_path / "plain").mkdir()
    with pytest.raises(SourceError, match="not a Maildir"):
        scan(MaildirIngester(tmp_path / "plain"))
    (tmp_path / "file.mbox").write_text("From x\n")
    with pytest.raises(SourceError, match="not a Maildir"):
        scan(MaildirIngester(tmp_path / "file.mbox"))


def test_sync_through_the_app_and_deleted_mail_vanishes(fd: FocusDesk, maildir: Path) -> None:
    info = fd.sources.add("maildir", str(maildir))
    assert info.kind == "maildir"
    assert info.name == "Mail"
    first = fd.sources.sync().reports[0]
    assert (first.added, first.failed, first.error) == (4, 0, None)
    again = fd.sources.sync().reports[0]
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    # A mail program moves a message from new/ to cur/ and marks it seen: same item.
    (maildir / "new" / "1700000002.M2P2.host").rename(maildir / "cur" / "1700000002.M2P2.host:2,S")
    moved = fd.sources.sync().reports[0]
    assert (moved.added, moved.removed) == (0, 0)
    (maildir / "cur" / "1700000001.M1P1.host,S=100:2,RS").unlink()
    gone = fd.sources.sync().reports[0]
    assert gone.removed == 1
    assert fd.sources.get(info.id).item_count == 3


def test_adding_something_that_is_not_a_maildir_is_refused(fd: FocusDesk, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="not a Maildir"):
        fd.sources.add("maildir", str(tmp_path / "empty"))


def test_cli_adds_a_maildir(maildir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from focusdesk.cli import main

    assert main(["sources", "add", "maildir", str(maildir)]) == 0
    assert "Added maildir source 1: Mail" in capsys.readouterr().out


# -- real-world corpora ------------------------------------------------------------------
def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not found at {path}")
    return path


def test_the_maildir_corpus_ingests_or_fails_cleanly() -> None:
    root = require(CORPORA / "maildir")
    files = [p for p in root.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")]
    ingester = MaildirIngester(root)
    results = scan(ingester)
    items = [r for r in results if isinstance(r, RawItem)]
    failures = [r for r in results if isinstance(r, IngestFailure)]
    print(f"maildir corpus: {len(items)} ingested, {len(failures)} failed of {len(files)} files")
    assert len(items) + len(failures) == len(files) == 6
    assert Counter(i.meta["folder"] for i in items) == {
        "INBOX": 2,
        "My Folder": 2,
        "My Folder/Nested Folder": 2,
    }
    flags = sorted(i.meta["maildir_flags"] for i in items)
    assert flags == sorted(["STln", "Sb", "TDR", "", "FP", "RDF"])
    assert ingester.result.complete is True


def test_the_eml_corpus_as_a_maildir_ingests_or_fails_cleanly(tmp_path: Path) -> None:
    source = require(CORPORA / "eml")
    files = sorted(source.rglob("*.eml"))
    root = make_maildir(tmp_path / "Mail")
    for n, path in enumerate(files):
        shutil.copyfile(path, root / "cur" / f"{1700000000 + n}.M{n}P1.{path.parent.name}:2,S")
    results = scan(MaildirIngester(root))
    items = [r for r in results if isinstance(r, RawItem)]
    failures = [r for r in results if isinstance(r, IngestFailure)]
    print(f"eml corpus as a Maildir: {len(items)} ingested, {len(failures)} failed")
    for failure in failures:
        print(f"  failed {failure.ref}: {failure.reason}")
    assert len(items) + len(failures) == len(files)
    assert len(items) >= len(files) * 0.9
    for item in items:
        assert item.title
        for text in (item.title, item.text, item.body, item.author or ""):
            text.encode("utf-8")  # nothing the store cannot keep


# -- nested folder layouts (mbsync, notmuch) ---------------------------------------------
NESTED = Path(__file__).resolve().parents[2] / "data" / "mail" / "maildir-nested"


def test_nested_folders_without_a_leading_dot_are_read(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    shutil.copytree(NESTED, root)
    ingester = MaildirIngester(root)
    items = [r for r in scan(ingester) if isinstance(r, RawItem)]
    assert {i.title: i.meta["folder"] for i in items} == {
        "In the inbox": "INBOX",
        "New in the inbox": "INBOX",
        "At work": "Work",
        "A project": "Work/Projects",
        "Archived in 2024": "archive/2024",
        "A draft": "Work/Drafts",
        "On a list": "Lists/Python",
    }
    assert ingester.result.complete is True
    assert ingester.result.state["count"] == 7


def test_a_nested_layout_can_be_added_as_a_source(fd: FocusDesk, tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    shutil.copytree(NESTED, root)
    info = fd.sources.add("maildir", str(root))
    report = fd.sources.sync().reports[0]
    assert (report.added, report.failed, report.error) == (7, 0, None)
    assert fd.sources.get(info.id).item_count == 7


def test_a_folder_that_cannot_be_read_makes_the_scan_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "Mail"
    shutil.copytree(NESTED, root)
    locked = {str(root / "Work" / "Projects"), str(root / "archive" / "2024" / "cur")}
    real_scandir = os.scandir

    def guarded_scandir(path: str | os.PathLike[str]) -> object:
        if os.fspath(path) in locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    import focusdesk.sources.maildir as maildir_module

    monkeypatch.setattr(maildir_module.os, "scandir", guarded_scandir)
    ingester = MaildirIngester(root)
    results = scan(ingester)
    titles = {r.title for r in results if isinstance(r, RawItem)}
    assert "A project" not in titles
    assert "Archived in 2024" not in titles
    assert "At work" in titles
    failures = {f.ref: f.reason for f in results if isinstance(f, IngestFailure)}
    assert failures == {
        "Work/Projects": "the folder could not be read: Permission denied",
        "archive/2024/cur": "the folder could not be read: Permission denied",
    }
    assert ingester.result.complete is False  # nothing may be marked vanished


def test_a_folder_symlinked_into_itself_is_read_once(tmp_path: Path) -> None:
    root = tmp_path / "Mail"
    shutil.copytree(NESTED, root)
    (root / "Work" / "loop").symlink_to(root, target_is_directory=True)
    ingester = MaildirIngester(root)
    items = [r for r in scan(ingester) if isinstance(r, RawItem)]
    assert len(items) == 7
    assert ingester.result.complete is True


def test_names_that_are_not_utf8_come_out_as_valid_text(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Mail")
    folder = make_maildir(Path(os.fsdecode(bytes(root) + b"/.Caf\xe9")))
    put(folder, "cur", "1.a:2,S", mail("<a@x>", "In a Latin-1 folder"))
    put(root, "cur", os.fsdecode(b"2.\xff:2,S"), b"")
    results = scan(MaildirIngester(root))
    (item,) = [r for r in results if isinstance(r, RawItem)]
    assert item.meta["folder"] == "Café"
    (failure,) = [r for r in results if isinstance(r, IngestFailure)]
    for text in (failure.ref, failure.reason, item.meta["folder"]):
        text.encode("utf-8")
