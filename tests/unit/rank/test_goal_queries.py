from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from focusdesk.rank.goal_queries import MAX_FACETS, goal_queries


def test_a_listed_goal_gets_one_facet_per_thing_with_its_theme() -> None:
    q = goal_queries(
        "I build hobby electronics: power supplies, op-amps, radar detectors, batteries "
        "and test equipment."
    )
    assert q[0].startswith("I build hobby electronics: power supplies")
    assert "I build hobby electronics: radar detectors" in q
    assert "I build hobby electronics: test equipment" in q
    assert len(q) == 6


def test_a_plain_goal_is_queried_as_written() -> None:
    assert goal_queries("Ship the firmware release") == ["Ship the firmware release"]
    assert goal_queries("Tickets: concerts") == ["Tickets: concerts"]


def test_title_and_description() -> None:
    q = goal_queries("Hire two engineers", "Find embedded engineers. Interviews - phone, onsite")
    assert q[0] == "Hire two engineers. Find embedded engineers. Interviews - phone, onsite"
    assert q[1] == "Hire two engineers"
    assert "Interviews: phone" in q
    assert "Interviews: onsite" in q


@given(st.text(max_size=300), st.text(max_size=300))
def test_never_empty_never_too_many_no_duplicates(title: str, description: str) -> None:
    q = goal_queries(title or "x", description)
    assert 1 <= len(q) <= MAX_FACETS
    assert len({x.casefold() for x in q}) == len(q)
    assert all(x.strip() for x in q)
