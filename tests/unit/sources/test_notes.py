from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from focusdesk.errors import SourceError
from focusdesk.sources import notes
from focusdesk.sources.base import Ingester, IngestFailure, RawItem
from focusdesk.sources.notes import NotesIngester


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_is_an_ingester(tmp_path: Path) -> None:
    ingester: Ingester = NotesIngester(tmp_path)  # mypy checks the protocol
    assert ingester.kind == "notes"


def scan_all(root: Path, state: dict[str, object] | None = None) -> list[RawItem | IngestFailure]:
    return list(NotesIngester(root).scan(state or {}))


def items_by_id(root: Path) -> dict[str, RawItem]:
    return {r.external_id: r for r in scan_all(root) if isinstance(r, RawItem)}


def one(root: Path, rel: str, content: str | bytes) -> RawItem:
    write(root, rel, content)
    return items_by_id(root)[rel]


# --- titles ---------------------------------------------------------------------------


def test_title_from_front_matter(tmp_path: Path) -> None:
    note = one(tmp_path, "a.md", "---\ntitle: Launch plan\n---\n# Heading\nBody")
    assert note.title == "Launch plan"


def test_title_from_first_h1(tmp_path: Path) -> None:
    note = one(tmp_path, "a.md", "Intro line\n\n# The [[Real]] title\n\n# Second\n")
    assert note.title == "The Real title"


def test_title_falls_back_to_file_stem(tmp_path: Path) -> None:
    note = one(tmp_path, "Daily/2023-09-12.md", "## Notes\n\nMet Steph.")
    assert note.title == "2023-09-12"


def test_heading_inside_code_is_not_a_title(tmp_path: Path) -> None:
    note = one(tmp_path, "script.md", "```sh\n# not a title\nls\n```\n")
    assert note.title == "script"


# --- tags ------------------------------------------------------------------------------


def test_tags_from_front_matter_list_and_inline(tmp_path: Path) -> None:
    text = "---\ntags:\n  - project\n  - '#urgent'\n---\nWork on #roadmap/q3 and #Project today.\n"
    note = one(tmp_path, "a.md", text)
    assert note.meta["tags"] == ["project", "urgent", "roadmap/q3"]
    assert "roadmap/q3" in note.text
    assert "#" not in note.text


def test_tags_from_front_matter_string(tmp_path: Path) -> None:
    note = one(tmp_path, "a.md", "---\ntags: reading, books  fiction\n---\nText")
    assert note.meta["tags"] == ["reading", "books", "fiction"]


def test_hashes_that_are_not_tags(tmp_path: Path) -> None:
    text = (
        "# Heading\n"
        "Issue #123 and C# code, see [docs](https://x.org/page#section), [[Note#Part]].\n"
        "Inline `#notatag` code and &#8212; entity.\n"
        "```\n#fenced_not_a_tag\n```\n"
        "#realtag at the start of a line\n"
    )
    note = one(tmp_path, "a.md", text)
    assert note.meta["tags"] == ["realtag"]
    assert "#notatag" in note.text  # code keeps its text
    assert "#fenced_not_a_tag" in note.text


# --- wikilinks, embeds and Markdown ----------------------------------------------------------


def test_wikilinks_shown_as_alias_or_target(tmp_path: Path) -> None:
    text = "Read [[Out of Control|the book]] and [[Emergence]], also [[Kyoto#Temples]].\n"
    note = one(tmp_path, "a.md", text)
    assert note.text == "Read the book and Emergence, also Kyoto > Temples."
    assert note.meta["links"] == ["Out of Control", "Emergence", "Kyoto"]
    assert "[[Out of Control|the book]]" in note.body


def test_front_matter_wikilinks_are_links(tmp_path: Path) -> None:
    note = one(tmp_path, "a.md", '---\ncategories:\n  - "[[Meetings]]"\n---\nSee [[Steph]]')
    assert note.meta["links"] == ["Steph", "Meetings"]


def test_embeds_removed_from_text(tmp_path: Path) -> None:
    note = one(tmp_path, "a.md", "Before ![[photo.png]] after\n\n![[Daily.base]]\n")
    assert note.text == "Before after"
    assert note.meta["embeds"] == ["photo.png", "Daily.base"]
    assert note.meta["links"] == []


def test_markdown_reduced_to_text(tmp_path: Path) -> None:
    text = (
        "## Plan\n"
        "- [ ] Write **the** *draft*\n"
        '- [x] Read [the spec](https://example.com/spec "Spec")\n'
        "> [!note] Remember\n"
        "> quoted ~~old~~ ==key== point\n"
        "![diagram](img/d.png)\n"
        '<div align="center">Centered<br>text</div>\n'
        "Footnote[^1] &amp; <https://example.org>\n"
        "\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
        "\n---\n"
        "```python\nprint('hi')\n```\n"
        "%% hidden comment %%\n"
        "[^1]: The note.\n"
        "[spec]: https://example.com\n"
    )
    note = one(tmp_path, "a.md", text)
    assert note.text == (
        "Plan\nWrite the draft\nRead the spec\nRemember\nquoted old key point\ndiagram\n"
        "Centered\ntext\n\nFootnote & https://example.org\n\na b\n1 2\n\nprint('hi')"
    )
    assert note.body == text.rstrip()


def test_snake_case_is_not_emphasis(tmp_path: Path) -> None:
    note = one(tmp_path, "a.md", "call my_func_name and a * b * c")
    assert note.text == "call my_func_name and a * b * c"


def test_txt_note_is_not_markdown(tmp_path: Path) -> None:
    note = one(tmp_path, "plain.TXT", "Shopping  list\n# not a heading\n[[not a link]]")
    assert note.title == "plain"
    assert note.text == "Shopping list\n# not a heading\n[[not a link]]"
    assert note.meta["links"] == []


# --- front matter ------------------------------------------------------------------------


def test_malformed_front_matter_still_ingested(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "---\ntitle: [unclosed\ntags: a\n---\n# Kept heading\nThe body survives.\n"
    with caplog.at_level(logging.WARNING, logger="focusdesk.sources.notes"):
        note = one(tmp_path, "bad.md", text)
    assert note.title == "Kept heading"
    assert note.meta["front_matter"] == {}
    assert note.meta["tags"] == []
    assert "front_matter_error" in note.meta
    assert note.text == "Kept heading\nThe body survives."
    assert "unclosed" not in note.body
    assert any("bad.md" in r.getMessage() for r in caplog.records)


def test_front_matter_that_is_not_a_mapping_is_ignored(tmp_path: Path) -> None:
    note = one(tmp_path, "list.md", "---\n- a\n- b\n---\nBody")
    assert note.meta["front_matter"] == {}
    assert note.text == "Body"


def test_unclosed_front_matter_is_text(tmp_path: Path) -> None:
    note = one(tmp_path, "a.md", "---\nnot front matter, just a rule above\n")
    assert note.text == "not front matter, just a rule above"


def test_template_placeholders_do_not_break_front_matter(tmp_path: Path) -> None:
    text = "---\ncreated: {{date}}\ntags:\n  - to-read\n---\n## Notes\n"
    note = one(tmp_path, "Templates/Book.md", text)
    assert note.meta["tags"] == ["to-read"]
    assert note.meta["front_matter"]["created"] == "{{date}}"
    assert "front_matter_error" not in note.meta


def test_front_matter_is_json_safe_and_dates_used(tmp_path: Path) -> None:
    text = (
        "---\ndate: 2023-09-12\nupdated: 2023-09-13 10:30:00\nrating: 4.5\n"
        "nan: .nan\nnested: {a: [1, 2]}\n---\nBody"
    )
    note = one(tmp_path, "a.md", text)
    assert note.meta["front_matter"] == {
        "date": "2023-09-12",
        "updated": "2023-09-13T10:30:00",
        "rating": 4.5,
        "nan": "nan",
        "nested": {"a": [1, 2]},
    }
    assert note.published_at == datetime(2023, 9, 12, tzinfo=UTC)


def test_created_used_when_no_date_and_mtime_otherwise(tmp_path: Path) -> None:
    created = one(tmp_path, "a.md", "---\ncreated: 2021-05-01T08:00:00+02:00\n---\nx")
    assert created.published_at == datetime.fromisoformat("2021-05-01T08:00:00+02:00")
    path = write(tmp_path, "b.md", "---\ndate: someday\n---\nx")
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert items_by_id(tmp_path)["b.md"].published_at == datetime.fromtimestamp(1_700_000_000, UTC)


# --- folder walking, ids and state ---------------------------------------------------------


def test_hidden_files_and_folders_skipped(tmp_path: Path) -> None:
    write(tmp_path, "visible.md", "v")
    write(tmp_path, ".obsidian/workspace.md", "x")
    write(tmp_path, ".trash/deleted.md", "x")
    write(tmp_path, "sub/.hidden.md", "x")
    write(tmp_path, "sub/.git/notes.md", "x")
    write(tmp_path, "sub/Upper.MD", "u")
    write(tmp_path, "sub/long.Markdown", "l")
    write(tmp_path, "sub/list.txt", "t")
    write(tmp_path, "image.png", b"\x89PNG")
    write(tmp_path, "Everything.base", "filters: x")
    assert sorted(items_by_id(tmp_path)) == [
        "sub/Upper.MD",
        "sub/list.txt",
        "sub/long.Markdown",
        "visible.md",
    ]


def test_ids_urls_and_meta(tmp_path: Path) -> None:
    path = write(tmp_path, "Notes/Meeting with Steph.md", "Hello")
    note = items_by_id(tmp_path)["Notes/Meeting with Steph.md"]
    assert note.kind == "note"
    assert note.url == path.as_uri()
    assert note.url.startswith("file://")
    assert note.meta["path"] == str(path)


def test_state_and_changed_file_changes_content_hash(tmp_path: Path) -> None:
    path = write(tmp_path, "a.md", "First version")
    ingester = NotesIngester(tmp_path)
    (before,) = list(ingester.scan({}))
    assert isinstance(before, RawItem)
    info = path.stat()
    assert ingester.result.state == {"files": {"a.md": [info.st_size, info.st_mtime_ns]}}
    assert ingester.result.complete is True
    path.write_text("Second version", encoding="utf-8")
    (after,) = list(ingester.scan(ingester.result.state))
    assert isinstance(after, RawItem)
    assert after.external_id == before.external_id
    assert after.content_hash != before.content_hash
    (again,) = list(ingester.scan(ingester.result.state))
    assert isinstance(again, RawItem)
    assert again.content_hash == after.content_hash


def test_deleted_note_is_absent_from_a_complete_scan(tmp_path: Path) -> None:
    write(tmp_path, "keep.md", "k")
    gone = write(tmp_path, "gone.md", "g")
    ingester = NotesIngester(tmp_path)
    list(ingester.scan({}))
    gone.unlink()
    ids = [r.external_id for r in ingester.scan(ingester.result.state) if isinstance(r, RawItem)]
    assert ids == ["keep.md"]
    assert ingester.result.complete is True
    assert list(ingester.result.state["files"]) == ["keep.md"]


def test_encodings(tmp_path: Path) -> None:
    write(tmp_path, "bom.md", "\ufeff# Café\nnaïve".encode())
    write(tmp_path, "latin.md", "Crème brûlée \u201cquoted\u201d".encode("cp1252"))
    write(tmp_path, "utf16.md", "Grüße".encode("utf-16"))
    notes_ = items_by_id(tmp_path)
    assert notes_["bom.md"].title == "Café"
    assert notes_["bom.md"].text == "Café\nnaïve"
    assert notes_["latin.md"].text == "Crème brûlée \u201cquoted\u201d"
    assert notes_["utf16.md"].text == "Grüße"


def test_front_matter_only_note_is_an_item(tmp_path: Path) -> None:
    note = one(tmp_path, "Templates/Empty.md", "---\ncategories: []\n---\n")
    assert note.title == "Empty"
    assert note.text == ""


def test_too_large_note_is_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notes, "MAX_NOTE_BYTES", 10)
    write(tmp_path, "big.md", "x" * 100)
    write(tmp_path, "small.md", "ok")
    results = scan_all(tmp_path)
    failures = [r for r in results if isinstance(r, IngestFailure)]
    assert [f.ref for f in failures] == ["big.md"]
    assert "larger" in failures[0].reason
    assert [r.external_id for r in results if isinstance(r, RawItem)] == ["small.md"]


def test_unreadable_note_is_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "locked.md", "secret")
    write(tmp_path, "open.md", "fine")
    real_open = Path.open

    def fake_open(self: Path, *args: object, **kwargs: object) -> object:
        if self.name == "locked.md":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", fake_open)
    ingester = NotesIngester(tmp_path)
    results = list(ingester.scan({}))
    assert [(r.ref, r.reason) for r in results if isinstance(r, IngestFailure)] == [
        ("locked.md", "the note could not be read: Permission denied")
    ]
    assert [r.external_id for r in results if isinstance(r, RawItem)] == ["open.md"]
    assert list(ingester.result.state["files"]) == ["open.md"]


def test_unreadable_subfolder_makes_the_scan_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "ok/a.md", "a")
    write(tmp_path, "locked/b.md", "b")
    real_scandir = os.scandir

    def fake_scandir(path: str | os.PathLike[str]) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    ingester = NotesIngester(tmp_path)
    results = list(ingester.scan({}))
    assert [r.ref for r in results if isinstance(r, IngestFailure)] == ["locked/"]
    assert [r.external_id for r in results if isinstance(r, RawItem)] == ["ok/a.md"]
    # b.md was not seen, so the caller must not take it for deleted.
    assert ingester.result.complete is False


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path, "a/note.md", "n")
    (tmp_path / "a" / "loop").symlink_to(tmp_path, target_is_directory=True)
    assert sorted(items_by_id(tmp_path)) == ["a/note.md"]


def test_missing_root_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        scan_all(tmp_path / "missing")


def test_root_that_is_a_file_is_a_source_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.md", "x")
    with pytest.raises(SourceError, match="not a folder"):
        scan_all(path)


def test_never_writes_to_the_folder(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ntitle: x\n---\nBody #tag [[Link]]")
    write(tmp_path, "sub/b.txt", "b")

    def snapshot() -> list[tuple[str, int, int]]:
        return sorted(
            (str(p.relative_to(tmp_path)), p.stat().st_size, p.stat().st_mtime_ns)
            for p in tmp_path.rglob("*")
        )

    before = snapshot()
    scan_all(tmp_path)
    assert snapshot() == before


# --- crafted third-party shapes (issue 16) ---------------------------------------------

CRAFTED = Path(__file__).parents[2] / "data" / "notes"


def _no_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return not any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return all(_no_lone_surrogate(k) and _no_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_lone_surrogate(v) for v in value)
    return True


def _storable(item: RawItem) -> bool:
    fields = [item.external_id, item.title, item.text, item.body, item.author or "", item.url]
    return _no_lone_surrogate([*fields, item.meta])


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes on POSIX only")
def test_a_file_name_that_is_not_utf8_is_read_and_storable(tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9 \xff.md")
    with open(raw, "wb") as fh:
        fh.write(b"Body of a note with a Latin-1 name.")
    write(tmp_path, "sibling.md", "The sibling.")
    results = scan_all(tmp_path)
    assert all(isinstance(r, RawItem) for r in results)
    notes_read = {r.title: r for r in results if isinstance(r, RawItem)}
    assert set(notes_read) == {"caf\ufffd \ufffd", "sibling"}
    odd = notes_read["caf\ufffd \ufffd"]
    assert _storable(odd)
    assert odd.text == "Body of a note with a Latin-1 name."
    # The URL still names the real file: it can be opened.
    from urllib.parse import unquote_to_bytes, urlsplit

    assert unquote_to_bytes(urlsplit(odd.url or "").path) == raw


def test_lone_surrogates_in_front_matter_become_replacement_characters(tmp_path: Path) -> None:
    write(tmp_path, "a.md", (CRAFTED / "surrogate-front-matter.md").read_text("utf-8"))
    note = items_by_id(tmp_path)["a.md"]
    assert note.title == "Bad \ufffd title"
    assert note.meta["tags"] == ["t\ufffd", "ok"]
    assert note.meta["front_matter"]["author"] == "Ann \ufffd"
    assert _storable(note)


def test_repeated_comment_openers_take_linear_time(tmp_path: Path) -> None:
    seed = (CRAFTED / "comment-openers.md").read_text("utf-8")
    write(tmp_path, "a.md", seed * (125_000 // len(seed) + 1))  # 125 KB took 12 s
    start = time.perf_counter()
    note = items_by_id(tmp_path)["a.md"]
    assert time.perf_counter() - start < 3.0  # about 0.1 s; generous for a loaded CI
    assert note.text.startswith("<!--")  # unclosed comments are text


def test_blocks_are_read_by_a_markdown_parser(tmp_path: Path) -> None:
    write(tmp_path, "a.md", (CRAFTED / "headings-and-comments.md").read_text("utf-8"))
    note = items_by_id(tmp_path)["a.md"]
    assert note.title == "Setext title"
    assert "Not a heading" not in note.text
    assert "Visible  text  here." not in note.text
    assert "Visible" in note.text
    assert "a comment" not in note.text
    assert "hidden" not in note.text
    assert "#not_a_tag in code" in note.text
    assert "indented code #also_not_a_tag" in note.text
    assert note.meta["tags"] == ["realtag"]


def test_a_note_longer_than_the_parsed_line_limit_is_read_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notes, "MAX_PARSED_LINES", 3)
    note = one(tmp_path, "a.md", "# Title\n```\ncode #x\n```\nText #tag\n")
    assert note.title == "a"  # no block structure: no heading read
    assert "code" in note.text
    assert "Text tag" in note.text
