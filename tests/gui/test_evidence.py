"""Finding the ranked passage (quoted from the cleaned text) inside the full body."""

from __future__ import annotations

import time

from focusdesk.ui.evidence import find_evidence

NOTE = (
    "---\ntitle: Aeris v2\ntags: [firmware]\n---\n# Aeris v2 Firmware\n\n"
    "The v2 firmware for the **Aeris S2** sensor. See [[OTA update design]].\n\n"
    "## Why v2\n\n- v1 battery life is ~14 months.\n\nUnrelated closing words here.\n"
)


def test_verbatim_and_whitespace_changes() -> None:
    body = "Line one\nWe must send the\n  board deck by Friday.\n"
    assert find_evidence(body, "Line one") == (0, 8)
    assert find_evidence(body, "We must send the board deck by Friday.") == (9, 49)
    assert find_evidence(body, "   ") is None
    assert find_evidence("", "anything") is None


def test_markdown_marks_between_the_words_still_match() -> None:
    evidence = (
        "Aeris v2 Firmware\n\nThe v2 firmware for the Aeris S2 sensor. See OTA update "
        "design.\n\nWhy v2\n\nv1 battery life is ~14 months."
    )
    span = find_evidence(NOTE, evidence)
    assert span is not None
    a, b = span
    assert NOTE[a:b].startswith("Aeris v2 Firmware")
    assert NOTE[a:b].endswith("14 months")
    assert "Unrelated" not in NOTE[a:b]


def test_a_passage_that_is_not_there_is_not_found() -> None:
    assert find_evidence(NOTE, "Hiring two embedded engineers before December") is None
    # Common words scattered through the body do not add up to a match.
    assert find_evidence(NOTE, "the the for is here v2 words") is None


def test_long_bodies_stay_fast() -> None:
    body = " ".join(f"word{i % 997} filler text" for i in range(20_000))
    evidence = "a passage about battery passivation that appears nowhere in the body " * 3
    started = time.perf_counter()
    assert find_evidence(body, evidence) is None
    assert time.perf_counter() - started < 0.5
