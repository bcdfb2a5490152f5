from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest

from focusdesk.errors import SourceError
from focusdesk.sources.base import Ingester, IngestFailure, RawItem
from focusdesk.sources.mbox import MboxIngester, _split_mbox

SEPARATOR = "From sender@example.com Tue Mar  5 09:30:00 2024\n"


def message(mid: str | None, subject: str, body: str) -> str:
    headers = f"From: Ann <ann@example.com>\nSubject: {subject}\n"
    if mid is not None:
        headers += f"Message-ID: {mid}\n"
    return f"{SEPARATOR}{headers}\n{body}\n\n"


def write_mbox(path: Path, *messages: str) -> Path:
    path.write_bytes("".join(messages).encode())
    return path


def scan(ingester: MboxIngester, state: dict[str, object] | None = None) -> list[object]:
    return list(ingester.scan(state or {}))


def items_of(results: list[object]) -> list[RawItem]:
    return [r for r in results if isinstance(r, RawItem)]


def test_reads_every_message(tmp_path: Path) -> None:
    path = write_mbox(
        tmp_path / "inbox.mbox",
        message("<1@x>", "First", "one"),
        message("<2@x>", "Second", "two"),
        message("<3@x>", "Third", "three"),
    )
    ingester = MboxIngester(path)
    as_protocol: Ingester = ingester  # mypy checks the protocol
    assert as_protocol.kind == "mbox"
    items = items_of(scan(ingester))
    assert [i.title for i in items] == ["First", "Second", "Third"]
    assert [i.external_id for i in items] == ["<1@x>", "<2@x>", "<3@x>"]
    assert [i.text for i in items] == ["one", "two", "three"]
    assert all(i.kind == "email" for i in items)
    result = ingester.result
    assert result.complete is True
    assert result.unchanged is False
    info = path.stat()
    assert result.state == {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "count": 3}


def test_unchanged_mbox_is_not_read(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "inbox.mbox", message("<1@x>", "First", "one"))
    ingester = MboxIngester(path)
    scan(ingester)
    state = ingester.result.state
    assert scan(ingester, state) == []
    assert ingester.result.unchanged is True
    assert ingester.result.state == state
    assert ingester.result.complete is False  # nothing seen: nothing may be marked vanished


def test_changed_mbox_is_read_again(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "inbox.mbox", message("<1@x>", "First", "one"))
    ingester = MboxIngester(path)
    scan(ingester)
    state = ingester.result.state
    with path.open("a") as fh:
        fh.write(message("<2@x>", "Second", "two"))
    items = items_of(scan(ingester, state))
    assert [i.external_id for i in items] == ["<1@x>", "<2@x>"]
    assert ingester.result.unchanged is False
    assert ingester.result.state["count"] == 2


def test_escaped_from_lines_in_bodies(tmp_path: Path) -> None:
    body = (
        "Plan for the week.\n"
        ">From now on we meet on Mondays.\n"
        ">>From the archive: quoted escape.\n"
        "\n"
        "The end."
    )
    path = write_mbox(tmp_path / "inbox.mbox", message("<1@x>", "Plan", body))
    (item,) = items_of(scan(MboxIngester(path)))
    assert "From now on we meet on Mondays." in item.body
    assert ">From the archive: quoted escape." in item.body
    assert "quoted escape.\n\nThe end." in item.body


def test_every_from_line_separates_as_in_pythons_mailbox(tmp_path: Path) -> None:
    # An unescaped "From " line starts a message wherever it is, with or without a date
    # or a blank line before it, as Python's mailbox (and so most tools) read it.
    body = "First line\nFrom x@y looks like a separator\nand is one"
    path = write_mbox(tmp_path / "inbox.mbox", message("<1@x>", "One", body))
    results = scan(MboxIngester(path))
    assert len(results) == len(mailbox.mbox(str(path))) == 2
    assert items_of(results)[0].body == "First line"


DATA = Path(__file__).resolve().parents[2] / "data" / "mail"
CRAFTED = sorted(p.name for p in DATA.glob("*.mbox") if p.name != "bom-start.mbox")


@pytest.mark.parametrize("name", CRAFTED)
def test_message_counts_equal_pythons_mailbox(name: str) -> None:
    path = DATA / name
    ingester = MboxIngester(path)
    results = scan(ingester)
    expected = len(mailbox.mbox(str(path)))
    assert len(results) == ingester.result.state["count"] == expected
    assert all(isinstance(r, RawItem) for r in results)
    titles = [r.title for r in items_of(results)]
    assert len(set(titles)) == expected  # each message is its own, none merged


def test_content_length_bodies_stay_whole() -> None:
    items = items_of(scan(MboxIngester(DATA / "content-length.mbox")))
    assert [i.body for i in items] == [f"Body {n}, exactly this long." for n in range(1, 6)]


def test_mbox_starting_with_a_byte_order_mark_is_read() -> None:
    items = items_of(scan(MboxIngester(DATA / "bom-start.mbox")))
    # Python's mailbox drops the first message here (its "From " line follows the mark).
    assert [i.title for i in items] == ["Message 1", "Message 2"]
    assert [i.external_id for i in items] == ["<m1@example.com>", "<m2@example.com>"]


DEV_MBOX = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "newsgroups-dev"


def test_the_dev_mbox_splits_like_pythons_mailbox() -> None:
    path = DEV_MBOX / "inbox.mbox"
    if not path.exists():
        pytest.skip(f"shared test data not found at {path}")
    with path.open("rb") as stream:
        count = sum(1 for _ in _split_mbox(stream))
    assert count == len(mailbox.mbox(str(path)))


def test_crlf_mbox(tmp_path: Path) -> None:
    raw = message("<1@x>", "One", "one") + message("<2@x>", "Two", "two")
    path = tmp_path / "crlf.mbox"
    path.write_bytes(raw.replace("\n", "\r\n").encode())
    items = items_of(scan(MboxIngester(path)))
    assert [(i.title, i.text) for i in items] == [("One", "one"), ("Two", "two")]


def test_duplicate_message_ids_get_stable_suffixes(tmp_path: Path) -> None:
    path = write_mbox(
        tmp_path / "inbox.mbox",
        message("<same@x>", "Original", "a"),
        message("<other@x>", "Other", "b"),
        message("<same@x>", "Copy", "c"),
        message("<same@x>", "Another copy", "d"),
    )
    ingester = MboxIngester(path)
    ids = [i.external_id for i in items_of(scan(ingester))]
    assert ids == ["<same@x>", "<other@x>", "<same@x>#dup1", "<same@x>#dup2"]
    assert ids == [i.external_id for i in items_of(scan(ingester))]


def test_missing_message_id_fallback_is_stable_across_scans(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "inbox.mbox", message(None, "No id", "body"))
    ingester = MboxIngester(path)
    (first,) = items_of(scan(ingester))
    (second,) = items_of(scan(ingester))
    assert first.external_id.startswith("sha256:")
    assert first.external_id == second.external_id


def test_empty_message_is_a_counted_failure(tmp_path: Path) -> None:
    path = write_mbox(
        tmp_path / "inbox.mbox",
        message("<1@x>", "First", "one"),
        SEPARATOR + "\n",
        message("<3@x>", "Third", "three"),
    )
    ingester = MboxIngester(path)
    results = scan(ingester)
    failures = [r for r in results if isinstance(r, IngestFailure)]
    assert [i.title for i in items_of(results)] == ["First", "Third"]
    assert len(failures) == 1
    assert failures[0].ref == f"{path}#message 2"
    assert "empty" in failures[0].reason
    assert ingester.result.complete is True
    assert ingester.result.state["count"] == 3


def test_empty_file_has_no_items(tmp_path: Path) -> None:
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"")
    ingester = MboxIngester(path)
    assert scan(ingester) == []
    assert ingester.result.complete is True
    assert ingester.result.state["count"] == 0


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.mbox"
    with pytest.raises(SourceError, match="does not exist") as info:
        scan(MboxIngester(path))
    assert str(path) in info.value.user_text()


def test_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="folder"):
        scan(MboxIngester(tmp_path))


def test_file_that_is_not_an_mbox_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "note.eml"
    path.write_bytes(b"From: a@x\nSubject: not an mbox\n\nbody\n")
    with pytest.raises(SourceError, match="not an mbox"):
        scan(MboxIngester(path))


def test_never_writes_or_locks(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "inbox.mbox", message("<1@x>", "First", "one"))
    path.chmod(0o444)
    tmp_path.chmod(0o555)  # a lock file could not be created (unless run as root)
    try:
        before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(tmp_path)))
        assert len(items_of(scan(MboxIngester(path)))) == 1
        after = (path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(tmp_path)))
        assert before == after
    finally:
        tmp_path.chmod(0o755)
        path.chmod(0o644)


def test_scan_is_lazy(tmp_path: Path) -> None:
    path = write_mbox(
        tmp_path / "inbox.mbox", *(message(f"<{n}@x>", f"S{n}", "b") for n in range(50))
    )
    scan_iter = MboxIngester(path).scan({})
    first = next(scan_iter)
    assert isinstance(first, RawItem)
    assert first.external_id == "<0@x>"
    assert first.meta["mbox_position"] == 1
