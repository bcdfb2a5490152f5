"""Links between notes resolve the way Obsidian resolves them."""

from __future__ import annotations

from focusdesk.sources.note_links import NoteRef, link_target, resolve_note_link

NOTES = [
    NoteRef(1, "Trips/2023 Japan Trip.md", "Japan trip"),
    NoteRef(2, "Places/Kyoto.md", "Kyoto"),
    NoteRef(3, "Archive/Old/Kyoto.md", "Kyoto (old)"),
    NoteRef(4, "Nara.md", "Nara"),
    NoteRef(5, "Trips/Packing.md", "What to pack"),
]


def resolve(target: str, here: str = "Trips/2023 Japan Trip.md") -> int | None:
    found = resolve_note_link(target, here, NOTES)
    return found.item_id if found is not None else None


def test_by_name_anywhere_in_the_vault_shortest_path_first() -> None:
    assert resolve("Kyoto") == 2
    assert resolve("kyoto") == 2  # case does not matter
    assert resolve("Nara") == 4


def test_by_path_and_by_partial_path() -> None:
    assert resolve("Archive/Old/Kyoto") == 3
    assert resolve("Old/Kyoto") == 3
    assert resolve("Places/Kyoto.md") == 2


def test_markdown_links_are_relative_to_the_linking_note() -> None:
    assert resolve("Packing.md") == 5
    assert resolve("../Places/Kyoto.md") == 2


def test_a_note_in_the_same_folder_wins_a_tie() -> None:
    assert resolve("Kyoto", here="Archive/Old/Index.md") == 3


def test_by_title_when_no_file_has_the_name() -> None:
    assert resolve("What to pack") == 5


def test_missing_targets_resolve_to_nothing() -> None:
    assert resolve("Osaka") is None
    assert resolve("") is None


def test_link_target_decodes_the_reader_href() -> None:
    assert link_target("2023%20Japan%20Trip#Day%201") == ("2023 Japan Trip", "Day 1")
    assert link_target("Kyoto") == ("Kyoto", "")
