"""Extractive summaries: sentence splitting, the evidence sentence, no quoted replies, cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from focusdesk.review.summaries import Summariser, select_sentences, split_sentences

MAIL = """Hi all,

Dr. Smith measured the compost at 3.5 kg per bed,
see https://example.org/a.b/c.html for details. The tomato seedlings went in on Monday.
The garden needs more water.

- buy compost for the tomato beds
- fix the fence

On Mon, 3 Nov 2025, Bob <bob@example.org> wrote:
> Did you plant the tomatoes in the garden compost yet?
> Tomato garden compost planting is the plan.

Thanks, Ann
To unsubscribe from this list, click here.
"""


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_split_keeps_abbreviations_urls_and_numbers_together() -> None:
    got = texts(MAIL)
    assert got[1] == (
        "Dr. Smith measured the compost at 3.5 kg per bed, see "
        "https://example.org/a.b/c.html for details."
    )
    assert "The tomato seedlings went in on Monday." in got
    assert "The garden needs more water." in got


def test_split_bullets_are_sentences_and_quotes_are_dropped() -> None:
    got = texts(MAIL)
    assert "buy compost for the tomato beds" in got
    assert "fix the fence" in got
    assert not any("wrote:" in s or s.startswith(">") or "Did you plant" in s for s in got)
    assert not any("unsubscribe" in s.lower() for s in got)


def test_spans_point_into_the_text() -> None:
    for s in split_sentences(MAIL):
        assert " ".join(MAIL[s.start : s.end].split()) == s.text


def test_select_always_keeps_the_evidence_sentence() -> None:
    spans = [(0, 10), (11, 20), (21, 30), (31, 40), (41, 50)]
    scores = np.array([0.9, 0.8, 0.1, 0.7, 0.6])
    chosen, evidence = select_sentences(scores, spans, (21, 30))
    assert evidence == 2
    assert 2 in chosen
    assert chosen == sorted(chosen)
    assert 1 <= len(chosen) <= 3


def test_summary_contains_evidence_and_never_a_quoted_line(fd: Any, tmp_path: Path) -> None:
    fd.goals.add("tomato garden compost planting")
    summariser = Summariser(fd.ranker, tmp_path / "cache.json")
    goal_id = fd.goals.all()[0].id
    start = MAIL.index("The garden needs")
    span = (start, start + len("The garden needs more water."))
    summary = summariser.summarise(1, MAIL, goal_id, span)
    assert "The garden needs more water." in summary.sentences
    assert summary.evidence_index is not None
    assert summary.sentences[summary.evidence_index] == "The garden needs more water."
    assert 1 <= len(summary.sentences) <= 3
    for sentence in summary.sentences:
        assert not sentence.startswith(">")
        assert "Did you plant" not in sentence
        assert "wrote:" not in sentence


def test_summaries_are_cached_and_invalidated_by_goal_changes(fd: Any, tmp_path: Path) -> None:
    goal = fd.goals.add("tomato garden compost planting")
    cache = tmp_path / "cache.json"
    first = Summariser(fd.ranker, cache)
    a = first.summarise(1, MAIL, goal.id, None)
    first.save()
    assert cache.exists()
    encoded = fd.encoder.encoded
    again = Summariser(fd.ranker, cache).summarise(1, MAIL, goal.id, None)
    assert again == a
    assert fd.encoder.encoded == encoded  # served from the cache
    before = first._goal_key(goal.id)
    fd.goals.update(goal.id, title="guitar fence practice")
    assert Summariser(fd.ranker, cache)._goal_key(goal.id) != before


def test_long_unpunctuated_lines_are_split_per_line() -> None:
    lines = [f"Book number {n} by some author, paperback, good condition" for n in range(8)]
    text = "I sell these books:\n" + "\n".join(lines) + "\n"
    got = texts(text)
    assert got[0].startswith("I sell these books:")
    assert all(len(s) < 100 for s in got)
    assert lines[3] in got


def test_fragments_like_a_signature_name_are_not_chosen(fd: Any, tmp_path: Path) -> None:
    goal = fd.goals.add("tomato garden compost planting")
    text = (
        "The tomato garden needs compost before planting. We planted tomato seedlings "
        "in the garden on Monday. The compost came from the garden centre. Water the "
        "garden daily.\nDonald B\n"
    )
    summary = Summariser(fd.ranker, tmp_path / "c.json").summarise(1, text, goal.id, None)
    assert summary.sentences
    assert "Donald B" not in summary.sentences


PROPOSAL = """Team,

Proposal: move the project mailing list to Discourse by June.
The old archive stays readable. Nobody loses their history.

Ann
--
You are on the dev mailing list. Opt out at any time.
"""


def test_an_evidence_line_that_looks_like_boilerplate_is_kept(fd: Any, tmp_path: Path) -> None:
    goal = fd.goals.add("move the mailing list to a forum")
    start = PROPOSAL.index("Proposal:")
    span = (start, PROPOSAL.index("\n", start))
    summary = Summariser(fd.ranker, tmp_path / "cache.json").summarise(1, PROPOSAL, goal.id, span)
    assert summary.evidence_index is not None
    assert summary.sentences[summary.evidence_index].startswith("Proposal: move the project")
    # The footer saying the same words is still boilerplate.
    assert not any("Opt out" in s or "You are on" in s for s in texts(PROPOSAL))


def test_usenet_and_supercite_quotes_are_never_sentences() -> None:
    text = (
        "In article <1@example.org>, bob@example.org writes:\n"
        "|> The regulator overheats at two amps.\n"
        "BB> Use a bigger heat sink on the regulator.\n\n"
        "I fitted a bigger heat sink and the regulator runs cool now.\n"
    )
    got = texts(text)
    assert got == ["I fitted a bigger heat sink and the regulator runs cool now."]


def test_quoting_marks_after_an_attribution_are_quotes_too() -> None:
    text = (
        "Bob wrote:\n"
        ": The regulator overheats at two amps.\n\n"
        "It runs cool with the bigger heat sink. Thanks for the tip.\n"
    )
    assert texts(text) == ["It runs cool with the bigger heat sink.", "Thanks for the tip."]
