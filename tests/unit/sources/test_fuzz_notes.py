"""Fuzzing the notes reader: front matter and Markdown, as the ingester reads them (issue 16).

Properties: every file becomes a note or a counted failure (never an exception out of
the scan), nothing emitted holds a lone surrogate, and a 1 MB note is read in bounded
time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzz_inputs import FUZZ, TIME_BOUND_S, encoded, has_lone_surrogate, special_text, timed
from hypothesis import given
from hypothesis import strategies as st

from focusdesk.sources.base import IngestFailure, RawItem
from focusdesk.sources.notes import NotesIngester

MARKDOWN = [
    "# ",
    "## ",
    "```",
    "~~~",
    "    ",
    "> ",
    "> [!note] ",
    "- ",
    "- [ ] ",
    "1. ",
    "---",
    "===",
    "| a | b |",
    "|---|---|",
    "[[",
    "]]",
    "![[",
    "[x](",
    ")",
    "[^1]",
    "`",
    "**",
    "_",
    "==",
    "~~",
    "#tag",
    "<div>",
    "<br>",
    "<!--",
    "-->",
    "%%",
    "[ref]: http://x",
]
markdown_text = st.lists(st.one_of(special_text, st.sampled_from(MARKDOWN)), max_size=30).map(
    "".join
)

YAML = [
    "title: ",
    "tags: [",
    "tags:\n  - ",
    '"\\ud800"',
    '"\\udfff x"',
    "&a [*a]",
    "date: 2024-02-30",
    "created: ",
    "{{date}}",
    "!!python/object:os.system",
    "? ",
    ": ",
    "- ",
    "\n",
    "'",
    '"',
]
front_matter = st.lists(st.one_of(special_text, st.sampled_from(YAML)), max_size=12).map("".join)


@st.composite
def note_files(draw: st.DrawFn) -> bytes:
    text = ""
    if draw(st.booleans()):
        text = "---\n" + draw(front_matter) + draw(st.sampled_from(["\n---\n", "\n...\n", ""]))
    text += draw(markdown_text)
    text = text.replace("\n", draw(st.sampled_from(["\n", "\r\n", "\r"])))
    data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe"])) + encoded(text)
    return data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


def scan_one(data: bytes, name: bytes = b"note.md") -> list[RawItem | IngestFailure]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder).joinpath(name.decode("utf-8", "surrogateescape"))
        path.write_bytes(data)
        return list(NotesIngester(folder).scan({}))


def check_scan(results: list[RawItem | IngestFailure]) -> None:
    assert len(results) == 1
    assert isinstance(results[0], RawItem), results[0]  # a readable note is always read
    assert not has_lone_surrogate(list(vars(results[0]).values()))


NAMES = [b"note.md", b"caf\xe9.md", b"\xff\xfe.markdown", b"n\xed\xa0\x80.txt", b"\xe2\x82.md"]


@FUZZ
@given(note_files(), st.sampled_from(NAMES))
def test_any_note_is_read_and_storable(data: bytes, name: bytes) -> None:
    check_scan(scan_one(data, name))


WORST_NOTES = {
    "a 1 MB line": "word " * 200_000,
    "1 MB of comment openers": "<!--" * 250_000,
    "1 MB of Obsidian comment marks": "%% a " * 200_000,
    "1 MB of brackets": "[[![" * 250_000,
    "1 MB of footnote openers": "[^" * 500_000,
    "1 MB of backticks and text": "`a" * 500_000,
    "1 MB of one-character lines": "x\n" * 500_000,
    "1 MB of spaces": " " * 1_000_000,
    "deep quotes and lists": "> - " * 250_000,
    "an unclosed fence": "```\n" + "code #x\n" * 120_000,
    "1 MB of list items": "- x\n" * 250_000,
    "1 MB of table rows": "|a|b|\n" * 160_000,
    "1 MB of headings": "# h\n" * 250_000,
    "headings up to the parsed-line limit": "# h\n" * 39_999,
    "front matter of 1 MB": "---\nkey: " + "v" * 1_000_000 + "\n---\nBody",
    "a deep YAML flow sequence": "---\nx: " + "[" * 50_000 + "\n---\nBody",
}


@pytest.mark.parametrize("name", sorted(WORST_NOTES))
def test_worst_case_notes_are_read_in_bounded_time(name: str) -> None:
    data = WORST_NOTES[name].encode()
    assert len(data) <= 1_100_000
    results, seconds = timed(lambda: scan_one(data))
    if isinstance(results, BaseException):
        raise results
    check_scan(results)
    assert seconds < TIME_BOUND_S, f"{name}: {seconds:.1f} s"
